"""The commands in discord.py's shape: stale commands, refusals in Discord's own words, the call's voice
channel kept in the database, and the core's hints worded the Discord way."""

from __future__ import annotations

from collections.abc import Iterator

import discord
import pytest
from discord import app_commands
from sqlalchemy import select

from bot.adapters.discord.errors import sentence
from bot.adapters.discord.people import Roles
from bot.sandbox.discord import DiscordSandbox
from bot.services.errors import BadArguments, PickAPlan, Role, Usage, only
from bot.store.models import Breakout
from tests.conftest import PROMPTS
from tests.core.harness import prompts_copy

from .harness import QUICK, SLOW, SLOW_TEXT_ONLY, DiscordCall


@pytest.fixture
def prompts(tmp_path):
    return prompts_copy(tmp_path, PROMPTS, {"quick": QUICK, "slow": SLOW, "slow-text": SLOW_TEXT_ONLY})


@pytest.fixture
def call(sandbox: DiscordSandbox, database_url: str, prompts) -> Iterator[DiscordCall]:
    c = DiscordCall(sandbox, database_url, prompts)
    yield c
    c.close()


async def _nothing(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("the old version", ephemeral=True)


def test_a_command_discord_still_shows_but_the_bot_no_longer_has_says_how_to_sync(call: DiscordCall) -> None:
    """After an upgrade without `breakout-bot discord-sync`: Discord still offers the old commands."""
    assert call.runtime is not None and call.thread is not None
    tree = call.runtime.bot.tree
    breakout = tree.get_command("breakout")
    assert isinstance(breakout, app_commands.Group)
    old_top = app_commands.Command(name="poll", description="an old command", callback=_nothing)
    old_sub = app_commands.Command(name="shuffle", description="an old subcommand", callback=_nothing)
    tree.add_command(old_top)
    breakout.add_command(old_sub)
    call.thread.call(tree.sync())  # what the previous version registered
    tree.remove_command("poll")
    breakout.remove_command("shuffle")  # the upgraded bot knows neither, and nobody synced

    for command in ("poll", "breakout shuffle"):
        reply = call.fiona.run_command(call.chat, command).wait(messages=1, timeout=15)
        assert reply.ephemeral, command
        assert "out of date" in reply.text and "breakout-bot discord-sync" in reply.text, reply.text
        assert "try again in a moment" not in reply.text
    # The commands the bot does know still work.
    assert "/breakout start" in call.fiona.run_command(call.chat, "breakout help").wait(messages=1).text


def test_refusals_name_discords_roles_not_a_workspace_admin(call: DiscordCall) -> None:
    bob = call.people[0]
    start = bob.run_command(call.chat, "breakout start", plan="slow").wait(messages=1, timeout=15)
    assert start.text.startswith("Only facilitators can start a breakout."), start.text
    assert "ask a server admin to give you the Facilitators role" in start.text
    # Organisers are configured by the role's id; the refusal names the role.
    summary = bob.run_command(call.chat, "summary").wait(messages=1, timeout=15)
    assert "Only organisers can" in summary.text
    assert "ask a server admin to give you the Organisers role" in summary.text, summary.text
    for text in (start.text, summary.text):
        assert "workspace" not in text


def test_without_roles_set_the_refusal_says_admins_decide(sandbox: DiscordSandbox, database_url, prompts) -> None:
    call = DiscordCall(sandbox, database_url, prompts, extra={"DISCORD_FACILITATOR_ROLES": ""})
    try:
        reply = call.fiona.run_command(call.chat, "breakout start", plan="slow").wait(messages=1, timeout=15)
        assert "Only facilitators" in reply.text and "facilitators are its admins" in reply.text, reply.text
    finally:
        call.close()


def test_the_calls_voice_channel_is_kept_with_the_breakout_not_in_a_topic(call: DiscordCall) -> None:
    sb = call.sb
    call.fiona.run_command(call.chat, "breakout start", plan="slow").wait(messages=1, timeout=15)
    assert all(sb.voice_channel_of(p).name.startswith("Group ") for p in call.people)
    assert all("call" not in (g.topic or "") for g in call.group_channels())  # nothing to parse back
    with call.runtime.app.db.transaction() as s:  # type: ignore[union-attr]
        assert s.scalar(select(Breakout.call_channel_id)) == str(call.call.id)
    call.restart()  # a new process: nothing in memory, and nothing read from the channels
    stop = call.fiona.run_command(call.chat, "breakout stop").wait(messages=1, timeout=15)
    assert "Stopped" in stop.text
    call.wait_for(lambda: not call.group_channels(), what="the channels to go")
    assert all(sb.voice_channel_of(p).id == call.call.id for p in call.people)


def test_the_cores_hints_in_discords_words() -> None:
    roles = Roles(facilitators=("Hosts",), organisers=("Organisers", "Editors"))
    pdf = BadArguments("PDF needs headless Chromium.", hint=Usage("summary", "format", ("html", "docx", "md")))
    assert (
        sentence(pdf, roles, None) == "PDF needs headless Chromium. Try /summary format:html, format:docx or format:md."
    )
    assert "format=" not in sentence(pdf, roles, None)
    assert sentence(only(Role.FACILITATOR, "start a breakout"), roles, None) == (
        "Only facilitators can start a breakout. If you should be one, ask a server admin to give you the Hosts role."
    )
    assert "one of the roles Organisers, Editors" in sentence(only(Role.ORGANISER, "pull it"), roles, None)
    no_plan = BadArguments("There is no plan called 'x'.", hint=PickAPlan())
    assert sentence(no_plan, roles, None).endswith("Start typing in plan: to pick one.")
    # Without a platform, the neutral wording (the command line, the logs).
    assert str(pdf) == "PDF needs headless Chromium. These work here: format html, format docx, format md."
