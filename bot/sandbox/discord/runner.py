"""Run a discord.py client on its own event loop in a background thread.

Sync tests and the demo need the bot running while the calling thread drives simulated members;
the core's port is synchronous too. ``ClientThread`` owns the loop, starts the client, waits for
``on_ready`` and stops it cleanly.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import discord

T = TypeVar("T")


class ClientThread:
    def __init__(self, client: discord.Client, token: str) -> None:
        self.client = client
        self.token = token
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="discord-client", daemon=True)
        self._task: concurrent.futures.Future[None] | None = None
        self.error: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    def start(self, *, ready_timeout: float = 10.0) -> ClientThread:
        self._thread.start()
        self._task = asyncio.run_coroutine_threadsafe(self._start(), self.loop)
        ready = asyncio.run_coroutine_threadsafe(self._wait_ready(), self.loop)
        done, _ = concurrent.futures.wait(
            [ready, self._task], timeout=ready_timeout, return_when=concurrent.futures.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()  # no waiter left pending on a loop that is about to stop
        if self._task in done and self._task.exception() is not None:
            self.stop()
            raise self._task.exception()  # type: ignore[misc]
        if ready not in done:
            self.stop()
            raise TimeoutError("the discord client did not become ready")
        return self

    async def _start(self) -> None:
        await self.client.start(self.token)

    async def _wait_ready(self) -> None:
        while not self.client.is_ready():
            await asyncio.sleep(0.005)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run ``coro`` on the client's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if not self.loop.is_running():
            return
        try:
            asyncio.run_coroutine_threadsafe(self.client.close(), self.loop).result(timeout)
        except Exception:
            pass
        if self._task is not None:
            try:
                self._task.result(timeout)
            except BaseException as exc:
                self.error = exc
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)

    def __enter__(self) -> ClientThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def all_intents() -> discord.Intents:
    """The intents the breakout bot asks for: default plus members and message content."""
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    return intents


async def start_client(client: discord.Client, token: str, timeout: float = 5.0) -> asyncio.Task[None]:
    """Start ``client`` on the running loop and return once it is ready (for async callers)."""
    task = asyncio.create_task(client.start(token))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not client.is_ready():
        if task.done():
            task.result()
        if loop.time() > deadline:
            raise TimeoutError("the discord client did not become ready")
        await asyncio.sleep(0.005)
    return task


async def stop_client(client: discord.Client, task: asyncio.Task[None], timeout: float = 5.0) -> None:
    await client.close()
    await asyncio.wait_for(task, timeout)
