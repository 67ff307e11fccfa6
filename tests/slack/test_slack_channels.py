"""Group channels on Slack: private by default, and each one belongs to one running breakout."""

from __future__ import annotations

import pytest

from bot.sandbox.slack import SlackError
from tests.conftest import PROMPTS


def quotes_of(call, breakout_id: int) -> list[str]:
    summary = call.bot.core.summaries.build(breakout_id)
    return [q.text for section in summary.questions for q in section.quotes]


def test_group_channels_are_private_and_only_their_members_see_them(call_factory) -> None:
    call = call_factory()
    call.answer(call.breakout("start kindness-in-education groups=3"))
    groups = call.group_channels()
    assert len(groups) == 3 and all(c.is_private for c in groups)
    one, two = groups[0], groups[1]
    stranger = next(p for p in call.people if p.id in two.members and p.id not in one.members)
    # Someone from group 2 cannot see, join or post into group 1's channel, as in Slack.
    with pytest.raises(SlackError, match="method_not_supported_for_channel_type"):
        stranger.join(one)
    with pytest.raises(SlackError, match="not_in_channel"):
        stranger.post(one, "Hello from the wrong group")
    # A member's reply arrives as Slack sends it for a private channel (message.groups, channel_type
    # "group") and is captured.
    member = next(p for p in call.people if p.id in one.members)
    member.post(one, "Kindness is a habit we can practise.")
    event = call.sb.events()[-1]
    assert event.wait(5)
    assert event.payload["event"]["channel_type"] == "group"
    call.sb.wait_until(
        lambda: quotes_of(call, 1) == ["Kindness is a habit we can practise."],
        timeout=5,
        message="the reply in the private channel captured",
    )


def test_a_plan_can_make_the_group_channels_public(call_factory, tmp_path) -> None:
    import shutil

    prompts = tmp_path / "prompts-public"
    shutil.copytree(PROMPTS, prompts)
    plan = (prompts / "plans" / "kindness-in-education.yaml").read_text(encoding="utf-8")
    (prompts / "plans" / "open-kindness.yaml").write_text(plan + "\nchannels:\n  private: false\n", encoding="utf-8")
    call = call_factory(extra={"BREAKOUT_PROMPTS_DIR": str(prompts)})
    call.answer(call.breakout("start open-kindness groups=2"))
    groups = call.group_channels()
    assert [c.name for c in groups] == ["breakout-open-kindness-1", "breakout-open-kindness-2"]
    assert not any(c.is_private for c in groups)


def test_two_breakouts_of_one_plan_at_once_never_share_a_channel(call_factory) -> None:
    call = call_factory()
    sb = call.sb
    second_home = sb.add_channel("second-call", [call.fiona, *call.people])
    first = call.answer(call.breakout("start kindness-in-education groups=2"))
    second = call.answer(call.breakout("start kindness-in-education groups=2", channel=second_home))
    assert "(breakout 1)" in first and "(breakout 2)" in second, (first, second)
    names = [c.name for c in call.group_channels()]
    assert names == [
        "breakout-2-kindness-in-education-1",
        "breakout-2-kindness-in-education-2",
        "breakout-kindness-in-education-1",
        "breakout-kindness-in-education-2",
    ]
    mine = {c.name: c for c in call.group_channels()}
    a, b = mine["breakout-kindness-in-education-1"], mine["breakout-2-kindness-in-education-1"]
    assert a.id != b.id
    in_a = next(p for p in call.people if p.id in a.members)
    in_b = next(p for p in call.people if p.id in b.members)
    in_a.post(a, "Said in the first breakout.")
    assert sb.events()[-1].wait(5)
    in_b.post(b, "Said in the second breakout.")
    assert sb.events()[-1].wait(5)
    sb.wait_until(
        lambda: (
            quotes_of(call, 1) == ["Said in the first breakout."]
            and quotes_of(call, 2) == ["Said in the second breakout."]
        ),
        timeout=5,
        message="each reply in its own breakout",
    )
