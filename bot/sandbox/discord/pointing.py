"""How discord.py is pointed at the sandbox: see ``bot.adapters.discord.endpoints`` for the mechanism
(``discord.http.Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY``, process-wide). Tests that run
in parallel do so in separate processes (pytest-xdist), each with its own sandbox on its own port."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bot.adapters.discord.endpoints import DISCORD_API_URL, DISCORD_GATEWAY_URL, point_discord_py_at

__all__ = ["discord_py_pointed_at", "point_discord_py_at", "point_discord_py_at_discord"]


def point_discord_py_at_discord() -> None:
    point_discord_py_at(DISCORD_API_URL, DISCORD_GATEWAY_URL)


@contextmanager
def discord_py_pointed_at(rest_base: str, gateway_url: str) -> Iterator[None]:
    previous = point_discord_py_at(rest_base, gateway_url)
    try:
        yield
    finally:
        point_discord_py_at(*previous)
