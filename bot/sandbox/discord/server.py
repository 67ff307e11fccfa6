"""A local Discord server for the real discord.py: REST and gateway on 127.0.0.1, port 0.

The server runs on its own event loop in a background thread, so the same sandbox serves sync tests,
async tests (whose loop runs the bot), and the demo. Every method here is safe to call from any
thread and never blocks on the bot: actions (a member posts, clicks, runs a command) change the state
under a lock and queue gateway events; inspection reads the state; ``wait_until`` polls.

`DiscordSandbox` is put together from one part per concern, the way the Slack sandbox is:
``state`` (what it holds, look-ups, permissions), ``dispatch`` (gateway sessions and events),
``guilds`` and ``voice``, ``messages`` (with attachments and reactions), ``commands``,
``interactions`` (what members start) and ``responses`` (how the bot answers), ``faults``
(rate limits and injected errors). People are ``members.SimMember``. The REST API is ``api``
(middleware and routing) with ``routes_guilds`` and ``routes_messages``; the gateway's websocket
is ``gateway``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

from bot.sandbox.background import serve_on_free_port

from .api import build_app
from .faults import Faults
from .guilds import Guilds
from .pointing import point_discord_py_at
from .responses import Responses
from .rest import RestCall
from .state import ServerState


class DiscordSandbox(Responses, Guilds, Faults):
    """A Discord server for tests and the demo. ``with DiscordSandbox() as sb:`` starts and stops it."""

    def __init__(
        self,
        *,
        bot_name: str = "breakout-bot",
        heartbeat_interval_ms: int = 41250,
        interaction_ack_seconds: float = 3.0,
        privileged_intents: Iterable[str] = ("members", "presences", "message_content"),
        host: str = "127.0.0.1",
        rate_limits: dict[str, tuple[int, float]] | None = None,
    ) -> None:
        """``rate_limits`` turns on real buckets: ``{"POST /channels/{channel_id}/messages": (5, 5.0)}``
        allows 5 calls per 5 seconds per channel (per the route's major parameter), with honest
        X-RateLimit-Remaining/Reset-After headers. A client that reads them never gets a 429; any
        429 it does get is recorded in ``unexpected_429s``."""
        ServerState.__init__(
            self,
            bot_name=bot_name,
            heartbeat_interval_ms=heartbeat_interval_ms,
            interaction_ack_seconds=interaction_ack_seconds,
            privileged_intents=privileged_intents,
            host=host,
            rate_limits=rate_limits,
        )

    # ------------------------------------------------------------------ lifecycle

    def point_discord_py(self) -> tuple[str, str]:
        """Point this process's discord.py at the sandbox; returns the previous (rest, gateway)."""
        return point_discord_py_at(self.rest_base, self.gateway_url)

    thread_name = "discord-sandbox"

    def start(self) -> DiscordSandbox:
        return super().start()

    async def _serve(self) -> None:
        self._runner, self.port = await serve_on_free_port(build_app(self), self.host)

    async def _shutdown(self) -> None:
        for conn in list(self._connections):
            await conn.ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()

    def __enter__(self) -> DiscordSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> DiscordSandbox:
        return self.start()

    async def __aexit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ inspection

    def calls(self, method: str | None = None, route: str | None = None) -> list[RestCall]:
        """The REST log, optionally filtered by method and route template."""
        with self.lock:
            return [
                c
                for c in self.rest_log
                if (method is None or c.method == method) and (route is None or c.route == route)
            ]

    @property
    def errors(self) -> list[str]:
        """Routes that crashed the sandbox (a bug here, not in the bot)."""
        return list(self._server_errors)

    def wait_until(
        self, predicate: Callable[[], Any], timeout: float = 5.0, *, interval: float = 0.01, what: str = ""
    ) -> Any:
        """Poll ``predicate`` until it is truthy; returns its value or raises AssertionError."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
            time.sleep(interval)

    async def async_wait_until(
        self, predicate: Callable[[], Any], timeout: float = 5.0, *, interval: float = 0.01, what: str = ""
    ) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
            await asyncio.sleep(interval)
