"""What both sandboxes share: an aiohttp server on a free port, served from an asyncio loop in a
daemon thread, so synchronous tests (and the bot's own threads) can use it like any remote service."""

from __future__ import annotations

import abc
import asyncio
import threading
from typing import Any

from aiohttp import web


async def serve_on_free_port(app: web.Application, host: str = "127.0.0.1") -> tuple[web.AppRunner, int]:
    """Start ``app`` on a port the OS picks (port 0: tests run side by side); returns the runner and port."""
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


class BackgroundServer(abc.ABC):
    """``start()`` runs ``_serve()`` on a fresh loop in a thread (raising what it raised), then keeps
    the loop running until ``stop()``, which runs ``_shutdown()`` there first."""

    thread_name = "sandbox"

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @abc.abstractmethod
    async def _serve(self) -> None:
        """Bind and start serving (on the background loop)."""

    async def _shutdown(self) -> None:  # noqa: B027 - optional hook, most servers need none
        """Close connections and the server (on the background loop)."""

    def start(self) -> Any:
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:
                failure.append(exc)
                started.set()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name=self.thread_name, daemon=True)
        self._thread.start()
        started.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            if self._thread is not None:
                self._thread.join(10)
            self._loop = None
