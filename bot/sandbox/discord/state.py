"""What the simulated Discord holds, and the look-ups every other part of the sandbox shares.

`DiscordSandbox` is assembled from one mixin per concern (guilds, voice, messages, commands,
interactions, faults, gateway dispatch); they all stand on this state. Every look-up here raises the
`APIError` Discord would answer with (Unknown Channel, Missing Access, ...), so the REST routes can
use them as they are.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from aiohttp import web

from bot.sandbox.background import BackgroundServer

from . import model as m
from .members import SimMember
from .rest import Fault, RestCall, missing_access, missing_permissions, not_found

if TYPE_CHECKING:
    from .gateway import Connection, GatewaySession
    from .records import InteractionRecord
    from .server import DiscordSandbox


class ServerState(BackgroundServer):
    """The guilds, channels, messages, commands, interactions and sessions, under one lock."""

    def __init__(
        self,
        *,
        bot_name: str,
        heartbeat_interval_ms: int,
        interaction_ack_seconds: float,
        privileged_intents: Iterable[str],
        host: str,
        rate_limits: dict[str, tuple[int, float]] | None,
    ) -> None:
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
        self.bot_role_ids: dict[int, int] = {}
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

    @property
    def _sandbox(self) -> DiscordSandbox:
        """This object as the whole sandbox (each part is a mixin of it), for the members and records
        a test is handed."""
        return cast("DiscordSandbox", self)

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

    def _authorised(self, header: str) -> bool:
        return header == f"Bot {self.token}"

    def _log_call(self, call: RestCall) -> None:
        with self.lock:
            self.rest_log.append(call)

    # ------------------------------------------------------------------ look-ups (raise what Discord answers)

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

    # ------------------------------------------------------------------ permissions

    def permissions(self, who: SimMember | m.GuildMember, channel: m.Channel) -> int:
        member = who.member if isinstance(who, SimMember) else who
        with self.lock:
            return self.guilds[channel.guild_id].permissions_in(member, channel)  # type: ignore[index]

    def can(self, who: SimMember | m.GuildMember, channel: m.Channel, permission: int) -> bool:
        return self.permissions(who, channel) & permission == permission

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

    # ------------------------------------------------------------------ payloads

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
