"""Entry points the CLI wires: ``breakout-bot run discord`` and ``breakout-bot discord-sync``."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord

from bot.config import Settings
from bot.services.app import BreakoutApp

from .client import BreakoutBot
from .endpoints import point_discord_py_at_api
from .people import Roles
from .port import DiscordPort

log = logging.getLogger(__name__)

# The fleet-wide role of holding Discord's gateway session (one process at a time).
GATEWAY_ROLE = "discord-gateway"


def roles_from(settings: Settings) -> Roles:
    return Roles(facilitators=settings.discord_facilitator_roles, organisers=settings.discord_organiser_roles)


@dataclass
class DiscordRuntime:
    """The bot and the core it drives, built from settings; what ``run`` and the tests start."""

    settings: Settings
    app: BreakoutApp
    port: DiscordPort
    bot: BreakoutBot


def build(
    settings: Settings, *, app: BreakoutApp | None = None, clock_name: str | None = None, **bot_options: Any
) -> DiscordRuntime:
    port = DiscordPort(roles_from(settings))
    app = app or BreakoutApp(settings, port, clock_name=clock_name)
    bot = BreakoutBot(app=app, port=port, **bot_options)
    return DiscordRuntime(settings, app, port, bot)


def _token(settings: Settings) -> str:
    if not settings.discord_token:
        raise SystemExit(
            "DISCORD_TOKEN is not set: create a bot in the Discord Developer Portal (deploy/discord.md) "
            "and put its token in .env as DISCORD_TOKEN=..."
        )
    return settings.discord_token


class GatewayLost(Exception):
    """Another process holds the gateway now: this one stops, and its supervisor starts it as a standby."""


async def serve(runtime: DiscordRuntime) -> None:
    """Connect and run until closed; the core starts once the bot is ready, and stops after it.

    Discord gives a server's events to one gateway session, so in a fleet one process holds the
    gateway and the others wait as standbys until its database session ends (``kill -9`` included).
    """
    await point_discord_py_at_api(runtime.settings.discord_api_url)
    loop = asyncio.get_running_loop()
    holding = asyncio.Event()
    lost = False

    def on_loss() -> None:
        nonlocal lost
        lost = True
        log.error("lost the Discord gateway lease (database session ended); closing the gateway")
        asyncio.run_coroutine_threadsafe(runtime.bot.close(), loop)

    def on_gain() -> None:
        loop.call_soon_threadsafe(holding.set)

    release = runtime.app.hold(GATEWAY_ROLE, on_gain=on_gain, on_loss=on_loss)
    try:
        if not holding.is_set():
            await asyncio.sleep(0)  # let an immediate gain land
        if not holding.is_set():
            log.info("another process holds the Discord gateway; waiting as a standby")
        await holding.wait()
        log.info("this process now holds the Discord gateway")
        async with runtime.bot:
            await runtime.bot.start(_token(runtime.settings))
    finally:
        await loop.run_in_executor(None, release)
        await loop.run_in_executor(None, runtime.app.shutdown)
    if lost:
        raise GatewayLost


def run_discord(settings: Settings) -> int:
    _token(settings)  # before anything is built: no database appears for a bot that cannot log in
    runtime = build(settings)
    try:
        asyncio.run(serve(runtime))
    except (aiohttp.ClientError, OSError) as exc:
        print(
            f"Could not reach Discord at {settings.discord_api_url} ({exc.__class__.__name__}: {exc}). "
            "Check the network, or DISCORD_API_URL."
        )
        return 2
    except discord.PrivilegedIntentsRequired:
        print(
            "Discord refused the connection: enable the Server Members and Message Content intents for the bot "
            "in the Developer Portal (deploy/discord.md)."
        )
        return 2
    except discord.LoginFailure:
        print("Discord did not accept DISCORD_TOKEN; copy the bot token again from the Developer Portal.")
        return 2
    except GatewayLost:
        print("Another process took over the Discord gateway; exiting so a supervisor restarts this one as a standby.")
        return 3
    except KeyboardInterrupt:
        pass
    return 0


async def sync_commands_async(
    settings: Settings, *, guild_id: str | int | None = None
) -> list[discord.app_commands.AppCommand]:
    """Register the slash commands: globally, or on one server at once (``guild_id``, or the
    ``DISCORD_GUILD_ID`` setting). A deliberate step: Discord limits command creation per day."""
    await point_discord_py_at_api(settings.discord_api_url)
    bot = BreakoutBot(app=None, port=DiscordPort(roles_from(settings)), start_core=False)
    target = guild_id or settings.discord_guild_id
    async with bot:
        await bot.login(_token(settings))  # REST only; setup_hook adds the commands to the tree
        if target:
            guild = discord.Object(int(target))
            bot.tree.copy_global_to(guild=guild)
            return await bot.tree.sync(guild=guild)
        return await bot.tree.sync()


def sync_commands(settings: Settings, *, guild_id: str | int | None = None) -> int:
    _token(settings)
    try:
        synced = asyncio.run(sync_commands_async(settings, guild_id=guild_id))
    except discord.LoginFailure:
        print("Discord did not accept DISCORD_TOKEN; copy the bot token again from the Developer Portal.")
        return 2
    except (aiohttp.ClientError, OSError) as exc:
        print(f"Could not reach Discord at {settings.discord_api_url} ({exc.__class__.__name__}: {exc}).")
        return 2
    where = (
        f"server {guild_id or settings.discord_guild_id}"
        if (guild_id or settings.discord_guild_id)
        else "all servers (global)"
    )
    print(f"Registered {len(synced)} commands on {where}: {', '.join('/' + c.name for c in synced)}")
    return 0
