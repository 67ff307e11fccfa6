"""Capture on Discord never reorders, and quotes only a group's members: the real bot (discord.py)
against the sandbox."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.sandbox.discord import DiscordSandbox
from bot.sandbox.discord import model as m
from bot.sandbox.discord.gateway import Intents
from tests.conftest import PROMPTS
from tests.core.harness import prompts_copy

from .harness import SLOW, DiscordCall


@pytest.fixture
def prompts(tmp_path):
    return prompts_copy(tmp_path, PROMPTS, {"slow": SLOW})


@pytest.fixture
def call(sandbox: DiscordSandbox, database_url: str, prompts) -> Iterator[DiscordCall]:
    c = DiscordCall(sandbox, database_url, prompts)
    c.fiona.run_command(c.chat, "breakout start", plan="slow").wait(messages=1, timeout=15)
    yield c
    c.close()


def quotes(call: DiscordCall) -> list[str]:
    assert call.runtime is not None
    with call.runtime.app.db.transaction() as s:
        return list(s.execute(sa.text("select text from quotes order by id")).scalars())


def test_an_older_edit_delivered_again_after_a_newer_one_loses(call: DiscordCall) -> None:
    group = call.group_channels()[0]
    person = call.members_of(group)[0]
    message = person.say(group, "v1")
    person.edit(message, "v2")
    guild_member = call.guild.members[person.id]
    v2 = copy.deepcopy(call.sb._message_payload(message, member=guild_member))  # MESSAGE_UPDATE as sent for v2
    person.edit(message, "v3")
    call.wait_for(lambda: quotes(call) == ["v3"], what="edit 3 stored")
    # The gateway delivers edit 2 again (a replay after RESUME), after edit 3.
    call.sb._dispatch_guild_event("MESSAGE_UPDATE", v2, Intents.GUILD_MESSAGES)
    person.say(group, "after the replay")  # handled after it, in the channel's order
    call.wait_for(lambda: len(quotes(call)) == 2, what="the next message")
    assert quotes(call) == ["v3", "after the replay"]


def let_in(channel: m.Channel, member) -> None:
    """Someone with access to a channel that is not their group's (given by hand, say)."""
    allow = m.P.VIEW_CHANNEL | m.P.SEND_MESSAGES | m.P.READ_MESSAGE_HISTORY
    channel.overwrites.append(m.Overwrite(id=member.id, type=1, allow=allow))


def test_only_the_groups_members_are_quoted_and_others_are_told_kindly(call: DiscordCall) -> None:
    one, two = call.group_channels()[:2]
    visitor = call.members_of(one)[0]  # a participant of group 1
    own = next(p for p in call.members_of(two) if p is not visitor)
    stranger = call.sb.add_member(call.guild, "stan")  # not in the breakout at all
    let_in(two, visitor)
    let_in(two, stranger)
    visitor.say(two, "Hello from group 1")
    visitor.say(two, "Still here")
    stranger.say(two, "Hi, what is this?")
    own.say(two, "Ours to say")
    call.wait_for(lambda: quotes(call) == ["Ours to say"], what="the member's quote")
    for who in (visitor, stranger):
        call.wait_for(lambda who=who: any("not in that group" in d.content for d in who.dms()), what="told")
        assert sum("not in that group" in d.content for d in who.dms()) == 1  # once, privately
    assert any("Your own group is group 1" in d.content for d in visitor.dms())
    assert quotes(call) == ["Ours to say"]
