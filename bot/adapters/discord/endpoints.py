"""Where discord.py connects: discord.com by default, or another Discord such as the sandbox.

discord.py 2.x has no constructor argument for this. It builds every REST URL, the bot's and the
interaction webhooks' alike, as ``discord.http.Route.BASE + path`` (``Route.BASE`` is a class
attribute, ``https://discord.com/api/v10``), and a non-sharded ``Client`` opens its first gateway
connection at ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (``wss://gateway.discord.gg/``)
without asking the API; later connections go to READY's ``resume_gateway_url``. So both are set
here, process-wide: one process talks to one Discord at a time. The gateway URL, when not given,
is asked of the API itself (``GET /gateway``), so one setting (``DISCORD_API_URL``) is enough.
"""

from __future__ import annotations

import aiohttp
import discord.gateway
import discord.http
import yarl

DISCORD_API_URL = "https://discord.com/api/v10"
DISCORD_GATEWAY_URL = "wss://gateway.discord.gg/"


def point_discord_py_at(rest_base: str, gateway_url: str) -> tuple[str, str]:
    """Send discord.py's REST calls to ``rest_base`` (ending in ``/api/v10``) and its gateway
    connection to ``gateway_url``. Returns the previous pair so a caller can restore it."""
    previous = (discord.http.Route.BASE, str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY))
    discord.http.Route.BASE = rest_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    return previous


async def discover_gateway(rest_base: str) -> str:
    """The gateway URL a Discord API announces (``GET /gateway``, no token needed)."""
    if rest_base.rstrip("/") == DISCORD_API_URL:
        return DISCORD_GATEWAY_URL
    async with aiohttp.ClientSession() as http, http.get(rest_base.rstrip("/") + "/gateway") as resp:
        resp.raise_for_status()
        data = await resp.json(content_type=None)
    return str(data["url"])


async def point_discord_py_at_api(rest_base: str, gateway_url: str | None = None) -> tuple[str, str]:
    """Point discord.py at ``rest_base``, discovering its gateway unless given."""
    return point_discord_py_at(rest_base, gateway_url or await discover_gateway(rest_base))
