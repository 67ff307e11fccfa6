"""The application commands, in discord.py's own shape: a ``GroupCog`` for ``/breakout <subcommand>``
and a cog for ``/summary`` and the message menus, loaded in ``setup_hook``.

Each handler defers at once (Discord allows 3 seconds), runs the blocking core in a worker thread
(``bot.blocking``), and answers privately; what fails goes to the cogs' one error hook
(``cog_app_command_error``), worded by ``.errors``. Options map straight onto the core's command
model; nothing is parsed from text. Commands are registered with Discord by ``sync_commands`` (a CLI step),
never on start-up: Discord limits how many commands an application may create per day.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.consent import MAX_CHOSEN_NAME, Level
from bot.services.commands import BreakoutCommand, SummaryCommand
from bot.services.errors import BadArguments
from bot.services.pack import CallChatFile

from .errors import answer_error
from .events import where_captured
from .people import participant_pool, workspace_of
from .port import clip
from .text import NO_MENTIONS, for_discord

if TYPE_CHECKING:
    from .client import BreakoutBot

log = logging.getLogger(__name__)

HELP = """**/breakout** runs breakout discussions in this call.
`/breakout start plan:<pick> [groups:N | size:N] [minutes:N] [role:@role] [include_facilitators:True]`: split the people in your voice channel (or the role, or this channel) into groups
`/breakout status`: which question, time left, groups, quotes so far
`/breakout next`: skip ahead (ends the breakout after the last question)
`/breakout extend minutes:N`: more time for this question
`/breakout broadcast text:...`: post to every group
`/breakout pause` · `/breakout resume` · `/breakout stop`
`/breakout consent level:...`: how you may be named if quoted · `/breakout name your_name:...`
`/breakout forget-me`: delete everything stored about you · `/breakout my-data`: a file of everything stored about you
`/summary [breakout_number:N] [by:question|group] [format:md|html|docx|pdf] [highlights:True]`: the write-up, privately, as a file
`/summary import_chat:<the call's Zoom chat file>`: add the call's own chat to the write-up (organisers)
React ⭐ to a quote (facilitators, organisers) to make it a highlight; react 🚫 to your own message, or use Apps → *Leave out of write-up*, to take it out; take the reaction back (or *Put back in write-up*) to undo"""

#: How long Discord may take to hand over an uploaded chat file.
FETCH_TIMEOUT = 30.0
# Discord allows 2,000 characters a message: the summary preview stops short of that, and a broadcast
# leaves room for the bot's own header around it.
PREVIEW_LIMIT = 1900
BROADCAST_LIMIT = 1500

LEVEL_CHOICES = [
    app_commands.Choice(name="Use my full name", value=Level.FULL_NAME.value),
    app_commands.Choice(name="First name only", value=Level.FIRST_NAME.value),
    app_commands.Choice(name="Initials only", value=Level.INITIALS.value),
    app_commands.Choice(name="Quote me anonymously", value=Level.ANONYMOUS.value),
    app_commands.Choice(name="Don't quote me", value=Level.NOT_QUOTED.value),
]


def _bot(interaction: discord.Interaction) -> BreakoutBot:
    return interaction.client  # type: ignore[return-value]


async def answer(interaction: discord.Interaction, work: Callable[[], str]) -> None:
    """Defer privately, run ``work`` off the loop, send its reply privately. A failure goes to the
    cog's error hook (``Answering.cog_app_command_error``), which words it."""
    bot = _bot(interaction)
    await interaction.response.defer(ephemeral=True, thinking=True)
    reply = await bot.blocking(work)
    await interaction.followup.send(clip(for_discord(reply)), ephemeral=True, allowed_mentions=NO_MENTIONS)


def _run(interaction: discord.Interaction, command: BreakoutCommand, **extra: Any) -> Callable[[], str]:
    bot = _bot(interaction)
    assert interaction.guild is not None
    actor = bot.roles.actor(interaction.user, interaction.guild.id)
    channel_id = str(interaction.channel_id)
    return lambda: bot.app.run_breakout_command(actor, command, channel_id=channel_id, **extra)


async def plan_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    bot = _bot(interaction)
    entries = await bot.blocking(bot.app.plans.entries)
    needle = current.strip().lower()
    choices = []
    for entry in entries:
        if entry.plan is None:
            continue
        label = f"{entry.plan.title} ({entry.slug})"
        if needle in entry.slug.lower() or needle in entry.plan.title.lower():
            choices.append(app_commands.Choice(name=clip(label, 100), value=entry.slug))
    return choices[:25]


def _import_chat(
    interaction: discord.Interaction, file: discord.Attachment, breakout_number: int | None
) -> Callable[[], str]:
    """``/summary import_chat:<file>``: the core's one import flow; Discord's part is fetching the attachment,
    which the flow asks for only after the permission and size checks (the size is Discord's)."""
    bot = _bot(interaction)
    assert interaction.guild is not None
    actor = bot.roles.actor(interaction.user, interaction.guild.id)
    channel_id = str(interaction.channel_id)
    loop = asyncio.get_running_loop()

    def fetch() -> bytes:  # in a worker thread: the attachment is read on the bot's loop
        reading = asyncio.run_coroutine_threadsafe(file.read(), loop)
        try:
            return reading.result(FETCH_TIMEOUT)
        except (discord.HTTPException, TimeoutError):
            reading.cancel()
            raise BadArguments(
                f"Discord could not hand over {file.filename}; please upload it again. Nothing was imported."
            ) from None

    def work() -> str:
        imported = bot.app.call_chat.import_chat(
            actor,
            find_file=lambda: CallChatFile(file.filename, file.size, fetch),
            breakout_id=breakout_number,
            channel_id=channel_id,
        )
        return imported.describe(in_chat=True)

    return work


def _curate(interaction: discord.Interaction, message: discord.Message, what: str) -> Callable[[], str]:
    bot = _bot(interaction)
    assert interaction.guild is not None
    actor = bot.roles.actor(interaction.user, interaction.guild.id)
    channel_id, _ = where_captured(bot, message.channel.id)  # the key capture stored the quote under
    act = bot.app.curation.take_out if what == "take_out" else bot.app.curation.put_back
    return lambda: act(actor, channel_id=str(channel_id), message_id=str(message.id))


class Answering(commands.Cog):
    """What both command cogs share: one error hook, so every failure is worded in one place."""

    def __init__(self, bot: BreakoutBot) -> None:
        self.bot = bot

    async def cog_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """A person's mistake gets its sentence; ours is logged (in ``errors.sentence``) and apologised for."""
        await answer_error(interaction, error, self.bot.roles)


@app_commands.guild_only()
class BreakoutCommands(
    Answering, commands.GroupCog, group_name="breakout", group_description="Run breakout discussions in this call"
):
    """``/breakout <subcommand>``: the facilitator's steering and everyone's naming choices."""

    @app_commands.command(
        name="start", description="Split the people in your voice channel (or this channel) into groups"
    )
    @app_commands.describe(
        plan="The session plan",
        groups="How many groups",
        size="People per group",
        minutes="Minutes per question (overrides the plan)",
        role="Split the members of this role instead",
        include_facilitators="Put facilitators into groups too",
    )
    @app_commands.autocomplete(plan=plan_autocomplete)
    async def start(
        self,
        interaction: discord.Interaction,
        plan: str,
        groups: app_commands.Range[int, 1, 50] | None = None,
        size: app_commands.Range[int, 2, 50] | None = None,
        minutes: app_commands.Range[float, 0.1, 240.0] | None = None,
        role: discord.Role | None = None,
        include_facilitators: bool = False,
    ) -> None:
        member = interaction.user
        if not isinstance(member, discord.Member) or interaction.guild is None:
            await interaction.response.send_message("Start breakouts in a server channel.", ephemeral=True)
            return
        pool = participant_pool(member, interaction.channel, self.bot.roles, role=role)  # type: ignore[arg-type]
        command = BreakoutCommand(
            "start", plan=plan, groups=groups, size=size, minutes=minutes, include_facilitators=include_facilitators
        )
        call = str(pool.voice_channel_id) if pool.voice_channel_id is not None else None
        work = _run(interaction, command, participants=lambda: (pool.people, pool.facilitators), call_channel=call)
        await answer(interaction, lambda: f"{work()}\nPeople: {pool.source}.")

    @app_commands.command(name="status", description="Which question, time left, groups and quotes so far")
    async def status(self, interaction: discord.Interaction, breakout_number: int | None = None) -> None:
        await answer(interaction, _run(interaction, BreakoutCommand("status", breakout_id=breakout_number)))

    @app_commands.command(name="next", description="Skip ahead to the next question (ends after the last)")
    async def next_question(self, interaction: discord.Interaction, breakout_number: int | None = None) -> None:
        await answer(interaction, _run(interaction, BreakoutCommand("next", breakout_id=breakout_number)))

    @app_commands.command(name="extend", description="More time for the current question")
    async def extend(self, interaction: discord.Interaction, minutes: app_commands.Range[float, 0.1, 240.0]) -> None:
        await answer(interaction, _run(interaction, BreakoutCommand("extend", minutes=minutes)))

    @app_commands.command(name="broadcast", description="Post a message to every group")
    async def broadcast(
        self, interaction: discord.Interaction, text: app_commands.Range[str, 1, BROADCAST_LIMIT]
    ) -> None:
        await answer(interaction, _run(interaction, BreakoutCommand("broadcast", text=text)))

    @app_commands.command(name="pause", description="Stop the clock")
    async def pause(self, interaction: discord.Interaction) -> None:
        await answer(interaction, _run(interaction, BreakoutCommand("pause")))

    @app_commands.command(name="resume", description="Restart the clock")
    async def resume(self, interaction: discord.Interaction) -> None:
        await answer(interaction, _run(interaction, BreakoutCommand("resume")))

    @app_commands.command(name="stop", description="End the breakout now")
    async def stop(self, interaction: discord.Interaction, breakout_number: int | None = None) -> None:
        await answer(interaction, _run(interaction, BreakoutCommand("stop", breakout_id=breakout_number)))

    @app_commands.command(name="consent", description="How you may be named if you are quoted")
    @app_commands.choices(level=LEVEL_CHOICES)
    async def consent(self, interaction: discord.Interaction, level: app_commands.Choice[str]) -> None:
        await answer(interaction, _run(interaction, BreakoutCommand("consent", level=Level(level.value))))

    @app_commands.command(name="name", description="The name to use for you in the write-up")
    async def name(
        self, interaction: discord.Interaction, your_name: app_commands.Range[str, 1, MAX_CHOSEN_NAME]
    ) -> None:
        await answer(interaction, _run(interaction, BreakoutCommand("name", text=your_name)))

    @app_commands.command(name="forget-me", description="Delete everything stored about you")
    async def forget_me(self, interaction: discord.Interaction) -> None:
        await answer(interaction, _run(interaction, BreakoutCommand("forget-me")))

    @app_commands.command(name="my-data", description="Get a file of everything stored about you (only you see it)")
    async def my_data(self, interaction: discord.Interaction) -> None:
        """The file comes back in the private answer, like /summary's."""
        assert interaction.guild is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        actor = self.bot.roles.actor(interaction.user, interaction.guild.id)
        data = await self.bot.blocking(self.bot.app.consents.my_data, actor)
        if not data.rows:
            await interaction.followup.send(data.describe(), ephemeral=True)
            return
        file = discord.File(io.BytesIO(data.content), filename=data.filename)
        await interaction.followup.send(
            for_discord(data.describe()), file=file, ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="help", description="What the /breakout commands do")
    async def help_(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(HELP, ephemeral=True, allowed_mentions=NO_MENTIONS)


class SummaryCommands(Answering):
    """``/summary`` (the write-up, or the call's chat import) and the message menus that take one's own
    message out of the write-up and put it back."""

    def __init__(self, bot: BreakoutBot) -> None:
        super().__init__(bot)
        # Discord.py has no context-menu decorator for cog methods: the menus are made here, added to
        # the tree when the cog loads, and their failures reach the tree's handler (the same words).
        self.menus = tuple(
            app_commands.guild_only()(app_commands.ContextMenu(name=name, callback=callback))
            for name, callback in (("Leave out of write-up", self.leave_out), ("Put back in write-up", self.put_back))
        )

    async def cog_load(self) -> None:
        for menu in self.menus:
            self.bot.tree.add_command(menu)

    async def cog_unload(self) -> None:
        for menu in self.menus:
            self.bot.tree.remove_command(menu.name, type=menu.type)

    async def leave_out(self, interaction: discord.Interaction, message: discord.Message) -> None:
        await answer(interaction, _curate(interaction, message, "take_out"))

    async def put_back(self, interaction: discord.Interaction, message: discord.Message) -> None:
        await answer(interaction, _curate(interaction, message, "put_back"))

    @app_commands.command(name="summary", description="The write-up of a breakout, privately, as a file")
    @app_commands.guild_only()
    @app_commands.rename(file_format="format")
    @app_commands.describe(
        breakout_number="Which breakout (default: the latest here)",
        by="Arrange by question or by group",
        file_format="The file: Markdown, a web page (prints to PDF), Word, or PDF",
        highlights="Only the highlighted quotes (⭐)",
        import_chat="Instead: import the call's Zoom chat export (a .txt file; organisers)",
    )
    async def summary(
        self,
        interaction: discord.Interaction,
        breakout_number: int | None = None,
        by: Literal["question", "group"] = "question",
        file_format: Literal["md", "html", "docx", "pdf"] = "md",
        highlights: bool = False,
        import_chat: discord.Attachment | None = None,
    ) -> None:
        bot = self.bot
        assert interaction.guild is not None
        if import_chat is not None:
            await answer(interaction, _import_chat(interaction, import_chat, breakout_number))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        actor = bot.roles.actor(interaction.user, interaction.guild.id)
        command = SummaryCommand(breakout_id=breakout_number, by=by, format=file_format, highlights_only=highlights)
        delivery = await bot.blocking(bot.app.summary_for, actor, command, channel_id=str(interaction.channel_id))
        # Discord renders Markdown, so the preview is the write-up itself; the file is the whole of it.
        preview = discord.utils.escape_mentions(delivery.markdown)
        if len(preview) > PREVIEW_LIMIT:
            preview = (
                preview[: PREVIEW_LIMIT - 50].rsplit("\n", 1)[0] + "\n\n… (the whole write-up is in the attached file)"
            )
        # discord.py uploads every file as application/octet-stream; Discord types it by its extension.
        file = discord.File(io.BytesIO(delivery.content), filename=delivery.filename)
        await interaction.followup.send(preview, file=file, ephemeral=True, allowed_mentions=NO_MENTIONS)


def cogs(bot: BreakoutBot) -> tuple[commands.Cog, ...]:
    """Fresh cogs (and command objects) per bot: a restarted bot in the same process gets its own."""
    return (BreakoutCommands(bot), SummaryCommands(bot))


def workspace(interaction: discord.Interaction) -> str:
    assert interaction.guild_id is not None
    return workspace_of(interaction.guild_id)
