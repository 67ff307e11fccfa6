"""How discord.py is pointed at a Discord other than discord.com (the sandbox, or a proxy).

discord.py 2.x has no constructor argument for this. It builds every REST URL, the bot's and the
interaction webhooks' alike, as ``discord.http.Route.BASE + path`` (``Route.BASE`` is a class
attribute, ``https://discord.com/api/v10``), and a non-sharded ``Client`` opens its first gateway
connection at ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (``wss://gateway.discord.gg/``)
without asking ``GET /gateway/bot``; later connections go to READY's ``resume_gateway_url``, which
the sandbox sets to itself. ``AutoShardedClient`` does ask ``GET /gateway/bot``, which the sandbox
answers with its own URL. The query string (``v=10&encoding=json&compress=zlib-stream``) is added
by discord.py.

Both settings are process-wide, so one process talks to one Discord at a time; tests that run in
parallel do so in separate processes (pytest-xdist), each with its own sandbox on its own port.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import discord.gateway
import discord.http
import yarl

DISCORD_REST_BASE = "https://discord.com/api/v10"
DISCORD_GATEWAY = "wss://gateway.discord.gg/"


def point_discord_py_at(rest_base: str, gateway_url: str) -> tuple[str, str]:
    """Send discord.py's REST calls to ``rest_base`` (ending in ``/api/v10``) and its gateway
    connection to ``gateway_url``. Returns the previous pair so a caller can restore it."""
    previous = (discord.http.Route.BASE, str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY))
    discord.http.Route.BASE = rest_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    return previous


def point_discord_py_at_discord() -> None:
    point_discord_py_at(DISCORD_REST_BASE, DISCORD_GATEWAY)


@contextmanager
def discord_py_pointed_at(rest_base: str, gateway_url: str) -> Iterator[None]:
    previous = point_discord_py_at(rest_base, gateway_url)
    try:
        yield
    finally:
        point_discord_py_at(*previous)
