"""A whole breakout in a Slack workspace: the real bot (slack-bolt) against the sandbox, both modes."""

from __future__ import annotations

import pytest

MODES = ["socket", "http"]


@pytest.mark.parametrize("mode", MODES)
def test_whole_session(call_factory, mode: str) -> None:  # noqa: ANN001
    call = call_factory(mode=mode)
    sb = call.sb
    started = call.breakout("start kindness-in-education groups=3")
    text = call.answer(started)
    assert text.startswith("Started Kindness in Education (breakout 1): 3 groups"), text
    groups = call.group_channels()
    assert [c.name for c in groups] == [f"breakout-kindness-in-education-{n}" for n in (1, 2, 3)]
    participants = {p.id for p in call.people} | {call.olu.id}
    # Fiona (an admin, so a facilitator by default) is in every group to listen, in none as a participant.
    members = [set(c.members) - {sb.bot.id, call.fiona.id} for c in groups]
    assert set().union(*members) == participants and sum(map(len, members)) == len(participants)
    assert all(call.fiona.id in c.members for c in groups)
    assert len(sb.calls("conversations.invite")) == 3  # one invite call per channel
    for c in groups:
        welcome, question = call.posts(c)
        assert welcome["blocks"][0]["text"]["text"] == "Kindness in Education"
        assert welcome["blocks"][-1]["type"] == "actions"
        assert question["blocks"][0]["text"]["text"] == "Question 1 of 2"
