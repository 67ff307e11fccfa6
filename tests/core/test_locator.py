"""Which breakout a command means: one order of fallbacks, stopping where each purpose needs it to."""

from __future__ import annotations

import pytest

from bot.domain.consent import Level
from bot.services.context import Actor
from bot.services.errors import NotFound
from bot.services.locator import Purpose, locate_breakout_id
from bot.services.port import PersonInfo
from tests.conftest import PROMPTS
from tests.core.harness import SLOW_PLAN, Call, prompts_copy

OTHER_PLAN = SLOW_PLAN.replace("title: Quick check-in", "title: Other check-in")


@pytest.fixture
def call(database_url, tmp_path):
    c = Call(database_url, prompts_copy(tmp_path, PROMPTS, {"slow": SLOW_PLAN, "other": OTHER_PLAN}), people=6)
    yield c
    c.close()


def started(call: Call, plan: str, channel: str) -> int:
    call.facilitator_types(f"start {plan}", channel=channel)
    return call.app.lifecycle.status(call.facilitator, channel_id=channel).breakout_id


def locate(call: Call, purpose: Purpose, *, actor: Actor | None = None, **where) -> int:
    return locate_breakout_id(call.app.core, actor or call.organiser, purpose=purpose, **where)


def test_a_number_wins_and_must_be_of_this_workspace(call):
    first = started(call, "slow", "main")
    second = started(call, "other", "side")
    for purpose in Purpose:
        assert locate(call, purpose, breakout_id=first, channel_id="side") == first
    stranger = Actor("local:T2", PersonInfo("UX", "Xena Stranger"), is_organiser=True, is_facilitator=True)
    with pytest.raises(NotFound, match=f"no breakout {second} here. /summary with no number"):
        locate(call, Purpose.SUMMARY, actor=stranger, breakout_id=second)
    with pytest.raises(NotFound, match=f"no breakout {second} here.$"):
        locate(call, Purpose.STEER, actor=stranger, breakout_id=second)


def test_the_channel_running_one_then_the_only_one_running_then_the_channels_last(call):
    ended = started(call, "slow", "main")
    call.facilitator_types("stop", channel="main")
    live = started(call, "other", "side")
    group_of_ended = "breakout-slow-1"
    # Steering wants a live breakout: the only one running beats the channel's ended one.
    assert locate(call, Purpose.STEER, channel_id="main") == live
    # A write-up or a naming choice belongs to the channel's own breakout, ended or not.
    assert locate(call, Purpose.SUMMARY, channel_id="main") == ended
    assert locate(call, Purpose.CONSENT, channel_id=group_of_ended) == ended
    assert locate(call, Purpose.SUMMARY, channel_id="breakout-other-1") == live
    call.facilitator_types("stop", channel="side")
    # Nothing runs: steering reaches the channel's last breakout, so it can say that it has ended.
    assert locate(call, Purpose.STEER, channel_id="main") == ended
    with pytest.raises(NotFound, match="No breakout is running"):
        locate(call, Purpose.STEER, channel_id="elsewhere")


def test_steering_asks_which_when_several_run_and_the_channel_names_none(call):
    first = started(call, "slow", "main")
    second = started(call, "other", "side")
    assert locate(call, Purpose.STEER, channel_id="main") == first
    assert locate(call, Purpose.STEER, channel_id="breakout-other-2") == second
    with pytest.raises(NotFound, match=rf"Several breakouts are running \({first} .*, {second} .*\)"):
        locate(call, Purpose.STEER, channel_id="elsewhere")


def test_without_a_channel_consent_is_for_the_persons_own_breakout_and_a_summary_for_the_newest(call):
    mine = started(call, "slow", "main")
    call.facilitator_types("stop", channel="main")
    outsider = call.actor("Bob")
    call.people = [p for p in call.people if p != outsider.person]  # not in the next breakout
    newest = started(call, "other", "side")
    assert locate(call, Purpose.CONSENT, actor=outsider) == mine
    result = call.app.consents.choose(outsider, level=Level.FIRST_NAME, via="command")
    assert result.breakout_id == mine
    assert locate(call, Purpose.SUMMARY) == newest == call.app.summaries.find(call.organiser)
    nobody = Actor(call.organiser.workspace, PersonInfo("UNEW", "Nina New"))
    with pytest.raises(NotFound, match="can't tell which breakout"):
        locate(call, Purpose.CONSENT, actor=nobody)


def test_an_empty_workspace_says_so_for_each_purpose(call):
    with pytest.raises(NotFound, match="No breakout is running"):
        locate(call, Purpose.STEER, channel_id="main")
    with pytest.raises(NotFound, match="no breakouts yet"):
        locate(call, Purpose.SUMMARY, channel_id="main")
    with pytest.raises(NotFound, match="can't tell which breakout"):
        locate(call, Purpose.CONSENT, channel_id="main")
