"""The sandbox's gateway: the websocket discord.py keeps open for events.

One :class:`GatewaySession` per IDENTIFY. Every dispatch is appended to the session's event log with
the next sequence number and then flushed to the session's current connection, if any. A session
outlives its connection, so a RESUME with the last sequence the client saw replays exactly what it
missed, the way Discord does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from .server import DiscordSandbox

_log = logging.getLogger(__name__)

# Gateway opcodes (Discord API "Gateway Opcodes").
DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE_STATE, RESUME, RECONNECT, REQUEST_MEMBERS = 0, 1, 2, 3, 4, 6, 7, 8
INVALID_SESSION, HELLO, HEARTBEAT_ACK = 9, 10, 11


class Intents:
    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_VOICE_STATES = 1 << 7
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    MESSAGE_CONTENT = 1 << 15
    PRIVILEGED: ClassVar[dict[str, int]] = {
        "members": GUILD_MEMBERS,
        "presences": GUILD_PRESENCES,
        "message_content": MESSAGE_CONTENT,
    }


try:  # discord.py asks for zstd-stream when a zstd module is importable, zlib-stream otherwise.
    from zstandard import ZstdCompressor as _ZstdCompressor

    _HAVE_ZSTD = True
except ImportError:  # pragma: no cover - depends on the environment
    _HAVE_ZSTD = False


class _Encoder:
    """Frames one connection's outgoing payloads according to its ``compress`` query parameter."""

    def __init__(self, compress: str | None) -> None:
        self.kind = compress
        if compress == "zlib-stream":
            self._zlib = zlib.compressobj()
        elif compress == "zstd-stream":
            if not _HAVE_ZSTD:
                raise ValueError("zstd-stream requested but zstandard is not installed")
            self._zstd = _ZstdCompressor().compressobj()
        elif compress:
            raise ValueError(f"unknown compression {compress!r}")

    def encode(self, payload: dict[str, Any]) -> str | bytes:
        text = json.dumps(payload, separators=(",", ":"))
        if self.kind == "zlib-stream":
            # One shared zlib context per connection; every message ends with a Z_SYNC_FLUSH suffix.
            return self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
        if self.kind == "zstd-stream":
            from zstandard import COMPRESSOBJ_FLUSH_BLOCK

            return self._zstd.compress(text.encode()) + self._zstd.flush(COMPRESSOBJ_FLUSH_BLOCK)
        return text


@dataclass(eq=False)
class Connection:
    ws: web.WebSocketResponse
    encoder: _Encoder
    request: web.Request
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    received: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, payload: dict[str, Any]) -> None:
        data = self.encoder.encode(payload)
        if isinstance(data, bytes):
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(data)


@dataclass(eq=False)
class GatewaySession:
    id: str
    token: str
    intents: int
    events: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    sent: int = 0
    conn: Connection | None = None
    flushing: bool = False

    @property
    def seq(self) -> int:
        return len(self.events)

    def wants(self, intent: int) -> bool:
        return bool(self.intents & intent)

    def append(self, event: str, data: dict[str, Any]) -> None:
        self.events.append((len(self.events) + 1, event, data))

    async def flush(self) -> None:
        conn = self.conn
        if conn is None:
            return
        async with conn.send_lock:
            while self.conn is conn and self.sent < self.seq and not conn.ws.closed:
                seq, event, data = self.events[self.sent]
                try:
                    await conn.send({"op": DISPATCH, "s": seq, "t": event, "d": data})
                except (ConnectionError, RuntimeError):
                    return
                self.sent = seq


async def gateway_handler(sandbox: DiscordSandbox, request: web.Request) -> web.StreamResponse:
    ws = web.WebSocketResponse(max_msg_size=0)
    await ws.prepare(request)
    if request.query.get("encoding", "json") != "json":
        await ws.close(code=4002, message=b"Decode error")
        return ws
    try:
        encoder = _Encoder(request.query.get("compress"))
    except ValueError:
        await ws.close(code=4002, message=b"Decode error")
        return ws
    conn = Connection(ws=ws, encoder=encoder, request=request)
    sandbox._gateway_connected(conn)
    session: GatewaySession | None = None
    try:
        async with conn.send_lock:
            await conn.send(
                {"op": HELLO, "s": None, "t": None, "d": {"heartbeat_interval": sandbox.heartbeat_interval_ms}}
            )
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                if msg.type == WSMsgType.BINARY:
                    await ws.close(code=4002, message=b"Decode error")
                break
            try:
                payload = json.loads(msg.data)
            except ValueError:
                await ws.close(code=4002, message=b"Decode error")
                break
            conn.received.append(payload)
            op = payload.get("op")
            data = payload.get("d")
            if op == HEARTBEAT:
                sandbox.heartbeats += 1
                async with conn.send_lock:
                    await conn.send({"op": HEARTBEAT_ACK, "s": None, "t": None, "d": None})
            elif op == IDENTIFY:
                if session is not None:
                    await ws.close(code=4005, message=b"Already authenticated")
                    break
                code = sandbox._identify_problem(data)
                if code is not None:
                    await ws.close(code=code[0], message=code[1].encode())
                    break
                session = sandbox._new_session(data, conn)
                await session.flush()
            elif op == RESUME:
                session = sandbox._resume_session(data, conn)
                if session is None:
                    async with conn.send_lock:
                        await conn.send({"op": INVALID_SESSION, "s": None, "t": None, "d": False})
                    continue
                await session.flush()
            elif op == REQUEST_MEMBERS:
                if session is None:
                    await ws.close(code=4003, message=b"Not authenticated")
                    break
                sandbox._request_members(session, data)
                await session.flush()
            elif op in (PRESENCE, VOICE_STATE):
                continue
            else:
                await ws.close(code=4001, message=b"Unknown opcode")
                break
    finally:
        sandbox._gateway_disconnected(conn, session)
    return ws


def new_session_id() -> str:
    return secrets.token_hex(16)
