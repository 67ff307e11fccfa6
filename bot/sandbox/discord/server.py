"""A local Discord server for the real discord.py: REST and gateway on 127.0.0.1, port 0.

The server runs on its own event loop in a background thread, so the same sandbox serves sync tests,
async tests (whose loop runs the bot), and the demo. Every method here is safe to call from any
thread and never blocks on the bot: actions (a member posts, clicks, runs a command) change the state
under a lock and queue gateway events; inspection reads the state; ``wait_until`` polls.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.sandbox.background import BackgroundServer, serve_on_free_port

from . import model as m
from .gateway import Connection, GatewaySession, Intents, new_session_id
from .pointing import point_discord_py_at
from .rest import APIError, Fault, RestCall, build_app, missing_access, missing_permissions, not_found

# Interaction types and callback types (Discord API "Receiving and Responding").
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, AUTOCOMPLETE_RESULT, MODAL = (
    4,
    5,
    6,
    7,
    8,
    9,
)
CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3

OPTION_TYPES = {
    "SUB_COMMAND": 1,
    "SUB_COMMAND_GROUP": 2,
    "STRING": 3,
    "INTEGER": 4,
    "BOOLEAN": 5,
    "USER": 6,
    "CHANNEL": 7,
    "ROLE": 8,
    "MENTIONABLE": 9,
    "NUMBER": 10,
    "ATTACHMENT": 11,
}

DEFAULT_BOT_PERMISSIONS = (
    m.P.VIEW_CHANNEL
    | m.P.SEND_MESSAGES
    | m.P.READ_MESSAGE_HISTORY
    | m.P.EMBED_LINKS
    | m.P.ATTACH_FILES
    | m.P.MANAGE_CHANNELS
    | m.P.MANAGE_ROLES
    | m.P.MANAGE_MESSAGES
    | m.P.MOVE_MEMBERS
    | m.P.CONNECT
    | m.P.USE_APPLICATION_COMMANDS
)


# The loop keeps only weak references to tasks: hold fire-and-forget ones until they finish.
_BACKGROUND_TASKS: set[asyncio.Future[Any]] = set()


def _spawn(coro: Any) -> None:
    task = asyncio.ensure_future(coro)
    _BACKGROUND_TASKS.add(task)
    task.add_done_callback(_BACKGROUND_TASKS.discard)


class SandboxError(AssertionError):
    """A test asked the simulated server for something Discord would not allow."""


@dataclass(eq=False)
class InteractionRecord:
    """One interaction a simulated member started, and everything the bot answered to it."""

    sandbox: DiscordSandbox
    id: int
    token: str
    type: int
    user_id: int
    guild_id: int | None
    channel_id: int
    payload: dict[str, Any]
    created: float = field(default_factory=time.monotonic)
    callback_type: int | None = None
    callback_data: dict[str, Any] | None = None
    original: m.Message | None = None
    followups: list[m.Message] = field(default_factory=list)
    choices: list[dict[str, Any]] | None = None
    modal: dict[str, Any] | None = None
    target_message_id: int | None = None

    @property
    def acknowledged(self) -> bool:
        return self.callback_type is not None

    @property
    def deferred(self) -> bool:
        return self.callback_type in (DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE)

    @property
    def messages(self) -> list[m.Message]:
        """The interaction's messages: the original response (if any) then the followups."""
        out = [self.original] if self.original is not None else []
        return [x for x in out + self.followups if not x.deleted]

    @property
    def ephemeral(self) -> bool:
        """True when every message the bot answered with is visible to the invoker only."""
        msgs = self.messages
        return bool(msgs) and all(x.ephemeral for x in msgs)

    @property
    def text(self) -> str:
        """All the answered text, original then followups, for assertions."""
        return "\n".join(x.content for x in self.messages if x.content)

    @property
    def files(self) -> list[m.Attachment]:
        return [a for x in self.messages for a in x.attachments]

    def wait(self, timeout: float = 5.0, *, messages: int = 0) -> InteractionRecord:
        """Block until the bot acknowledged this interaction (and produced ``messages`` messages)."""
        self.sandbox.wait_until(lambda: self._done(messages), timeout, what=f"a response to interaction {self.id}")
        return self

    async def async_wait(self, timeout: float = 5.0, *, messages: int = 0) -> InteractionRecord:
        await self.sandbox.async_wait_until(
            lambda: self._done(messages), timeout, what=f"a response to interaction {self.id}"
        )
        return self

    def _done(self, messages: int) -> bool:
        if not self.acknowledged:
            return False
        if self.original is not None and self.original.flags & m.FLAG_LOADING and messages:
            return False
        return len([x for x in self.messages if x.content or x.attachments or x.embeds or x.components]) >= messages


class SimMember:
    """A simulated person in a guild: what a test makes them do reads like a chat transcript."""

    def __init__(self, sandbox: DiscordSandbox, guild: m.Guild, member: m.GuildMember) -> None:
        self.sandbox, self.guild, self.member = sandbox, guild, member

    @property
    def id(self) -> int:
        return self.member.id

    @property
    def name(self) -> str:
        return self.member.user.name

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def __repr__(self) -> str:
        return f"<SimMember {self.name} {self.id}>"

    # ----- voice

    def join_voice(self, channel: m.Channel) -> None:
        self.sandbox._move_member(self.guild, self.member, channel.id, by_bot=False)

    def leave_voice(self) -> None:
        self.sandbox._move_member(self.guild, self.member, None, by_bot=False)

    @property
    def voice_channel(self) -> m.Channel | None:
        return self.sandbox.voice_channel_of(self)

    # ----- messages

    def say(
        self,
        channel: m.Channel,
        content: str,
        *,
        files: Iterable[tuple[str, bytes]] = (),
        reply_to: m.Message | None = None,
    ) -> m.Message:
        """Post a message, as this member would in the Discord client (``reply_to``: as a reply)."""
        needed = m.P.VIEW_CHANNEL | m.P.SEND_MESSAGES | (m.P.ATTACH_FILES if files else 0)
        if channel.type != m.DM and not self.sandbox.can(self, channel, needed):
            raise SandboxError(f"{self.name} cannot send messages in #{channel.name}")
        atts = [(f"files[{i}]", name, data, None) for i, (name, data) in enumerate(files)]
        if reply_to is not None and reply_to.channel_id != channel.id:
            raise SandboxError("a reply must be in the same channel as the message it answers")
        return self.sandbox._post_message(channel, self.member.user, {"content": content}, atts, reply_to=reply_to)

    def react(self, message: m.Message, emoji: str) -> None:
        """Add a (unicode) reaction, as clicking it under the message would: MESSAGE_REACTION_ADD."""
        self.sandbox._react(self, message, emoji, added=True)

    def unreact(self, message: m.Message, emoji: str) -> None:
        """Take one's own reaction back: MESSAGE_REACTION_REMOVE."""
        self.sandbox._react(self, message, emoji, added=False)

    def start_thread(self, message: m.Message, name: str) -> m.Channel:
        """Start a public thread on ``message`` (its id is the message's, as on Discord)."""
        return self.sandbox._start_thread(self, message, name)

    def edit(self, message: m.Message, content: str) -> m.Message:
        if message.author.id != self.id:
            raise SandboxError(f"{self.name} cannot edit someone else's message")
        self.sandbox._edit_message(message, {"content": content}, [])
        return message

    def delete(self, message: m.Message) -> None:
        if message.author.id != self.id:
            channel = self.sandbox._channel(message.channel_id)
            if not self.sandbox.can(self, channel, m.P.MANAGE_MESSAGES):
                raise SandboxError(f"{self.name} cannot delete someone else's message")
        self.sandbox._delete_message(message)

    # ----- interactions

    def run_command(
        self, channel: m.Channel, command: str, options: dict[str, Any] | None = None, **kwargs: Any
    ) -> InteractionRecord:
        """Run a slash command: ``run_command(ch, "breakout start", plan="x", minutes=5)``.

        Option types come from the command as the bot registered it, as in the real client, so the
        command must have been synced first."""
        return self.sandbox._chat_input(self, channel, command, {**(options or {}), **kwargs}, focused=None)

    def autocomplete(
        self,
        channel: m.Channel,
        command: str,
        focused: str,
        value: str,
        options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> InteractionRecord:
        """Type ``value`` into option ``focused``; the record's ``choices`` hold the bot's suggestions."""
        opts = {**(options or {}), **kwargs, focused: value}
        return self.sandbox._chat_input(self, channel, command, opts, focused=focused)

    def click(self, message: m.Message, custom_id: str) -> InteractionRecord:
        """Click the button with ``custom_id`` on ``message``."""
        return self.sandbox._component(self, message, custom_id, values=None)

    def select(self, message: m.Message, custom_id: str, values: list[str]) -> InteractionRecord:
        return self.sandbox._component(self, message, custom_id, values=values)

    def use_message_command(self, message: m.Message, name: str) -> InteractionRecord:
        """Right-click ``message`` -> Apps -> ``name``."""
        return self.sandbox._message_command(self, message, name)

    def submit_modal(self, record: InteractionRecord, values: dict[str, str]) -> InteractionRecord:
        """Fill in and submit the modal the bot answered ``record`` with (text inputs by custom_id)."""
        return self.sandbox._modal_submit(self, record, values)

    # ----- what this member sees

    def can_see(self, channel: m.Channel) -> bool:
        return self.sandbox.can(self, channel, m.P.VIEW_CHANNEL)

    def visible_messages(self, channel: m.Channel) -> list[m.Message]:
        return [x for x in self.sandbox.messages(channel, include_ephemeral=True) if x.ephemeral_for in (None, self.id)]

    def close_dms(self) -> None:
        """Turn off "Direct Messages from server members": the bot's DMs now fail with 50007."""
        self.sandbox.closed_dms.add(self.id)

    def dms(self) -> list[m.Message]:
        """Messages the bot sent this member in a direct message."""
        return self.sandbox.dm_messages(self)


class DiscordSandbox(BackgroundServer):
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
        self.lock = threading.RLock()
        self.rate_limits = dict(rate_limits or {})
        self._buckets: dict[tuple[str, str], list[float]] = {}
        self.unexpected_429s: list[str] = []
        self.host = host
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.interaction_ack_seconds = interaction_ack_seconds
        self.privileged_intents = set(privileged_intents)
        self.application_id = m.snowflake()
        self.bot_user = m.User(self.application_id, bot_name, bot=True)
        self.owner = m.User(m.snowflake(), "owner")
        self.token = self._make_token(self.application_id)
        self.application_flags = (1 << 13) | (1 << 15) | (1 << 19)
        self.users: dict[int, m.User] = {self.bot_user.id: self.bot_user, self.owner.id: self.owner}
        self.guilds: dict[int, m.Guild] = {}
        self.channels: dict[int, m.Channel] = {}
        self._messages: dict[int, m.Message] = {}
        self._by_channel: dict[int, list[int]] = {}
        self.attachments: dict[int, m.Attachment] = {}
        self.attachment_downloads: list[int] = []  # ids of attachments someone fetched, in order
        self._global_commands: list[dict[str, Any]] = []
        self._guild_commands: dict[int, list[dict[str, Any]]] = {}
        self._command_ids: dict[tuple[int | None, int, str], int] = {}
        self.command_overwrites = 0
        self.interactions: dict[int, InteractionRecord] = {}
        self.closed_dms: set[int] = set()
        self._by_token: dict[str, InteractionRecord] = {}
        self.rest_log: list[RestCall] = []
        self.unknown_routes: list[str] = []
        self._server_errors: list[str] = []
        self._faults: list[Fault] = []
        self.sessions: dict[str, GatewaySession] = {}
        self._connections: list[Connection] = []
        self.identifies = 0
        self.resumes = 0
        self.heartbeats = 0
        self.gateway_connections = 0
        self.gateway_queries: list[dict[str, str]] = []
        BackgroundServer.__init__(self)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------------ lifecycle

    @staticmethod
    def _make_token(app_id: int) -> str:
        head = base64.b64encode(str(app_id).encode()).decode().rstrip("=")
        return f"{head}.{secrets.token_urlsafe(4)}.{secrets.token_urlsafe(27)}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def rest_base(self) -> str:
        """What ``discord.http.Route.BASE`` must be (``.../api/v10``)."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway/ws"

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

    # ------------------------------------------------------------------ building the world

    def add_guild(
        self, name: str = "Community", *, bot_permissions: int = DEFAULT_BOT_PERMISSIONS, owner: str | None = None
    ) -> m.Guild:
        with self.lock:
            guild_id = m.snowflake()
            owner_user = self._new_user(owner) if owner else self.owner
            guild = m.Guild(guild_id, name, owner_user.id)
            guild.roles[guild_id] = m.Role(guild_id, guild_id, "@everyone", permissions=m.DEFAULT_EVERYONE_PERMISSIONS)
            bot_role = m.Role(
                m.snowflake(), guild_id, self.bot_user.name, permissions=bot_permissions, position=1, managed=True
            )
            guild.roles[bot_role.id] = bot_role
            guild.members[self.bot_user.id] = m.GuildMember(self.bot_user, guild_id, roles=[bot_role.id])
            guild.members[owner_user.id] = m.GuildMember(owner_user, guild_id)
            self.guilds[guild_id] = guild
            self.bot_role_ids = getattr(self, "bot_role_ids", {})
            self.bot_role_ids[guild_id] = bot_role.id
        self._dispatch_guild_create(guild)
        return guild

    def bot_role(self, guild: m.Guild) -> m.Role:
        return guild.roles[self.bot_role_ids[guild.id]]

    def add_role(self, guild: m.Guild, name: str, *, permissions: int = 0, mentionable: bool = False) -> m.Role:
        with self.lock:
            position = max(r.position for r in guild.roles.values()) + 1
            role = m.Role(
                m.snowflake(), guild.id, name, permissions=permissions, position=position, mentionable=mentionable
            )
            guild.roles[role.id] = role
            data = role.payload()
        self._dispatch_guild_event("GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": data}, Intents.GUILDS)
        return role

    def add_member(
        self,
        guild: m.Guild,
        name: str,
        *,
        roles: Iterable[m.Role] = (),
        is_admin: bool = False,
        nick: str | None = None,
        display_name: str | None = None,
    ) -> SimMember:
        """``name`` is the username; ``display_name`` the global display name (e.g. a full name)."""
        with self.lock:
            user = self._new_user(name)
            user.global_name = display_name
            role_ids = [r.id for r in roles]
            if is_admin:
                admin = next((r for r in guild.roles.values() if r.name == "Admin"), None)
                if admin is None:
                    admin = m.Role(
                        m.snowflake(), guild.id, "Admin", permissions=m.P.ADMINISTRATOR, position=len(guild.roles)
                    )
                    guild.roles[admin.id] = admin
                    self._dispatch_guild_event(
                        "GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": admin.payload()}, Intents.GUILDS
                    )
                role_ids.append(admin.id)
            member = m.GuildMember(user, guild.id, roles=role_ids, nick=nick)
            guild.members[user.id] = member
            data = member.payload() | {"guild_id": str(guild.id)}
        self._dispatch_guild_event("GUILD_MEMBER_ADD", data, Intents.GUILD_MEMBERS)
        return SimMember(self, guild, member)

    def member(self, guild: m.Guild, name_or_id: str | int) -> SimMember:
        with self.lock:
            for member in guild.members.values():
                if member.id == name_or_id or member.user.name == name_or_id:
                    return SimMember(self, guild, member)
        raise KeyError(name_or_id)

    def give_role(self, member: SimMember, role: m.Role) -> None:
        with self.lock:
            if role.id not in member.member.roles:
                member.member.roles.append(role.id)
        self._member_updated(member.guild, member.member)

    def add_text_channel(
        self,
        guild: m.Guild,
        name: str,
        *,
        category: m.Channel | None = None,
        private_to: Iterable[SimMember] | None = None,
    ) -> m.Channel:
        overwrites: list[dict[str, Any]] = []
        if private_to is not None:
            overwrites.append({"id": guild.id, "type": 0, "allow": 0, "deny": m.P.VIEW_CHANNEL})
            for who in [*private_to]:
                overwrites.append({"id": who.id, "type": 1, "allow": m.P.VIEW_CHANNEL, "deny": 0})
            overwrites.append({"id": self.bot_user.id, "type": 1, "allow": m.P.VIEW_CHANNEL, "deny": 0})
        return self._create_channel(
            guild, name=name, type=m.GUILD_TEXT, parent_id=category.id if category else None, overwrites=overwrites
        )

    def add_voice_channel(self, guild: m.Guild, name: str, *, category: m.Channel | None = None) -> m.Channel:
        return self._create_channel(guild, name=name, type=m.GUILD_VOICE, parent_id=category.id if category else None)

    def add_category(self, guild: m.Guild, name: str) -> m.Channel:
        return self._create_channel(guild, name=name, type=m.GUILD_CATEGORY)

    def _new_user(self, name: str) -> m.User:
        user = m.User(m.snowflake(), name)
        self.users[user.id] = user
        return user

    # ------------------------------------------------------------------ faults

    def inject_429(
        self, method: str = "*", route: str = "*", *, times: int = 1, retry_after: float = 0.05, is_global: bool = False
    ) -> Fault:
        """Answer the next ``times`` calls to ``route`` (e.g. ``"/channels/{channel_id}/messages"``,
        ``"*"`` for any) with 429. Discord.py should wait ``retry_after`` and retry."""
        fault = Fault(method.upper(), route, times, retry_after, is_global)
        with self.lock:
            self._faults.append(fault)
        return fault

    def inject_server_error(
        self, method: str = "*", route: str = "*", *, times: int = 1, status: int = 500, after_commit: bool = False
    ) -> Fault:
        """Answer the next ``times`` calls with ``status``. With ``after_commit`` the call takes effect
        first (the reply is what got lost): discord.py retries, and only an idempotent request
        (a message ``nonce`` with ``enforce_nonce``) avoids a duplicate."""
        fault = Fault(method.upper(), route, times, 0.0, status=status, after_commit=after_commit)
        with self.lock:
            self._faults.append(fault)
        return fault

    def _bucket_take(self, method: str, route: str, info: Any) -> tuple[bool, float, int, int] | None:
        """(allowed, reset_after, limit, remaining) for a rate-limited route, None for the others."""
        rule = self.rate_limits.get(f"{method} {route}")
        if rule is None:
            return None
        limit, per = rule
        major = next((info.get(k) for k in ("channel_id", "guild_id", "application_id") if info.get(k)), "")
        now = time.monotonic()
        with self.lock:
            window = self._buckets.setdefault((f"{method} {route}", str(major)), [now, 0])
            if now - window[0] >= per:
                window[0], window[1] = now, 0
            reset_after = max(0.0, per - (now - window[0]))
            if window[1] >= limit:
                return (False, reset_after, limit, 0)
            window[1] += 1
            return (True, reset_after, limit, int(limit - window[1]))

    def _take_fault(self, method: str, route: str) -> Fault | None:
        with self.lock:
            for fault in self._faults:
                if fault.hits < fault.times and fault.matches(method, route):
                    fault.hits += 1
                    return fault
        return None

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

    # ------------------------------------------------------------------ inspection

    def messages(
        self, channel: m.Channel, *, include_ephemeral: bool = False, include_deleted: bool = False
    ) -> list[m.Message]:
        with self.lock:
            out = [self._messages[i] for i in self._by_channel.get(channel.id, [])]
        return [x for x in out if (include_deleted or not x.deleted) and (include_ephemeral or x.ephemeral_for is None)]

    def bot_messages(self, channel: m.Channel) -> list[m.Message]:
        return [x for x in self.messages(channel) if x.author.id == self.bot_user.id]

    def all_messages(self) -> list[m.Message]:
        with self.lock:
            return list(self._messages.values())

    def dm_messages(self, member: SimMember) -> list[m.Message]:
        with self.lock:
            chans = [
                c for c in self.channels.values() if c.type == m.DM and any(u.id == member.id for u in c.recipients)
            ]
        return [x for c in chans for x in self.messages(c)]

    def channel(self, guild: m.Guild, name: str) -> m.Channel:
        with self.lock:
            for ch in guild.channels.values():
                if ch.name == name:
                    return ch
        raise KeyError(name)

    def channels_in(
        self, guild: m.Guild, *, type: int | None = None, category: m.Channel | None = None
    ) -> list[m.Channel]:
        with self.lock:
            chans = sorted(guild.channels.values(), key=lambda c: (c.position, c.id))
        return [
            c for c in chans if (type is None or c.type == type) and (category is None or c.parent_id == category.id)
        ]

    def voice_channel_of(self, member: SimMember) -> m.Channel | None:
        with self.lock:
            vs = member.guild.voice_states.get(member.id)
            return self.channels.get(vs.channel_id) if vs and vs.channel_id else None

    def members_in_voice(self, channel: m.Channel) -> list[SimMember]:
        guild = self.guilds[channel.guild_id]  # type: ignore[index]
        with self.lock:
            ids = [uid for uid, vs in guild.voice_states.items() if vs.channel_id == channel.id]
            return [SimMember(self, guild, guild.members[i]) for i in ids]

    def permissions(self, who: SimMember | m.GuildMember, channel: m.Channel) -> int:
        member = who.member if isinstance(who, SimMember) else who
        with self.lock:
            return self.guilds[channel.guild_id].permissions_in(member, channel)  # type: ignore[index]

    def can(self, who: SimMember | m.GuildMember, channel: m.Channel, permission: int) -> bool:
        return self.permissions(who, channel) & permission == permission

    def commands(self, guild: m.Guild | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(c) for c in self._commands(guild.id if guild else None)]

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

    # ------------------------------------------------------------------ gateway plumbing

    def _authorised(self, header: str) -> bool:
        return header == f"Bot {self.token}"

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

    # ------------------------------------------------------------------ state changes (REST and members)

    def _log_call(self, call: RestCall) -> None:
        with self.lock:
            self.rest_log.append(call)

    def _guild(self, guild_id: Any) -> m.Guild:
        with self.lock:
            guild = self.guilds.get(int(guild_id))
        if guild is None:
            raise not_found("Guild", 10004)
        return guild

    def _channel(self, channel_id: Any) -> m.Channel:
        with self.lock:
            channel = self.channels.get(int(channel_id))
        if channel is None:
            raise not_found("Channel", 10003)
        return channel

    def _member(self, guild: m.Guild, user_id: Any) -> m.GuildMember:
        with self.lock:
            member = guild.members.get(int(user_id))
        if member is None:
            raise not_found("Member", 10007)
        return member

    def _message(self, channel_id: Any, message_id: Any) -> m.Message:
        with self.lock:
            msg = self._messages.get(int(message_id))
        if msg is None or msg.deleted or msg.channel_id != int(channel_id) or msg.ephemeral_for is not None:
            raise not_found("Message", 10008)
        return msg

    def _channel_messages(self, channel_id: int) -> list[m.Message]:
        return [self._messages[i] for i in self._by_channel.get(channel_id, []) if not self._messages[i].deleted]

    def _message_by_nonce(self, channel_id: int, nonce: Any) -> m.Message | None:
        with self.lock:
            for mid in reversed(self._by_channel.get(channel_id, [])):
                msg = self._messages[mid]
                if msg.nonce == nonce and msg.author.id == self.bot_user.id:
                    return msg
        return None

    def _require_bot(self, guild: m.Guild, permission: int) -> None:
        with self.lock:
            perms = guild.base_permissions(guild.members[self.bot_user.id])
        if perms & permission != permission:
            raise missing_permissions()

    def _require_bot_in_channel(self, channel: m.Channel, permission: int) -> None:
        if channel.guild_id is None:
            return
        with self.lock:
            guild = self.guilds[channel.guild_id]
            perms = guild.permissions_in(guild.members[self.bot_user.id], channel)
        if not perms & m.P.VIEW_CHANNEL:
            raise missing_access()
        if perms & permission != permission:
            raise missing_permissions()

    def _user_payload(self, user_id: int) -> dict[str, Any]:
        user = self.users.get(user_id)
        return (
            user.payload()
            if user
            else {"id": str(user_id), "username": str(user_id), "discriminator": "0", "avatar": None}
        )

    def _message_payload(
        self, msg: m.Message, *, member: m.GuildMember | None = None, with_content: bool = True
    ) -> dict[str, Any]:
        return msg.payload(member=member, with_content=with_content, users=self._user_payload, bot_id=self.bot_user.id)

    @staticmethod
    def _normalise_name(name: str, type: int) -> str:
        if type != m.GUILD_TEXT:
            return name[:100]
        # Discord lower-cases text channel names and turns spaces into dashes.
        name = re.sub(r"\s+", "-", name.strip().lower())
        return re.sub(r"[^\w\-\u00b7\u0080-\uffff]", "", name)[:100] or "channel"

    def _create_channel(
        self,
        guild: m.Guild,
        *,
        name: str,
        type: int,
        parent_id: int | None = None,
        topic: str | None = None,
        position: int | None = None,
        overwrites: list[dict[str, Any]] = (),  # type: ignore[assignment]
        user_limit: int = 0,
    ) -> m.Channel:
        if type not in (m.GUILD_TEXT, m.GUILD_VOICE, m.GUILD_CATEGORY):
            raise APIError(400, 50035, "Invalid Form Body: unsupported channel type")
        if overwrites:
            self._check_overwrites(guild, list(overwrites))
        with self.lock:
            if parent_id is not None:
                parent = self.channels.get(parent_id)
                if parent is None or parent.type != m.GUILD_CATEGORY or parent.guild_id != guild.id:
                    raise APIError(400, 50035, "Invalid Form Body: parent_id is not a category")
                if type == m.GUILD_CATEGORY:
                    raise APIError(400, 50035, "Invalid Form Body: categories cannot be nested")
            if parent_id is not None and sum(1 for c in guild.channels.values() if c.parent_id == parent_id) >= 50:
                raise APIError(
                    400, 50035, "Invalid Form Body: parent_id: Maximum number of channels in category reached (50)"
                )
            if len(guild.channels) >= 500:
                raise APIError(400, 30013, "Maximum number of guild channels reached (500)")
            channel = m.Channel(
                id=m.snowflake(),
                type=type,
                name=self._normalise_name(name, type),
                guild_id=guild.id,
                parent_id=parent_id,
                position=position if position is not None else len(guild.channels),
                topic=topic,
                overwrites=[self._overwrite(o) for o in overwrites],
                user_limit=user_limit,
            )
            guild.channels[channel.id] = channel
            self.channels[channel.id] = channel
            self._by_channel[channel.id] = []
            data = channel.payload()
        self._dispatch_guild_event("CHANNEL_CREATE", data, Intents.GUILDS)
        return channel

    def _check_overwrites(
        self, guild: m.Guild, overwrites: list[dict[str, Any]], channel: m.Channel | None = None
    ) -> None:
        """Discord lets a bot allow or deny only permissions it has itself, unless it is an
        administrator or holds Manage Roles through an overwrite in that channel."""
        with self.lock:
            me = guild.members[self.bot_user.id]
            have = guild.base_permissions(me)
            if have & m.P.ADMINISTRATOR or have == m.P.ALL:
                return
            if channel is not None and guild.permissions_in(me, channel) & m.P.MANAGE_ROLES:
                mine = channel.overwrite_for(me.id)
                if mine is not None and mine.allow & m.P.MANAGE_ROLES:
                    return
        for raw in overwrites:
            ow = self._overwrite(raw)
            if (ow.allow | ow.deny) & ~have:
                raise missing_permissions()

    @staticmethod
    def _overwrite(raw: dict[str, Any]) -> m.Overwrite:
        kind = raw.get("type", 0)
        if isinstance(kind, str):
            kind = 0 if kind == "role" else 1
        return m.Overwrite(int(raw["id"]), int(kind), int(raw.get("allow", 0) or 0), int(raw.get("deny", 0) or 0))

    def _modify_channel(self, channel: m.Channel, changes: dict[str, Any], *, by_bot: bool = True) -> None:
        if by_bot and changes.get("permission_overwrites") and channel.guild_id:
            self._check_overwrites(self.guilds[channel.guild_id], changes["permission_overwrites"], channel)
        with self.lock:
            if "name" in changes:
                channel.name = self._normalise_name(changes["name"], channel.type)
            if "topic" in changes:
                channel.topic = changes["topic"]
            if "position" in changes and changes["position"] is not None:
                channel.position = int(changes["position"])
            if "parent_id" in changes:
                channel.parent_id = int(changes["parent_id"]) if changes["parent_id"] else None
            if "permission_overwrites" in changes:
                channel.overwrites = [self._overwrite(o) for o in changes["permission_overwrites"] or []]
            if "user_limit" in changes:
                channel.user_limit = int(changes["user_limit"] or 0)
            data = channel.payload()
        self._dispatch_guild_event("CHANNEL_UPDATE", data, Intents.GUILDS)

    def _delete_channel(self, channel: m.Channel) -> dict[str, Any]:
        with self.lock:
            guild = self.guilds[channel.guild_id]  # type: ignore[index]
            guild.channels.pop(channel.id, None)
            self.channels.pop(channel.id, None)
            data = channel.payload()
            threads = [c for c in guild.channels.values() if c.parent_id == channel.id and c.type == m.PUBLIC_THREAD]
            for thread in threads:
                guild.channels.pop(thread.id, None)
                self.channels.pop(thread.id, None)
            orphans = [c for c in guild.channels.values() if c.parent_id == channel.id]
            for child in orphans:
                child.parent_id = None
            in_voice = [uid for uid, vs in guild.voice_states.items() if vs.channel_id == channel.id]
        self._dispatch_guild_event("CHANNEL_DELETE", data, Intents.GUILDS)
        for child in orphans:
            self._dispatch_guild_event("CHANNEL_UPDATE", child.payload(), Intents.GUILDS)
        for uid in in_voice:
            self._move_member(guild, guild.members[uid], None, by_bot=False)
        return data

    def _move_member(self, guild: m.Guild, member: m.GuildMember, channel_id: int | None, *, by_bot: bool) -> None:
        with self.lock:
            state = guild.voice_states.get(member.id)
            if by_bot and (state is None or state.channel_id is None):
                raise APIError(400, 40032, "Target user is not connected to voice.")
            if channel_id is not None:
                channel = guild.channels.get(channel_id)
                if channel is None or channel.type != m.GUILD_VOICE:
                    raise APIError(400, 50035, "Invalid Form Body: channel_id is not a voice channel")
                if not guild.permissions_in(member, channel) & m.P.CONNECT and not by_bot:
                    raise SandboxError(f"{member.user.name} may not connect to {channel.name}")
                if by_bot and not guild.permissions_in(guild.members[self.bot_user.id], channel) & m.P.CONNECT:
                    # Moving someone needs MOVE_MEMBERS and CONNECT to the destination (Modify Guild Member).
                    raise missing_permissions()
            if state is None:
                state = m.VoiceState(guild.id, member.id, channel_id, secrets.token_hex(16))
                guild.voice_states[member.id] = state
            state.channel_id = channel_id
            if channel_id is None:
                guild.voice_states.pop(member.id, None)
            data = state.payload(member)
        self._dispatch_guild_event("VOICE_STATE_UPDATE", data, Intents.GUILD_VOICE_STATES)

    def _member_updated(self, guild: m.Guild, member: m.GuildMember) -> None:
        with self.lock:
            data = member.payload() | {"guild_id": str(guild.id)}
        self._dispatch_guild_event("GUILD_MEMBER_UPDATE", data, Intents.GUILD_MEMBERS)

    def _start_thread(self, who: SimMember, message: m.Message, name: str) -> m.Channel:
        parent = self._channel(message.channel_id)
        if parent.type != m.GUILD_TEXT or parent.guild_id is None:
            raise SandboxError("threads start from messages in a server's text channel")
        if not self.can(who, parent, m.P.VIEW_CHANNEL | m.P.SEND_MESSAGES):
            raise SandboxError(f"{who.name} cannot start a thread in #{parent.name}")
        with self.lock:
            if message.id in self.channels:
                raise APIError(400, 160004, "A thread has already been created for this message")
            guild = self.guilds[parent.guild_id]
            thread = m.Channel(
                id=message.id,
                type=m.PUBLIC_THREAD,
                name=name[:100],
                guild_id=guild.id,
                parent_id=parent.id,
                owner_id=who.id,
            )
            guild.channels[thread.id] = thread
            self.channels[thread.id] = thread
            self._by_channel[thread.id] = []
            data = thread.payload() | {"newly_created": True}
        self._dispatch_guild_event("THREAD_CREATE", data, Intents.GUILDS)
        return thread

    def _react(self, who: SimMember, message: m.Message, emoji: str, *, added: bool) -> None:
        """A member's reaction (Discord API "Message Reaction Add/Remove"): reacting needs Read Message
        History, and Add Reactions for an emoji nobody has used on the message yet."""
        channel = self._channel(message.channel_id)
        if message.deleted or message.ephemeral_for is not None:
            raise SandboxError("nobody can react to a deleted or ephemeral message")
        if channel.type != m.DM:
            if not self.can(who, channel, m.P.VIEW_CHANNEL | m.P.READ_MESSAGE_HISTORY):
                raise SandboxError(f"{who.name} cannot react in #{channel.name}")
            if added and emoji not in message.reactions and not self.can(who, channel, m.P.ADD_REACTIONS):
                raise SandboxError(f"{who.name} may not add new reactions in #{channel.name}")
        with self.lock:
            users = message.reactions.setdefault(emoji, [])
            if added == (who.id in users):
                if not users:
                    message.reactions.pop(emoji, None)
                return  # already there / already gone: Discord sends nothing
            if added:
                users.append(who.id)
            else:
                users.remove(who.id)
                if not users:
                    message.reactions.pop(emoji, None)
            data: dict[str, Any] = {
                "user_id": str(who.id),
                "channel_id": str(channel.id),
                "message_id": str(message.id),
                "emoji": {"id": None, "name": emoji},
                "burst": False,
                "type": 0,
            }
            if message.guild_id is not None:
                data["guild_id"] = str(message.guild_id)
                if added:
                    data["member"] = who.member.payload()
            if added:
                data["message_author_id"] = str(message.author.id)
                data["burst_colors"] = []
        intent = Intents.GUILD_MESSAGE_REACTIONS if message.guild_id else Intents.DIRECT_MESSAGE_REACTIONS
        self._dispatch_guild_event("MESSAGE_REACTION_ADD" if added else "MESSAGE_REACTION_REMOVE", data, intent)

    def _dm_channel(self, user: m.User) -> m.Channel:
        with self.lock:
            for ch in self.channels.values():
                if ch.type == m.DM and ch.recipients and ch.recipients[0].id == user.id:
                    return ch
            ch = m.Channel(id=m.snowflake(), type=m.DM, name="", recipients=[user])
            self.channels[ch.id] = ch
            self._by_channel[ch.id] = []
            return ch

    def _attachments(
        self, files: list[tuple[str, str, bytes, str | None]], payload: dict[str, Any]
    ) -> list[m.Attachment]:
        out = []
        for _field, filename, data, ctype in files:
            att = m.Attachment(m.snowflake(), filename, data, ctype)
            att.url = f"{self.base_url}/attachments/{att.id}/{filename}"
            self.attachments[att.id] = att
            out.append(att)
        return out

    def _new_message(
        self,
        channel: m.Channel,
        author: m.User,
        payload: dict[str, Any],
        files: list[tuple[str, str, bytes, str | None]],
        *,
        flags: int = 0,
        ephemeral_for: int | None = None,
        interaction: InteractionRecord | None = None,
    ) -> m.Message:
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        content = payload.get("content") or ""
        allowed = payload.get("allowed_mentions")
        msg = m.Message(
            id=m.snowflake(),
            channel_id=channel.id,
            author=author,
            content=content,
            guild_id=channel.guild_id,
            embeds=list(payload.get("embeds") or []),
            components=list(payload.get("components") or []),
            attachments=self._attachments(files, payload),
            flags=flags | (int(payload.get("flags") or 0) & ~m.FLAG_EPHEMERAL),
            allowed_mentions=allowed,
            pings=m.compute_pings(content, allowed, guild),
            nonce=payload.get("nonce"),
            ephemeral_for=ephemeral_for,
        )
        if ephemeral_for is not None:
            msg.flags |= m.FLAG_EPHEMERAL
        if interaction is not None:
            msg.webhook_id = self.application_id
            msg.application_id = self.application_id
            msg.interaction_id = interaction.id
            msg.type = 20 if interaction.type == APPLICATION_COMMAND else 0
            msg.interaction_metadata = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": self._user_payload(interaction.user_id),
                "authorizing_integration_owners": {"0": str(interaction.guild_id)} if interaction.guild_id else {},
            }
        self._messages[msg.id] = msg
        self._by_channel.setdefault(channel.id, []).append(msg.id)
        channel.last_message_id = msg.id
        return msg

    def _post_message(
        self,
        channel: m.Channel,
        author: m.User,
        payload: dict[str, Any],
        files: list[Any],
        *,
        reply_to: m.Message | None = None,
    ) -> m.Message:
        if reply_to is None and isinstance(payload.get("message_reference"), dict):
            with self.lock:
                reply_to = self._messages.get(int(payload["message_reference"].get("message_id", 0)))
        with self.lock:
            msg = self._new_message(channel, author, payload, files)
            if reply_to is not None:
                msg.reference, msg.type = reply_to, 19  # REPLY
        self._dispatch_message("MESSAGE_CREATE", msg)
        return msg

    def _edit_message(self, msg: m.Message, payload: dict[str, Any], files: list[Any]) -> None:
        with self.lock:
            guild = self.guilds.get(msg.guild_id) if msg.guild_id else None
            if "content" in payload:
                msg.edits.append(msg.content)
                msg.content = payload["content"] or ""
                msg.allowed_mentions = payload.get("allowed_mentions", msg.allowed_mentions)
                msg.pings = m.compute_pings(msg.content, msg.allowed_mentions, guild)
            if "embeds" in payload:
                msg.embeds = list(payload["embeds"] or [])
            if "components" in payload:
                msg.components = list(payload["components"] or [])
            if "attachments" in payload or files:
                keep = {
                    int(a["id"])
                    for a in payload.get("attachments") or []
                    if "id" in a and str(a["id"]).isdigit() and int(a["id"]) > 100
                }
                msg.attachments = [a for a in msg.attachments if a.id in keep] + self._attachments(files, payload)
            msg.flags &= ~m.FLAG_LOADING
            msg.edited_timestamp = m.iso_now()
        self._dispatch_message("MESSAGE_UPDATE", msg)

    def _delete_message(self, msg: m.Message) -> None:
        with self.lock:
            msg.deleted = True
            data: dict[str, Any] = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            if msg.guild_id:
                data["guild_id"] = str(msg.guild_id)
        if msg.ephemeral_for is None:
            intent = Intents.GUILD_MESSAGES if msg.guild_id else Intents.DIRECT_MESSAGES
            self._dispatch_guild_event("MESSAGE_DELETE", data, intent)

    def _bulk_delete(self, channel: m.Channel, msgs: list[m.Message]) -> None:
        with self.lock:
            for msg in msgs:
                msg.deleted = True
            data = {"ids": [str(x.id) for x in msgs], "channel_id": str(channel.id), "guild_id": str(channel.guild_id)}
        self._dispatch_guild_event("MESSAGE_DELETE_BULK", data, Intents.GUILD_MESSAGES)

    # ------------------------------------------------------------------ application commands

    def _commands(self, guild_id: int | None) -> list[dict[str, Any]]:
        return self._guild_commands.get(guild_id, []) if guild_id else self._global_commands

    def _overwrite_commands(self, guild_id: int | None, body: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self.lock:
            self.command_overwrites += 1
            result = []
            for raw in body:
                kind = int(raw.get("type", 1))
                name = raw.get("name")
                if (
                    not name
                    or (kind == CHAT_INPUT and not re.fullmatch(r"[-_\w]{1,32}", name))
                    or (kind == CHAT_INPUT and name != name.lower())
                ):
                    raise APIError(400, 50035, f"Invalid Form Body: bad command name {name!r}")
                key = (guild_id, kind, name)
                cid = self._command_ids.setdefault(key, m.snowflake())
                cmd = {
                    "id": str(cid),
                    "application_id": str(self.application_id),
                    "version": str(m.snowflake()),
                    "default_member_permissions": raw.get("default_member_permissions"),
                    "type": kind,
                    "name": name,
                    "name_localizations": raw.get("name_localizations"),
                    "description": raw.get("description", ""),
                    "description_localizations": raw.get("description_localizations"),
                    "options": raw.get("options", []),
                    "dm_permission": raw.get("dm_permission", True),
                    "contexts": raw.get("contexts"),
                    "integration_types": raw.get("integration_types", [0]),
                    "nsfw": raw.get("nsfw", False),
                }
                if guild_id:
                    cmd["guild_id"] = str(guild_id)
                result.append(cmd)
            if guild_id:
                self._guild_commands[guild_id] = result
            else:
                self._global_commands = result
            return [dict(c) for c in result]

    def _find_command(self, guild_id: int | None, name: str, kind: int) -> dict[str, Any]:
        with self.lock:
            for cmd in (self._guild_commands.get(guild_id, []) if guild_id else []) + self._global_commands:
                if cmd["name"] == name and cmd["type"] == kind:
                    return cmd
        raise SandboxError(
            f"no {'slash' if kind == CHAT_INPUT else 'context-menu'} command {name!r} is registered; sync the bot's commands first"
        )

    # ------------------------------------------------------------------ interactions

    def _base_interaction(
        self, who: SimMember, channel: m.Channel, kind: int, data: dict[str, Any]
    ) -> InteractionRecord:
        if channel.type == m.DM:
            return self._dm_interaction(who, channel, kind, data)
        guild = who.guild
        with self.lock:
            perms = guild.permissions_in(who.member, channel)
            app_perms = guild.permissions_in(guild.members[self.bot_user.id], channel)
            iid = m.snowflake()
            token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
            payload: dict[str, Any] = {
                "id": str(iid),
                "application_id": str(self.application_id),
                "type": kind,
                "data": data,
                "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
                "guild_id": str(guild.id),
                "channel": channel.payload(),
                "channel_id": str(channel.id),
                "member": who.member.payload(permissions=perms),
                "token": token,
                "version": 1,
                "app_permissions": str(app_perms),
                "locale": "en-GB",
                "guild_locale": "en-US",
                "entitlements": [],
                "authorizing_integration_owners": {"0": str(guild.id)},
                "context": 0,
                "attachment_size_limit": 10 * 1024 * 1024,
            }
            record = InteractionRecord(self, iid, token, kind, who.id, guild.id, channel.id, payload)
            self.interactions[iid] = record
            self._by_token[token] = record
        return record

    def _dm_interaction(self, who: SimMember, channel: m.Channel, kind: int, data: dict[str, Any]) -> InteractionRecord:
        """In a DM with the bot there is no guild and no member: ``user`` instead, context BOT_DM."""
        with self.lock:
            iid = m.snowflake()
            token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
            payload: dict[str, Any] = {
                "id": str(iid),
                "application_id": str(self.application_id),
                "type": kind,
                "data": data,
                "channel": channel.payload(),
                "channel_id": str(channel.id),
                "user": who.member.user.payload(),
                "token": token,
                "version": 1,
                "app_permissions": str(
                    m.P.VIEW_CHANNEL | m.P.SEND_MESSAGES | m.P.EMBED_LINKS | m.P.ATTACH_FILES | m.P.READ_MESSAGE_HISTORY
                ),
                "locale": "en-GB",
                "entitlements": [],
                "authorizing_integration_owners": {"0": "0"},
                "context": 1,
                "attachment_size_limit": 10 * 1024 * 1024,
            }
            record = InteractionRecord(self, iid, token, kind, who.id, None, channel.id, payload)
            self.interactions[iid] = record
            self._by_token[token] = record
        return record

    def _send_interaction(self, record: InteractionRecord) -> InteractionRecord:
        record.created = time.monotonic()
        self._dispatch("INTERACTION_CREATE", lambda s: record.payload)
        return record

    def _chat_input(
        self, who: SimMember, channel: m.Channel, command: str, options: dict[str, Any], *, focused: str | None
    ) -> InteractionRecord:
        if not who.can_see(channel):
            raise SandboxError(f"{who.name} cannot see #{channel.name}")
        parts = command.strip().lstrip("/").split()
        cmd = self._find_command(who.guild.id, parts[0], CHAT_INPUT)
        resolved: dict[str, dict[str, Any]] = {}
        defs = cmd.get("options") or []
        path: list[tuple[str, int]] = []
        for part in parts[1:]:
            opt = next((o for o in defs if o["name"] == part and o["type"] in (1, 2)), None)
            if opt is None:
                raise SandboxError(f"/{parts[0]} has no subcommand {part!r}")
            path.append((part, opt["type"]))
            defs = opt.get("options") or []
        if any(o["type"] in (1, 2) for o in defs):
            raise SandboxError(f"/{command} needs a subcommand: {[o['name'] for o in defs]}")
        leaf = []
        for name, value in options.items():
            name = name.replace("_", "-") if not any(o["name"] == name for o in defs) else name
            opt = next((o for o in defs if o["name"] == name), None)
            if opt is None:
                raise SandboxError(f"/{command} has no option {name!r}; it has {[o['name'] for o in defs]}")
            leaf.append(self._option_value(who.guild, opt, value, resolved, focused == name))
        if focused is None:
            given = {o["name"] for o in leaf}
            missing = [o["name"] for o in defs if o.get("required") and o["name"] not in given]
            if missing:
                raise SandboxError(f"/{command} needs {missing}")
            for o in leaf:
                choices = next(d for d in defs if d["name"] == o["name"]).get("choices")
                if choices and o["value"] not in [c["value"] for c in choices]:
                    raise SandboxError(f"{o['value']!r} is not a choice of {o['name']}")
        for name, kind in reversed(path):
            leaf = [{"name": name, "type": kind, "options": leaf}]
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": CHAT_INPUT, "options": leaf}
        if "guild_id" in cmd:
            data["guild_id"] = cmd["guild_id"]
        if resolved:
            data["resolved"] = resolved
        record = self._base_interaction(who, channel, AUTOCOMPLETE if focused else APPLICATION_COMMAND, data)
        return self._send_interaction(record)

    def _option_value(
        self, guild: m.Guild, opt: dict[str, Any], value: Any, resolved: dict[str, dict[str, Any]], focused: bool
    ) -> dict[str, Any]:
        kind = opt["type"]
        out: dict[str, Any] = {"name": opt["name"], "type": kind}
        if focused:
            out.update(value=str(value), focused=True)
            return out
        if kind == 6:
            member = value.member if isinstance(value, SimMember) else guild.members[int(value)]
            out["value"] = str(member.id)
            resolved.setdefault("users", {})[str(member.id)] = member.user.payload()
            resolved.setdefault("members", {})[str(member.id)] = member.payload(with_user=False, permissions=0)
        elif kind == 7:
            channel = value if isinstance(value, m.Channel) else self.channels[int(value)]
            out["value"] = str(channel.id)
            ch = channel.payload()
            resolved.setdefault("channels", {})[str(channel.id)] = {
                "id": ch["id"],
                "name": ch.get("name"),
                "type": ch["type"],
                "permissions": str(m.P.ALL),
                "parent_id": ch.get("parent_id"),
                "guild_id": ch.get("guild_id"),
            }
        elif kind == 8:
            role = value if isinstance(value, m.Role) else guild.roles[int(value)]
            out["value"] = str(role.id)
            resolved.setdefault("roles", {})[str(role.id)] = role.payload()
        elif kind == 11:
            # The client uploads the file first; the option's value is the attachment's id, resolved.
            if isinstance(value, m.Attachment):
                att = value
            else:
                filename, data, *ctype = value
                [att] = self._attachments([("files[0]", filename, data, ctype[0] if ctype else None)], {})
            out["value"] = str(att.id)
            resolved.setdefault("attachments", {})[str(att.id)] = att.payload() | {"ephemeral": True}
        elif kind == 4:
            out["value"] = int(value)
        elif kind == 10:
            out["value"] = float(value)
        elif kind == 5:
            out["value"] = bool(value)
        else:
            out["value"] = str(value)
        return out

    def _component(
        self, who: SimMember, message: m.Message, custom_id: str, values: list[str] | None
    ) -> InteractionRecord:
        channel = self._channel(message.channel_id)
        with self.lock:
            if message.deleted:
                raise SandboxError("that message was deleted")
            if message.ephemeral_for not in (None, who.id):
                raise SandboxError(f"{who.name} cannot see that ephemeral message")
            component = message.find_component(custom_id)
            if component is None:
                raise SandboxError(f"no component {custom_id!r} on that message; it has {message.custom_ids()}")
            if component.get("disabled"):
                raise SandboxError(f"the component {custom_id!r} is disabled")
            data: dict[str, Any] = {"custom_id": custom_id, "component_type": component.get("type", 2)}
            if values is not None:
                data["values"] = list(values)
            msg_payload = self._message_payload(message)
        record = self._base_interaction(who, channel, MESSAGE_COMPONENT, data)
        record.payload["message"] = msg_payload
        record.target_message_id = message.id
        return self._send_interaction(record)

    def _modal_submit(self, who: SimMember, opened: InteractionRecord, values: dict[str, str]) -> InteractionRecord:
        modal = opened.modal
        if modal is None:
            raise SandboxError("the bot did not answer that interaction with a modal")
        unknown = set(values)

        def fill(item: dict[str, Any]) -> dict[str, Any]:
            if item.get("type") == 4:  # a text input: what the member typed
                unknown.discard(item["custom_id"])
                value = values.get(item["custom_id"], item.get("value") or "")
                if item.get("required", True) and not value:
                    raise SandboxError(f"the modal's field {item['custom_id']!r} is required")
                return {
                    k: v
                    for k, v in {
                        "type": 4,
                        "id": item.get("id"),
                        "custom_id": item["custom_id"],
                        "value": value,
                    }.items()
                    if v is not None
                }
            out = {k: v for k, v in {"type": item.get("type"), "id": item.get("id")}.items() if v is not None}
            if "components" in item:
                out["components"] = [fill(c) for c in item["components"]]
            if "component" in item:
                out["component"] = fill(item["component"])
            return out

        components = [fill(c) for c in modal.get("components", [])]
        if unknown:
            raise SandboxError(f"the modal has no fields {sorted(unknown)}")
        channel = self._channel(opened.channel_id)
        record = self._base_interaction(
            who, channel, MODAL_SUBMIT, {"custom_id": modal["custom_id"], "components": components}
        )
        if opened.target_message_id is not None and opened.type == MESSAGE_COMPONENT:
            with self.lock:
                record.payload["message"] = self._message_payload(self._messages[opened.target_message_id])
            record.target_message_id = opened.target_message_id
        return self._send_interaction(record)

    def _message_command(self, who: SimMember, message: m.Message, name: str) -> InteractionRecord:
        channel = self._channel(message.channel_id)
        cmd = self._find_command(who.guild.id, name, MESSAGE_COMMAND)
        with self.lock:
            data: dict[str, Any] = {
                "id": cmd["id"],
                "name": cmd["name"],
                "type": MESSAGE_COMMAND,
                "target_id": str(message.id),
                "resolved": {"messages": {str(message.id): self._message_payload(message)}},
            }
            if "guild_id" in cmd:
                data["guild_id"] = cmd["guild_id"]
        record = self._base_interaction(who, channel, APPLICATION_COMMAND, data)
        record.target_message_id = message.id
        return self._send_interaction(record)

    def _interaction_for_callback(self, interaction_id: int, token: str) -> InteractionRecord:
        with self.lock:
            record = self.interactions.get(interaction_id)
        if record is None or record.token != token:
            raise not_found("interaction", 10062)
        if time.monotonic() - record.created > self.interaction_ack_seconds:
            raise not_found("interaction", 10062)
        if record.acknowledged:
            raise APIError(400, 40060, "Interaction has already been acknowledged.")
        return record

    def _interaction_for_webhook(self, application_id: Any, token: str) -> InteractionRecord:
        with self.lock:
            record = self._by_token.get(token)
        if record is None or int(application_id) != self.application_id:
            raise not_found("Webhook", 10015)
        if not record.acknowledged:
            raise not_found("Webhook", 10015)
        return record

    def _respond_to_interaction(
        self, record: InteractionRecord, body: dict[str, Any], files: list[Any]
    ) -> dict[str, Any]:
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        channel = self._channel(record.channel_id)
        allowed = {
            APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL},
            MESSAGE_COMPONENT: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, MODAL},
            AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
            MODAL_SUBMIT: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE},
        }[record.type]
        if kind not in allowed:
            raise APIError(
                400, 50035, f"Invalid Form Body: callback type {kind} is not valid for interaction type {record.type}"
            )
        ephemeral = bool(int(data.get("flags") or 0) & m.FLAG_EPHEMERAL)
        message: m.Message | None = None
        updated: m.Message | None = None
        with self.lock:
            record.callback_type = kind
            record.callback_data = data
            if kind == CHANNEL_MESSAGE:
                message = self._new_message(
                    channel,
                    self.bot_user,
                    data,
                    files,
                    ephemeral_for=record.user_id if ephemeral else None,
                    interaction=record,
                )
                record.original = message
            elif kind == DEFERRED_CHANNEL_MESSAGE:
                message = self._new_message(
                    channel,
                    self.bot_user,
                    {},
                    [],
                    flags=m.FLAG_LOADING,
                    ephemeral_for=record.user_id if ephemeral else None,
                    interaction=record,
                )
                record.original = message
            elif kind == UPDATE_MESSAGE:
                updated = self._messages.get(record.target_message_id or 0)
                record.original = updated
            elif kind == DEFERRED_UPDATE:
                record.original = self._messages.get(record.target_message_id or 0)
            elif kind == AUTOCOMPLETE_RESULT:
                record.choices = list(data.get("choices") or [])
            elif kind == MODAL:
                record.modal = data
            result: dict[str, Any] = {
                "interaction": {
                    "id": str(record.id),
                    "type": record.type,
                    "response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE,
                    "response_message_ephemeral": ephemeral,
                }
            }
            shown = message or updated
            if shown is not None:
                result["interaction"]["response_message_id"] = str(shown.id)
            if message is not None:
                result["resource"] = {"type": kind, "message": self._message_payload(message)}
            else:
                result["resource"] = {"type": kind}
        if message is not None:
            self._dispatch_message("MESSAGE_CREATE", message)
        if updated is not None:
            self._edit_message(updated, data, files)
            with self.lock:
                result["resource"]["message"] = self._message_payload(updated)
        return result

    def _followup(self, record: InteractionRecord, payload: dict[str, Any], files: list[Any]) -> m.Message:
        channel = self._channel(record.channel_id)
        original = record.original
        if (
            original is not None
            and record.callback_type == DEFERRED_CHANNEL_MESSAGE
            and original.flags & m.FLAG_LOADING
        ):
            # The first followup after a "thinking" defer replaces the loading message.
            self._edit_message(original, payload, files)
            return original
        ephemeral = bool(int(payload.get("flags") or 0) & m.FLAG_EPHEMERAL)
        with self.lock:
            msg = self._new_message(
                channel,
                self.bot_user,
                payload,
                files,
                ephemeral_for=record.user_id if ephemeral else None,
                interaction=record,
            )
            record.followups.append(msg)
        self._dispatch_message("MESSAGE_CREATE", msg)
        return msg
