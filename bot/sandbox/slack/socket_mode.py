"""Socket Mode: the websocket Slack pushes envelopes down and the app acknowledges them on.

`apps.connections.open` hands out a one-time `ws://…/link/?ticket=…` URL; on connect the
sandbox sends `hello`, then envelopes `{envelope_id, type, payload, accepts_response_payload,
retry_attempt, retry_reason}`. The app acks with `{envelope_id[, payload]}`. An events_api
envelope not acked within `ack_timeout` is sent again with `retry_attempt` + 1 (reason
`timeout`), up to `max_retries` times.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .delivery import EVENTS_API, SLASH_COMMANDS, Attempt, Delivery

if TYPE_CHECKING:
    from .sandbox import SlackSandbox

log = logging.getLogger(__name__)


class SocketModeGateway:
    def __init__(self, sb: SlackSandbox) -> None:
        self.sb = sb
        self._tickets: set[str] = set()
        self.connections: list[web.WebSocketResponse] = []
        #: Every connection ever accepted (for assertions about reconnects).
        self.connection_count = 0
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
        self.connections.append(ws)
        self.connection_count += 1
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
            if ws in self.connections:
                self.connections.remove(ws)
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
        for ws in list(self.connections):
            self.connections.remove(ws)
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
        """Ask the app to reconnect (Slack does this before recycling a connection)."""
        frame = {
            "type": "disconnect",
            "reason": reason,
            "num_connections": len(self.connections),
            "debug_info": {"host": "applink-sandbox"},
            "connection_info": {"app_id": self.sb.workspace.app_id},
        }
        for ws in list(self.connections):
            await ws.send_str(json.dumps(frame))

    async def close(self) -> None:
        for ws in list(self.connections):
            await ws.close()

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
                sent = await self._send(d, attempt_no, reason)
                if sent:
                    frame = await asyncio.wait_for(fut, timeout=self.sb.ack_timeout)
                    attempt.status, attempt.outcome = 200, "acked"
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

    async def _send(self, d: Delivery, retry_attempt: int, retry_reason: str) -> bool:
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
        ws = self.connections[-1] if self.connections else None
        if ws is None:
            return False
        try:
            await ws.send_str(json.dumps(envelope))
        except (ConnectionError, RuntimeError):
            return False
        return True
