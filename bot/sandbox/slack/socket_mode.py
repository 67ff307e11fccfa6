"""Socket Mode: the websockets Slack pushes envelopes down and the app acknowledges them on.

`apps.connections.open` hands out a one-time `ws://…/link/?ticket=…` URL each time it is called;
on connect the sandbox sends `hello`, then envelopes `{envelope_id, type, payload,
accepts_response_payload, retry_attempt, retry_reason}`. The app acks with `{envelope_id[, payload]}`.

An app may hold several connections at once (a fleet of processes, or one process overlapping its
old and new connection during a refresh), as on Slack:

- each envelope goes to exactly one open connection, taken in turn so they share the load
  (a connection that was asked to reconnect gets new envelopes only when no other is open);
- an events_api envelope not acked within `ack_timeout` is sent again with `retry_attempt` + 1
  (reason `timeout`), up to `max_retries` times, on another open connection when there is one;
- at most `MAX_CONNECTIONS` (10) are open: one more is answered with a `disconnect` frame,
  reason `too_many_websockets`, and closed, as Slack does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .delivery import EVENTS_API, SLASH_COMMANDS, Attempt, Delivery

if TYPE_CHECKING:
    from .sandbox import SlackSandbox

log = logging.getLogger(__name__)

#: Slack lets an app hold at most 10 Socket Mode connections at the same time.
MAX_CONNECTIONS = 10


@dataclass(eq=False)
class SocketConnection:
    """One open websocket of the app, numbered in the order they were accepted (1, 2, ...)."""

    number: int
    ws: web.WebSocketResponse
    #: Sent a `disconnect` (refresh_requested, ...): the app is about to replace it.
    draining: bool = False
    #: Envelopes sent down this connection (every attempt counts).
    envelopes: int = 0


class SocketModeGateway:
    def __init__(self, sb: SlackSandbox) -> None:
        self.sb = sb
        self._tickets: set[str] = set()
        #: The open connections, oldest first.
        self.connections: list[SocketConnection] = []
        #: Every connection ever accepted (for assertions about reconnects).
        self.connection_count = 0
        #: Connections turned away because `MAX_CONNECTIONS` were already open.
        self.refused = 0
        self._turn = 0
        self._waiting_acks: dict[str, asyncio.Future[Any]] = {}
        self._connected: asyncio.Event | None = None
        #: Raw frames the app sent, for assertions.
        self.received: list[dict[str, Any]] = []

    # -- connection handling (on the loop) -----------------------------------------------

    def new_url(self) -> str:
        ticket = secrets.token_hex(8)
        self._tickets.add(ticket)
        host = self.sb.base_url.replace("http://", "ws://")
        return f"{host}link/?ticket={ticket}&app_id={self.sb.workspace.app_id}"

    def _event(self) -> asyncio.Event:
        if self._connected is None:
            self._connected = asyncio.Event()
        return self._connected

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.Response(status=401, text="invalid ticket")
        self._tickets.discard(ticket)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        if len(self.connections) >= MAX_CONNECTIONS:
            self.refused += 1
            await ws.send_str(
                json.dumps(
                    {"type": "disconnect", "reason": "too_many_websockets", "debug_info": {"host": "applink-sandbox"}}
                )
            )
            await ws.close(code=1008, message=b"too many websockets")
            return ws
        self.connection_count += 1
        conn = SocketConnection(self.connection_count, ws)
        self.connections.append(conn)
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": len(self.connections),
                    "debug_info": {"host": "applink-sandbox", "build_number": 1, "approximate_connection_time": 18060},
                    "connection_info": {"app_id": self.sb.workspace.app_id},
                }
            )
        )
        self._event().set()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_frame(msg.data)
                elif msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
        finally:
            if conn in self.connections:
                self.connections.remove(conn)
            if not self.connections:
                self._event().clear()
        return ws

    def _on_frame(self, data: str) -> None:
        try:
            frame = json.loads(data)
        except ValueError:
            log.warning("sandbox: non-JSON frame from app: %r", data[:200])
            return
        self.received.append(frame)
        fut = self._waiting_acks.get(frame.get("envelope_id", ""))
        if fut is not None and not fut.done():
            fut.set_result(frame)

    async def drop_connections(self, *, graceful: bool = False) -> int:
        """Cut every connection: without a close handshake (a network failure) unless `graceful`."""
        dropped = 0
        for conn in list(self.connections):
            self.connections.remove(conn)
            ws = conn.ws
            if graceful:
                await ws.close(code=1001, message=b"going away")
            else:
                transport = ws._req.transport if ws._req is not None else None
                if transport is not None:
                    transport.abort()
            dropped += 1
        if not self.connections:
            self._event().clear()
        return dropped

    async def send_disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the app to reconnect (Slack does this before recycling a connection); from now on the
        connections asked get envelopes only while no other connection is open."""
        frame = {
            "type": "disconnect",
            "reason": reason,
            "num_connections": len(self.connections),
            "debug_info": {"host": "applink-sandbox"},
            "connection_info": {"app_id": self.sb.workspace.app_id},
        }
        for conn in list(self.connections):
            conn.draining = True
            await conn.ws.send_str(json.dumps(frame))

    async def close(self) -> None:
        for conn in list(self.connections):
            await conn.ws.close()

    def _next_connection(self, avoid: int | None = None) -> SocketConnection | None:
        """The connection the next envelope goes down: each open one in turn, those being replaced
        last, and not the one (`avoid`) that let the previous attempt time out while another is open."""
        ready = [c for c in self.connections if not c.draining and not c.ws.closed]
        ready = ready or [c for c in self.connections if not c.ws.closed]
        ready = [c for c in ready if c.number != avoid] or ready
        if not ready:
            return None
        conn = ready[self._turn % len(ready)]
        self._turn += 1
        return conn

    # -- delivery ---------------------------------------------------------------------------

    async def deliver(self, d: Delivery) -> None:
        retries = self.sb.max_retries if d.kind == EVENTS_API else 0
        reason = "timeout" if d.first_attempt else ""
        for attempt_no in range(d.first_attempt, d.first_attempt + retries + 1):
            if attempt_no > d.first_attempt:
                await asyncio.sleep(self.sb.retry_delay)
            attempt = Attempt(retry_attempt=attempt_no, retry_reason=reason, sent_at=self.sb.clock())
            d.attempts.append(attempt)
            fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._waiting_acks[d.envelope_id] = fut
            try:
                sent = await self._send(d, attempt, reason)
                if sent:
                    frame = await asyncio.wait_for(fut, timeout=self.sb.ack_timeout)
                    attempt.status, attempt.outcome, attempt.acked_at = 200, "acked", self.sb.clock()
                    d.ack_status = 200
                    d.ack_payload = frame.get("payload")
                    d.acked.set()
                    d.done.set()
                    self.sb._on_ack(d)
                    return
            except TimeoutError:
                pass
            finally:
                self._waiting_acks.pop(d.envelope_id, None)
            attempt.outcome = "timeout"
            reason = "timeout"
        d.failure = "timeout"
        d.done.set()
        self.sb._on_unacked(d)

    async def _send(self, d: Delivery, attempt: Attempt, retry_reason: str) -> bool:
        retry_attempt = attempt.retry_attempt
        envelope: dict[str, Any] = {
            "envelope_id": d.envelope_id,
            "payload": d.payload,
            "type": d.kind,
            "accepts_response_payload": d.kind == SLASH_COMMANDS,
        }
        if d.kind == EVENTS_API:
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        # Wait (within the ack window) for the app to be connected: Slack holds envelopes briefly.
        try:
            await asyncio.wait_for(self._event().wait(), timeout=self.sb.connect_wait)
        except TimeoutError:
            return False
        previous = d.attempts[-2].connection if len(d.attempts) > 1 else None
        conn = self._next_connection(avoid=previous)
        if conn is None:
            return False
        attempt.connection = conn.number
        conn.envelopes += 1
        try:
            await conn.ws.send_str(json.dumps(envelope))
        except (ConnectionError, RuntimeError):
            return False
        return True
