"""A close finishes whatever happens to one person or one group (Discord, voice rooms)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.domain.timeline import Step, StepKind
from bot.sandbox.discord import DiscordSandbox
from bot.sandbox.discord.model import GUILD_CATEGORY, GUILD_VOICE
from bot.sandbox.discord.rest import APIError
from bot.store.models import Post
from tests.conftest import PROMPTS
from tests.core.harness import prompts_copy

from .harness import SLOW, DiscordCall

MOVE = "/guilds/{guild_id}/members/{user_id}"


@pytest.fixture
def prompts(tmp_path):
    return prompts_copy(tmp_path, PROMPTS, {"slow": SLOW})


@pytest.fixture
def call(sandbox: DiscordSandbox, database_url: str, prompts) -> Iterator[DiscordCall]:
    c = DiscordCall(sandbox, database_url, prompts)
    yield c
    c.close()


def start(call: DiscordCall, text: str = "breakout start") -> str:
    return call.fiona.run_command(call.chat, text, plan="slow").wait(messages=1, timeout=15).text


def stop(call: DiscordCall) -> str:
    return call.fiona.run_command(call.chat, "breakout stop").wait(messages=1, timeout=15).text


def close_steps(call: DiscordCall) -> dict[int, str]:
    assert call.runtime is not None
    with call.runtime.app.core.db.transaction() as s:
        rows = s.scalars(select(Post).where(Post.step == Step(StepKind.CHANNEL_CLOSED).key))
        return {p.group_number: p.state for p in rows}


def test_the_sandbox_answers_40032_for_someone_not_in_voice(call: DiscordCall) -> None:
    outsider = call.olu  # never joined voice
    with pytest.raises(APIError) as caught:
        call.sb._move_member(call.guild, outsider.member, call.call.id, by_bot=True)
    assert caught.value.code == 40032 and "not connected to voice" in str(caught.value)


def test_someone_hanging_up_as_the_breakout_stops_does_not_stop_the_close(call: DiscordCall) -> None:
    sb = call.sb
    assert "Started" in start(call)
    rooms = sb.channels_in(call.guild, type=GUILD_VOICE)
    rooms = [r for r in rooms if r.name.startswith("Group ")]
    assert len(rooms) == 2
    in_room = [sb.members_in_voice(r) for r in rooms]
    leaver = in_room[0][0]  # hangs up just as the bot moves them back
    sb.hang_up_when_moved(leaver)
    answer = stop(call)
    assert "Stopped" in answer and "problem" not in answer.lower(), answer
    call.wait_for(lambda: not call.group_channels(), what="every group's text channel tidied")
    call.wait_for(
        lambda: not [c for c in sb.channels_in(call.guild, type=GUILD_VOICE) if c.name.startswith("Group ")],
        what="every voice room deleted",
    )
    assert sb.voice_channel_of(leaver) is None  # hung up
    for person in [p for people in in_room for p in people if p.id != leaver.id]:
        assert sb.voice_channel_of(person).id == call.call.id, person.name  # the rest are back in the call
    assert not sb.channels_in(call.guild, type=GUILD_CATEGORY)
    assert close_steps(call) == {1: "sent", 2: "sent"}


def test_a_failed_move_back_is_retried_until_the_close_is_done(call: DiscordCall) -> None:
    sb = call.sb
    assert "Started" in start(call)
    rooms = [r for r in sb.channels_in(call.guild, type=GUILD_VOICE) if r.name.startswith("Group ")]
    everyone = [p for r in rooms for p in sb.members_in_voice(r)]
    sb.inject_server_error("PATCH", MOVE, times=1, status=503)  # Discord has a bad moment on one move
    answer = stop(call)
    assert "Stopped" in answer and "closing the channel" in answer, answer
    # The other people of that group were still moved back, and the other group closed as usual.
    assert sum(sb.voice_channel_of(p).id == call.call.id for p in everyone) == len(everyone) - 1
    # The clock tries again (with backoff) until the close is done.
    call.wait_for(lambda: all(sb.voice_channel_of(p).id == call.call.id for p in everyone), what="everyone back")
    call.wait_for(lambda: close_steps(call) == {1: "sent", 2: "sent"}, what="both close steps done")
    assert not [c for c in sb.channels_in(call.guild, type=GUILD_VOICE) if c.name.startswith("Group ")]
    assert not call.group_channels()


def test_a_start_that_could_not_make_a_voice_room_tidies_its_text_channel_at_the_end(call: DiscordCall) -> None:
    sb = call.sb
    # The server is nearly full (Discord allows 500 channels): the category and the group's text
    # channel fit, its voice room does not.
    for i in range(500 - len(sb.channels_in(call.guild)) - 2):
        sb.add_text_channel(call.guild, f"filler-{i}")
    answer = (
        call.fiona.run_command(call.chat, "breakout start", plan="slow", groups=1).wait(messages=1, timeout=15).text
    )
    assert "group 1" in answer and "voice room" in answer, answer
    [text] = call.group_channels()
    assert text.name == "breakout-slow-1"
    stop(call)
    call.wait_for(lambda: not call.group_channels(), what="the text channel tidied, not left behind")
    assert not sb.channels_in(call.guild, type=GUILD_CATEGORY)
    assert close_steps(call) == {1: "sent"}


def test_two_breakouts_of_one_plan_at_once_keep_their_own_channels_and_rooms(call: DiscordCall) -> None:
    sb = call.sb
    other = sb.add_text_channel(call.guild, "second-call")
    assert "Started" in start(call)
    for person in call.people:  # back in the main call, for a second breakout of the same plan
        person.join_voice(call.call)
    second = call.fiona.run_command(other, "breakout start", plan="slow").wait(messages=1, timeout=15).text
    assert "Started" in second and "(breakout 2)" in second, second
    names = sorted(c.name for c in call.group_channels())
    assert names == ["breakout-2-slow-1", "breakout-2-slow-2", "breakout-slow-1", "breakout-slow-2"]
    rooms = sorted(c.name for c in sb.channels_in(call.guild, type=GUILD_VOICE) if c.name.startswith("Group "))
    assert rooms == ["Group 1", "Group 1 · breakout 2", "Group 2", "Group 2 · breakout 2"]
    mine = {c.name: c for c in call.group_channels()}
    a, b = mine["breakout-slow-1"], mine["breakout-2-slow-1"]
    in_a = next(p for p in call.people if p.can_see(a))
    in_b = next(p for p in call.people if p.can_see(b))
    in_a.say(a, "Said in the first breakout")
    in_b.say(b, "Said in the second breakout")
    assert call.runtime is not None
    summaries = call.runtime.app.summaries

    def quotes(breakout_id: int) -> list[str]:
        return [q.text for section in summaries.build(breakout_id).questions for q in section.quotes]

    call.wait_for(
        lambda: quotes(1) == ["Said in the first breakout"] and quotes(2) == ["Said in the second breakout"],
        what="each reply in its own breakout",
    )
