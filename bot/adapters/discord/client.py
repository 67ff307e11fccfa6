"""The discord.py bot: dependencies passed in, command cogs and persistent buttons loaded in setup_hook.

Modelled on discord.py's ``examples/advanced_startup.py``: the core (``BreakoutApp``), the port and
the roles are handed to the bot; nothing is built inside a handler or read from the environment.
A ``commands.Bot`` for its cogs only: it reads no prefix commands (``on_message`` is capture).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import discord
from discord.ext import commands as ext_commands

from bot.services.app import BreakoutApp

from . import commands, events
from .errors import BreakoutTree
from .people import Roles
from .port import DiscordPort
from .text import NO_MENTIONS
from .views import ConsentButton

log = logging.getLogger(__name__)
T = TypeVar("T")


def breakout_intents() -> discord.Intents:
    """Exactly what the bot needs; members and message content are privileged (enable them in the
    Developer Portal, see deploy/discord.md)."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.members = True  # role members, channel members, display names
    intents.voice_states = True  # who is in the call, and moving them
    intents.guild_messages = True
    intents.message_content = True  # capture
    intents.guild_reactions = True  # curation: ⭐ marks a highlight, 🚫 takes one's own message out (not privileged)
    intents.dm_messages = False
    return intents


REQUIRED_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    read_message_history=True,
    embed_links=True,
    attach_files=True,
    manage_channels=True,  # a category and channels per breakout, deleted at the end
    manage_roles=True,  # "Manage Permissions" on those channels: who may see each group
    move_members=True,
    connect=True,  # moving people into the group voice rooms and back
)
"""Exactly the permissions the bot uses; deploy/discord.md's invite URL carries this number."""


def invite_url(application_id: int | str) -> str:
    return discord.utils.oauth_url(
        application_id, permissions=REQUIRED_PERMISSIONS, scopes=("bot", "applications.commands")
    )


class BreakoutBot(ext_commands.Bot):
    def __init__(
        self,
        *,
        app: BreakoutApp | None,
        port: DiscordPort,
        roles: Roles | None = None,
        start_core: bool = True,
        workers: int = 8,
        catch_up_page: int = events.HISTORY_PAGE,
        catch_up_bound: int = events.READ_BACK_BOUND,
        **options: Any,
    ) -> None:
        # The bot never joins voice itself (it only moves people), so no PyNaCl/davey warnings.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        options.setdefault("intents", breakout_intents())
        options.setdefault("allowed_mentions", NO_MENTIONS)
        super().__init__(
            command_prefix=ext_commands.when_mentioned, help_command=None, tree_cls=BreakoutTree, **options
        )
        self.app: BreakoutApp = app  # type: ignore[assignment]  # None only for the command sync, where no handler runs
        self.port = port
        self.roles = roles or port.roles
        self._start_core = start_core
        self.core_started = False
        self.catching_up: asyncio.Future[int] | None = None
        self.catch_up_page = catch_up_page  # messages per history request when reading back
        self.catch_up_bound = catch_up_bound  # at most this many read back per group channel (logged)
        self._workers = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="breakout-core")
        port.bind(self)

    async def setup_hook(self) -> None:
        for cog in commands.cogs(self):
            await self.add_cog(cog)
        self.add_dynamic_items(ConsentButton)

    async def blocking(self, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run the (synchronous) core off the event loop, so the port can call back into it."""
        return await asyncio.get_running_loop().run_in_executor(self._workers, functools.partial(func, *args, **kwargs))

    async def on_ready(self) -> None:
        log.info("connected to Discord as %s in %d server(s)", self.user, len(self.guilds))
        if self._start_core and not self.core_started and self.app is not None:
            await self.blocking(self.app.start)  # the clock, and recovery of interrupted breakouts
            self.core_started = True
        if self.app is not None and self.core_started:
            # READY means a new session: events from before it are not replayed, so read them back.
            self.catching_up = asyncio.ensure_future(
                events.catch_up(self, page_size=self.catch_up_page, bound=self.catch_up_bound)
            )

    async def close(self) -> None:
        """Stop the core first, while the loop still serves the port: a step that is posting when
        the bot stops finishes instead of waiting on a loop that is gone."""
        if self.core_started and self.app is not None:
            self.core_started = False
            await asyncio.get_running_loop().run_in_executor(None, self.app.shutdown)
        await super().close()
        self._workers.shutdown(wait=False, cancel_futures=True)

    async def on_message(self, message: discord.Message) -> None:
        await events.on_message(self, message)

    async def on_raw_message_edit(self, event: discord.RawMessageUpdateEvent) -> None:
        await events.on_raw_message_edit(self, event)

    async def on_raw_message_delete(self, event: discord.RawMessageDeleteEvent) -> None:
        await events.on_raw_message_delete(self, event)

    async def on_raw_bulk_message_delete(self, event: discord.RawBulkMessageDeleteEvent) -> None:
        await events.on_raw_bulk_message_delete(self, event)

    async def on_raw_reaction_add(self, event: discord.RawReactionActionEvent) -> None:
        await events.on_raw_reaction(self, event)

    async def on_raw_reaction_remove(self, event: discord.RawReactionActionEvent) -> None:
        await events.on_raw_reaction(self, event)
