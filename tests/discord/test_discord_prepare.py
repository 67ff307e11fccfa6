"""`/breakout prepare` on Discord: the real bot (discord.py) against the sandbox.

Prepare makes the groups' channels and voice rooms with their people let in, and moves nobody; the start
after it makes no channel, moves the people into their rooms and posts.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.sandbox.discord import DiscordSandbox
from bot.sandbox.discord.model import GUILD_VOICE
from tests.conftest import PROMPTS
from tests.core.harness import prompts_copy

from .harness import SLOW, SLOW_TEXT_ONLY, DiscordCall


@pytest.fixture
def prompts(tmp_path):
    return prompts_copy(tmp_path, PROMPTS, {"slow": SLOW, "slow-text": SLOW_TEXT_ONLY})


@pytest.fixture
def call(sandbox: DiscordSandbox, database_url: str, prompts) -> Iterator[DiscordCall]:
    c = DiscordCall(sandbox, database_url, prompts)
    yield c
    c.close()


def channels_made(sb: DiscordSandbox, since: int) -> int:
    return sum(1 for c in sb.calls()[since:] if c.method == "POST" and c.route.endswith("/guilds/{guild_id}/channels"))


def test_prepare_then_start_makes_no_channel_and_moves_people_at_the_start(call: DiscordCall) -> None:
    sb = call.sb
    before = len(sb.calls())
    reply = call.fiona.run_command(call.chat, "breakout prepare", plan="slow").wait(messages=1, timeout=15)
    assert reply.ephemeral and "Prepared Quick check-in" in reply.text, reply.text
    assert "2 of 2 channels ready" in reply.text and "/breakout start slow" in reply.text, reply.text
    groups = call.group_channels()
    assert [g.name for g in groups] == ["breakout-slow-1", "breakout-slow-2"]
    members = [call.members_of(g) for g in groups]
    assert {p.id for m in members for p in m} == {p.id for p in call.people}
    rooms = [c for c in sb.channels_in(call.guild, type=GUILD_VOICE) if c.name.startswith("Group ")]
    assert len(rooms) == 2
    assert all(sb.voice_channel_of(p).id == call.call.id for p in call.people)  # nobody moved before the call
    assert all(call.bot_posts(g) == [] for g in groups)
    assert channels_made(sb, before) == 5  # the category, two text channels and two voice rooms

    status = call.fiona.run_command(call.chat, "breakout status").wait(messages=1, timeout=15)
    assert "is prepared, not started: 2 of 2 group channels ready" in status.text, status.text

    before = len(sb.calls())
    reply = call.fiona.run_command(call.chat, "breakout start", plan="slow").wait(messages=1, timeout=15)
    assert "Started Quick check-in" in reply.text and "2 groups" in reply.text, reply.text
    assert channels_made(sb, before) == 0
    assert call.group_channels() == groups
    for group, people in zip(groups, members, strict=True):
        room = next(r for r in rooms if r.name == f"Group {groups.index(group) + 1}")
        assert {p.id for p in sb.members_in_voice(room)} == {p.id for p in people}
        call.wait_for(lambda g=group: len(call.bot_posts(g)) == 2, what="the welcome and question 1")


def test_stop_of_a_prepared_breakout_tidies_its_channels(call: DiscordCall) -> None:
    reply = call.fiona.run_command(call.chat, "breakout prepare", plan="slow-text").wait(messages=1, timeout=15)
    assert "Prepared" in reply.text, reply.text
    refused = call.fiona.run_command(call.chat, "breakout broadcast", text="hello").wait(messages=1, timeout=15)
    assert "prepared but not started" in refused.text, refused.text
    group = call.group_channels()[0]
    person = call.members_of(group)[0]
    assert call.sb.can(person, group, 1 << 11)  # may send messages while prepared
    stop = call.fiona.run_command(call.chat, "breakout stop").wait(messages=1, timeout=15)
    assert "Dropped the prepared" in stop.text, stop.text
    # archive_at_end: the channel stays, read-only for the group, and nothing was said in it.
    assert not call.sb.can(person, group, 1 << 11)
    assert all(call.bot_posts(g) == [] for g in call.group_channels())
