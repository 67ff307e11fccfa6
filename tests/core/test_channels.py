"""A channel belongs to one running breakout: two of one plan at once never share a group channel."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.domain.breakout import channel_name
from bot.domain.plan import parse_plan_data
from bot.services.port import PersonInfo
from bot.store.models import Breakout, Group, Quote
from tests.conftest import PROMPTS
from tests.core.harness import SLOW_PLAN, WORKSPACE, Call, prompts_copy


@pytest.fixture
def call(database_url, tmp_path):
    c = Call(database_url, prompts_copy(tmp_path, PROMPTS, {"slow": SLOW_PLAN}), time_scale=0.02, people=8)
    yield c
    c.close()


def _groups(call: Call, breakout_id: int) -> dict[int, tuple[str, str | None]]:
    with call.app.core.db.transaction() as s:
        rows = s.scalars(select(Group).where(Group.breakout_id == breakout_id))
        return {g.number: (g.name, g.channel_id) for g in rows}


def _breakout_ids(call: Call) -> list[int]:
    with call.app.core.db.transaction() as s:
        return list(s.scalars(select(Breakout.id).order_by(Breakout.id)))


def _quotes(call: Call, breakout_id: int) -> list[int]:
    """The group number of each quote captured into the breakout."""
    with call.app.core.db.transaction() as s:
        rows = s.execute(
            select(Group.number).join(Quote, Quote.group_id == Group.id).where(Quote.breakout_id == breakout_id)
        )
        return sorted(n for (n,) in rows)


def _say(call: Call, person: PersonInfo, channel_id: str, text: str, message_id: str) -> None:
    call.app.capture.message_posted(
        workspace=WORKSPACE,
        channel_id=channel_id,
        message_id=message_id,
        author=person,
        text=text,
        sent_at=dt.datetime.now(dt.UTC),
        thread_id=None,
    )


def test_channel_name_of_a_breakout_of_its_own():
    assert channel_name("quick", 2) == "breakout-quick-2"
    assert channel_name("quick", 2, breakout_id=17) == "breakout-17-quick-2"
    long = channel_name("a" * 41, 12, breakout_id=123456)
    assert len(long) <= 80 and long == long.lower() and long.endswith("-12") and "--" not in long


def test_two_breakouts_of_one_plan_at_once_keep_their_own_channels_and_replies(call):
    call.facilitator_types("start slow groups=2", channel="main")
    call.facilitator_types("start slow groups=2", channel="other")
    first, second = _breakout_ids(call)
    one, two = _groups(call, first), _groups(call, second)
    assert [name for name, _ in one.values()] == ["breakout-slow-1", "breakout-slow-2"]
    assert [name for name, _ in two.values()] == [f"breakout-{second}-slow-1", f"breakout-{second}-slow-2"]
    assert not {c for _, c in one.values()} & {c for _, c in two.values()}  # no channel shared
    assert None not in {c for _, c in (*one.values(), *two.values())}

    # Someone in group 1 of each breakout replies: each reply lands in its own breakout.
    in_first = next(p for p in call.people if p.user_id in call.chat.channels[one[1][1]])
    in_second = next(p for p in call.people if p.user_id in call.chat.channels[two[2][1]])
    _say(call, in_first, one[1][1], "A reply in the first breakout.", "1.0001")
    _say(call, in_second, two[2][1], "A reply in the second breakout.", "2.0001")
    assert _quotes(call, first) == [1] and _quotes(call, second) == [2]

    # Once the first has ended, a third of the same plan reuses the plain names again.
    call.facilitator_types("stop", channel="main")
    call.facilitator_types("start slow groups=2", channel="main")
    third = _breakout_ids(call)[-1]
    assert [name for name, _ in _groups(call, third).values()] == ["breakout-slow-1", "breakout-slow-2"]


def test_a_rerun_never_takes_over_a_channel_of_another_running_breakout(call):
    """A re-run after a crash finds a channel under its name that another running breakout holds:
    it makes its own instead."""
    call.facilitator_types("start slow groups=2", channel="main")
    call.facilitator_types("start slow groups=2", channel="other")
    first, second = _breakout_ids(call)
    with call.app.core.db.transaction() as s:  # as stored by a start that raced the first one
        for g in s.scalars(select(Group).where(Group.breakout_id == second)):
            g.name, g.channel_id = channel_name("slow", g.number), None
    call.app.lifecycle.open_channels(second)
    one, two = _groups(call, first), _groups(call, second)
    assert [name for name, _ in two.values()] == [f"breakout-{second}-slow-1", f"breakout-{second}-slow-2"]
    assert not {c for _, c in one.values()} & {c for _, c in two.values()}
    # The first breakout's channels got no second welcome.
    assert [len(call.posts_in(c, "welcome")) for _, c in one.values()] == [1, 1]


def test_group_channels_are_private_unless_the_plan_says_otherwise():
    base = {"title": "T", "questions": [{"text": "Q?", "minutes": 5}]}
    assert parse_plan_data(base, slug="t").private_channels is True
    public = parse_plan_data({**base, "channels": {"private": False}}, slug="t")
    assert public.private_channels is False
    assert parse_plan_data(public.to_dict(), slug="t").private_channels is False
    from bot.domain.plan import PlanInvalid

    with pytest.raises(PlanInvalid) as caught:
        parse_plan_data({**base, "channels": {"private": "nope"}}, slug="t")
    assert "channels.private must be true or false" in str(caught.value)
