"""Gateway sessions and who gets which event: IDENTIFY, RESUME, member requests and the fan-out.

Every change in the simulated server becomes a dispatch appended to each session that should see it
(by its intents, and without message content unless the MESSAGE_CONTENT intent allows it), then
flushed on the sandbox's loop. The websocket itself is in `gateway.py`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import Any

from . import model as m
from .gateway import Connection, GatewaySession, Intents, new_session_id
from .state import ServerState

# The loop keeps only weak references to tasks: hold fire-and-forget ones until they finish.
_BACKGROUND_TASKS: set[asyncio.Future[Any]] = set()


def _spawn(coro: Any) -> None:
    task = asyncio.ensure_future(coro)
    _BACKGROUND_TASKS.add(task)
    task.add_done_callback(_BACKGROUND_TASKS.discard)


class GatewayDispatch(ServerState):
    """Sessions and the events they are owed; faults that cut the gateway."""

    def _gateway_connected(self, conn: Connection) -> None:
        with self.lock:
            self.gateway_connections += 1
            self.gateway_queries.append(dict(conn.request.query))
            self._connections.append(conn)

    def _gateway_disconnected(self, conn: Connection, session: GatewaySession | None) -> None:
        with self.lock:
            if conn in self._connections:
                self._connections.remove(conn)
            for s in self.sessions.values():
                if s.conn is conn:
                    s.conn = None

    def _identify_problem(self, data: dict[str, Any]) -> tuple[int, str] | None:
        if not isinstance(data, dict) or data.get("token") != self.token:
            return (4004, "Authentication failed")
        intents = data.get("intents")
        if intents is None:
            return (4013, "Invalid intent(s)")
        for name, bit in Intents.PRIVILEGED.items():
            if int(intents) & bit and name not in self.privileged_intents:
                return (4014, "Disallowed intent(s)")
        return None

    def _new_session(self, data: dict[str, Any], conn: Connection) -> GatewaySession:
        with self.lock:
            self.identifies += 1
            session = GatewaySession(new_session_id(), data["token"], int(data["intents"]))
            session.conn = conn
            self.sessions[session.id] = session
            ready: dict[str, Any] = {
                "v": 10,
                "user": self.bot_user.payload() | {"verified": True, "mfa_enabled": False},
                "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds],
                "session_id": session.id,
                "session_type": "normal",
                "resume_gateway_url": self.gateway_url,
                "application": {"id": str(self.application_id), "flags": self.application_flags},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": [],
                "auth_session_id_hash": "",
                "_trace": ["sandbox"],
            }
            if "shard" in data:
                ready["shard"] = data["shard"]
            session.append("READY", ready)
            for guild in self.guilds.values():
                session.append("GUILD_CREATE", self._guild_create_payload(guild, session))
        return session

    def _resume_session(self, data: dict[str, Any], conn: Connection) -> GatewaySession | None:
        with self.lock:
            session = self.sessions.get((data or {}).get("session_id", ""))
            if session is None or data.get("token") != session.token:
                return None
            seq = int(data.get("seq") or 0)
            if seq > session.seq:
                return None
            old = session.conn
            session.conn = conn
            session.sent = seq
            session.append("RESUMED", {"_trace": ["sandbox"]})
            self.resumes += 1
        if old is not None and not old.ws.closed:
            _spawn(old.ws.close(code=4000))
        return session

    def _request_members(self, session: GatewaySession, data: dict[str, Any]) -> None:
        with self.lock:
            guild = self.guilds.get(int(data.get("guild_id", 0)))
            if guild is None:
                return
            members = list(guild.members.values())
            query = data.get("query") or ""
            if query:
                members = [x for x in members if x.user.name.lower().startswith(query.lower())]
            if data.get("user_ids"):
                wanted = {int(u) for u in data["user_ids"]}
                members = [x for x in members if x.id in wanted]
            if data.get("limit"):
                members = members[: int(data["limit"])]
            chunk: dict[str, Any] = {
                "guild_id": str(guild.id),
                "members": [x.payload() for x in members],
                "chunk_index": 0,
                "chunk_count": 1,
            }
            if data.get("nonce"):
                chunk["nonce"] = data["nonce"]
            if data.get("presences"):
                chunk["presences"] = []
            session.append("GUILD_MEMBERS_CHUNK", chunk)

    def _guild_create_payload(self, guild: m.Guild, session: GatewaySession) -> dict[str, Any]:
        if session.wants(Intents.GUILD_MEMBERS):
            members = list(guild.members.values())
        else:
            in_voice = {uid for uid, vs in guild.voice_states.items() if vs.channel_id}
            members = [x for x in guild.members.values() if x.id == self.bot_user.id or x.id in in_voice]
        return guild.create_payload(members=members, voice_states=session.wants(Intents.GUILD_VOICE_STATES))

    # ------------------------------------------------------------------ fan-out

    def _dispatch(self, event: str, build: Callable[[GatewaySession], dict[str, Any] | None]) -> None:
        """Append ``event`` to every session that should get it, then flush on the sandbox loop."""
        with self.lock:
            touched = []
            for session in self.sessions.values():
                data = build(session)
                if data is not None:
                    session.append(event, data)
                    touched.append(session)
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        for session in touched:
            loop.call_soon_threadsafe(self._flush_soon, session)

    @staticmethod
    def _flush_soon(session: GatewaySession) -> None:
        _spawn(session.flush())

    def _dispatch_guild_event(self, event: str, data: dict[str, Any], intent: int) -> None:
        self._dispatch(event, lambda s: data if s.wants(intent) else None)

    def _dispatch_guild_create(self, guild: m.Guild) -> None:
        self._dispatch(
            "GUILD_CREATE", lambda s: self._guild_create_payload(guild, s) if s.wants(Intents.GUILDS) else None
        )

    def _dispatch_message(self, event: str, msg: m.Message) -> None:
        if msg.ephemeral_for is not None:
            return  # ephemeral messages never reach the gateway
        intent = Intents.GUILD_MESSAGES if msg.guild_id else Intents.DIRECT_MESSAGES
        member = self.guilds[msg.guild_id].members.get(msg.author.id) if msg.guild_id else None

        def build(session: GatewaySession) -> dict[str, Any] | None:
            if not session.wants(intent):
                return None
            # Without MESSAGE_CONTENT a bot only sees the content of its own messages, DMs and
            # messages that mention it (Discord API "Message Content Intent").
            with_content = (
                session.wants(Intents.MESSAGE_CONTENT)
                or msg.author.id == self.bot_user.id
                or msg.guild_id is None
                or self.bot_user.id in msg.pings["users"]
            )
            return self._message_payload(msg, member=member, with_content=with_content)

        self._dispatch(event, build)

    # ------------------------------------------------------------------ faults

    def drop_gateway(self, *, code: int = 4000, abort: bool = False) -> concurrent.futures.Future[None]:
        """Drop every gateway connection (the session stays resumable). Events from now on are
        queued and replayed when discord.py RESUMEs. Returns at once; the close runs on the
        sandbox's loop."""
        with self.lock:
            conns = list(self._connections)
            for session in self.sessions.values():
                session.conn = None

        async def close() -> None:
            for conn in conns:
                if abort:
                    transport = conn.request.transport
                    if transport is not None:
                        transport.abort()
                else:
                    await conn.ws.close(code=code, message=b"sandbox dropped the connection")

        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(close(), self._loop)

    def invalidate_sessions(self) -> None:
        """Forget every session, so the next RESUME gets INVALID_SESSION and must IDENTIFY again."""
        with self.lock:
            self.sessions.clear()
