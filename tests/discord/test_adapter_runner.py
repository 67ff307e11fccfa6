"""The CLI's entry points for Discord: the deliberate command sync, and run (pointing + discovery)."""

from __future__ import annotations

import asyncio
import threading

import discord.http

from bot.adapters.discord.endpoints import DISCORD_API_URL, DISCORD_GATEWAY_URL, point_discord_py_at
from bot.adapters.discord.runner import build, serve, sync_commands_async
from bot.config import Settings
from bot.sandbox.discord import DiscordSandbox
from tests.conftest import PROMPTS


def _settings(sb: DiscordSandbox, database_url: str, **extra: str) -> Settings:
    return Settings.from_mapping({"DATABASE_URL": database_url, "BREAKOUT_PROMPTS_DIR": str(PROMPTS),
                                  "DISCORD_TOKEN": sb.token, "DISCORD_API_URL": sb.rest_base, **extra})


def test_sync_registers_the_commands_once_globally_or_on_one_server(sandbox: DiscordSandbox, sqlite_url: str) -> None:
    guild = sandbox.add_guild()
    synced = asyncio.run(sync_commands_async(_settings(sandbox, sqlite_url)))
    assert sorted(c.name for c in synced) == ["Leave out of write-up", "Put back in write-up", "breakout", "summary"]
    assert sandbox.command_overwrites == 1 and sandbox.gateway_connections == 0  # REST only, no gateway
    breakout = next(c for c in sandbox.commands() if c["name"] == "breakout")
    subcommands = [o["name"] for o in breakout["options"]]
    assert subcommands == ["start", "prepare", "status", "next", "extend", "broadcast", "pause", "resume", "stop", "consent",
                           "name", "forget-me", "my-data", "help"]
    start = breakout["options"][0]
    plan = next(o for o in start["options"] if o["name"] == "plan")
    assert plan["autocomplete"] is True and plan["required"] is True
    asyncio.run(sync_commands_async(_settings(sandbox, sqlite_url, DISCORD_GUILD_ID=str(guild.id))))
    assert sorted(c["name"] for c in sandbox.commands(guild)) == ["Leave out of write-up", "Put back in write-up",
                                                                 "breakout", "summary"]


def test_run_points_discord_py_at_the_configured_api_and_discovers_its_gateway(sandbox: DiscordSandbox, sqlite_url: str) -> None:
    point_discord_py_at(DISCORD_API_URL, DISCORD_GATEWAY_URL)  # as in a fresh process
    sandbox.add_guild()
    runtime = build(_settings(sandbox, sqlite_url), guild_ready_timeout=0.05)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(serve(runtime),), daemon=True)
    thread.start()
    try:
        sandbox.wait_until(lambda: runtime.bot.is_ready() and runtime.bot.core_started, 10)
        assert sandbox.rest_base == discord.http.Route.BASE
        assert sandbox.calls("GET", "/gateway")  # the gateway URL was asked of the API
        assert sandbox.identifies == 1
    finally:
        asyncio.run_coroutine_threadsafe(runtime.bot.close(), loop).result(10)
        thread.join(10)
        loop.close()
    assert not thread.is_alive()
