"""Every failure a person can meet on Discord, worded once, the Discord way.

The core's errors carry structured hints; here they become Discord's words: options are picked as
``format:html``, and nobody is a "workspace admin": facilitators and organisers are set by roles
(``DISCORD_FACILITATOR_ROLES``, ``DISCORD_ORGANISER_ROLES``), or are the server's admins when none is set.
``answer_error`` is the one place an application command's failure is answered: the command cogs'
``cog_app_command_error`` and the tree's ``on_error`` (stale commands, the message menus) both call it.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.services.errors import AskForRole, BreakoutError, PickAPlan, Role, Usage
from bot.services.port import ChatError

from .people import Roles
from .text import NO_MENTIONS, for_discord

log = logging.getLogger(__name__)

OOPS = "Something went wrong on the bot's side (it is logged). Please try again in a moment."
STALE = (
    "This command is out of date: the bot was updated, and Discord still shows its old commands. "
    "Someone who runs the bot can bring them up to date with `breakout-bot discord-sync` "
    "(Discord may take a minute to show the new ones); then try again."
)
IN_A_SERVER = "Use this command in a server channel."
MAX_CONTENT = 2000
#: Marks an interaction whose failure was answered already (the tree's handler runs after the cog's).
ANSWERED = "breakout_error_answered"


def role_names(configured: tuple[str, ...], guild: discord.Guild | None) -> list[str]:
    """The configured roles by name (ids are looked up on the server; unknown ones are shown as set)."""
    names = []
    for entry in configured:
        key = entry.strip().lstrip("@")
        role = None
        if guild is not None:
            role = next((r for r in guild.roles if str(r.id) == key or r.name.lower() == key.lower()), None)
        names.append(role.name if role is not None else key)
    return [n for n in dict.fromkeys(names) if n]


def hint_words(error: BreakoutError, roles: Roles, guild: discord.Guild | None) -> str:
    """The hint in Discord's words ('' when there is nothing to add)."""
    hint = error.hint
    if isinstance(hint, Usage):
        tried = [f"{hint.option}:{choice}" for choice in hint.choices]
        listed = ", ".join(tried[:-1]) + f" or {tried[-1]}" if len(tried) > 1 else tried[0]
        return f"Try /{hint.command} {listed}."
    if isinstance(hint, AskForRole):
        configured = roles.facilitators if hint.role is Role.FACILITATOR else roles.organisers
        names = role_names(configured, guild)
        if not names:
            return (
                f"On this server the {hint.role.value}s are its admins (no {hint.role.value} role is set); "
                "if you should be one, ask a server admin."
            )
        which = f"the {names[0]} role" if len(names) == 1 else "one of the roles " + ", ".join(names)
        return f"If you should be one, ask a server admin to give you {which}."
    if isinstance(hint, PickAPlan):
        return "Start typing in plan: to pick one."
    return ""


def sentence(error: BaseException, roles: Roles, guild: discord.Guild | None) -> str:
    """What the person reads: theirs to fix, Discord's refusal, an out-of-date command, or ours (logged)."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, BreakoutError):
        extra = hint_words(error, roles, guild)
        return for_discord(f"{error.message} {extra}" if extra else error.message)
    if isinstance(error, ChatError):
        return for_discord(str(error))
    if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        return STALE
    if isinstance(error, app_commands.NoPrivateMessage):
        return IN_A_SERVER
    log.error("a command failed", exc_info=error)
    return OOPS


async def answer_error(interaction: discord.Interaction, error: BaseException, roles: Roles) -> None:
    """Answer a failed command privately, once, whether or not it had deferred."""
    if interaction.extras.get(ANSWERED):
        return
    interaction.extras[ANSWERED] = True
    text = sentence(error, roles, interaction.guild)
    if len(text) > MAX_CONTENT:
        text = text[: MAX_CONTENT - 1] + "…"
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException:
        log.warning("could not tell %s that their command failed", interaction.user.id, exc_info=True)


class BreakoutTree(app_commands.CommandTree):
    """The command tree: what no cog handles (a command the bot does not know, a message menu's
    failure) is answered here, with the same words."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError, /) -> None:
        roles: Roles = getattr(self.client, "roles", Roles())
        if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
            log.warning("a command the bot does not know (%s): commands need `breakout-bot discord-sync`", error)
        await answer_error(interaction, error, roles)
