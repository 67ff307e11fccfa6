"""The state of the simulated Discord server, and the JSON payloads Discord would send for it.

Everything here is plain data guarded by the sandbox's lock; nothing does I/O. Payload shapes follow
the Discord API documentation (discord/discord-api-docs) closely enough that discord.py's parsers
accept them: a field discord.py reads with ``data['x']`` is always present.
"""

from __future__ import annotations

import datetime as _dt
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DISCORD_EPOCH_MS = 1420070400000

# Channel types (Discord API "Channel Types").
GUILD_TEXT = 0
DM = 1
GUILD_VOICE = 2
GUILD_CATEGORY = 4
PUBLIC_THREAD = 11

# Overwrite target types.
OVERWRITE_ROLE = 0
OVERWRITE_MEMBER = 1

# Message flags.
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7


# Permission bits (Discord API "Bitwise Permission Flags") the bot and the tests care about.
class P:
    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    MOVE_MEMBERS = 1 << 24
    MANAGE_ROLES = 1 << 28
    USE_APPLICATION_COMMANDS = 1 << 31
    ALL = (1 << 53) - 1


DEFAULT_EVERYONE_PERMISSIONS = (
    P.VIEW_CHANNEL
    | P.SEND_MESSAGES
    | P.READ_MESSAGE_HISTORY
    | P.ADD_REACTIONS
    | P.EMBED_LINKS
    | P.ATTACH_FILES
    | P.CONNECT
    | P.SPEAK
    | P.USE_APPLICATION_COMMANDS
)

_last_snowflake = 0
_snowflake_lock = threading.Lock()


def snowflake() -> int:
    """A real-looking, increasing snowflake: discord.py derives ``created_at`` from it."""
    global _last_snowflake
    with _snowflake_lock:
        candidate = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        _last_snowflake = max(candidate, _last_snowflake + 1)
        return _last_snowflake


def iso_now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat()


@dataclass
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    managed: bool = False
    mentionable: bool = False
    hoist: bool = False
    color: int = 0

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {"primary_color": self.color, "secondary_color": None, "tertiary_color": None},
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }


@dataclass
class User:
    id: int
    name: str
    bot: bool = False
    global_name: str | None = None

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass
class GuildMember:
    user: User
    guild_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso_now)

    @property
    def id(self) -> int:
        return self.user.id

    def payload(self, *, with_user: bool = True, permissions: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in self.roles],
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass
class Overwrite:
    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


@dataclass
class Channel:
    id: int
    type: int
    name: str
    guild_id: int | None = None
    parent_id: int | None = None
    position: int = 0
    topic: str | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    recipients: list[User] = field(default_factory=list)
    last_message_id: int | None = None
    user_limit: int = 0
    bitrate: int = 64000

    def overwrite_for(self, target_id: int) -> Overwrite | None:
        return next((o for o in self.overwrites if o.id == target_id), None)

    owner_id: int | None = None  # threads: who started it

    def payload(self) -> dict[str, Any]:
        if self.type == PUBLIC_THREAD:
            return {
                "id": str(self.id),
                "type": PUBLIC_THREAD,
                "guild_id": str(self.guild_id),
                "parent_id": str(self.parent_id),
                "owner_id": str(self.owner_id),
                "name": self.name,
                "last_message_id": str(self.last_message_id) if self.last_message_id else None,
                "rate_limit_per_user": 0,
                "message_count": 0,
                "member_count": 1,
                "total_message_sent": 0,
                "flags": 0,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": iso_now(),
                    "locked": False,
                    "create_timestamp": iso_now(),
                },
            }
        if self.type == DM:
            return {
                "id": str(self.id),
                "type": DM,
                "last_message_id": str(self.last_message_id) if self.last_message_id else None,
                "recipients": [u.payload() for u in self.recipients],
                "flags": 0,
            }
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.payload() for o in self.overwrites],
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "nsfw": False,
            "flags": 0,
        }
        if self.type in (GUILD_TEXT, GUILD_VOICE):
            data["last_message_id"] = str(self.last_message_id) if self.last_message_id else None
            data["rate_limit_per_user"] = 0
        if self.type == GUILD_TEXT:
            data["topic"] = self.topic
            data["default_auto_archive_duration"] = 1440
        if self.type == GUILD_VOICE:
            data["bitrate"] = self.bitrate
            data["user_limit"] = self.user_limit
            data["rtc_region"] = None
            data["video_quality_mode"] = 1
        return data


@dataclass
class Attachment:
    id: int
    filename: str
    data: bytes
    content_type: str | None = None
    url: str = ""

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
        }


@dataclass
class Message:
    id: int
    channel_id: int
    author: User
    content: str = ""
    guild_id: int | None = None
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    timestamp: str = field(default_factory=iso_now)
    edited_timestamp: str | None = None
    allowed_mentions: dict[str, Any] | None = None
    """The ``allowed_mentions`` object exactly as the sender sent it (None if it sent none)."""
    pings: dict[str, Any] = field(default_factory=lambda: {"everyone": False, "users": [], "roles": []})
    """Who this message actually notified, after allowed_mentions was applied."""
    nonce: str | int | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_id: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    ephemeral_for: int | None = None
    reference: Message | None = None  # the message this one replies to
    deleted: bool = False
    edits: list[str] = field(default_factory=list)
    reactions: dict[str, list[int]] = field(default_factory=dict)
    """Unicode emoji -> who reacted with it, in order (Discord keeps one reaction per person and emoji)."""

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    def custom_ids(self) -> list[str]:
        found: list[str] = []

        def walk(items: list[dict[str, Any]]) -> None:
            for item in items:
                if "custom_id" in item:
                    found.append(item["custom_id"])
                walk(item.get("components", []))

        walk(self.components)
        return found

    def find_component(self, custom_id: str) -> dict[str, Any] | None:
        def walk(items: list[dict[str, Any]]) -> dict[str, Any] | None:
            for item in items:
                if item.get("custom_id") == custom_id:
                    return item
                hit = walk(item.get("components", []))
                if hit is not None:
                    return hit
            return None

        return walk(self.components)

    def payload(
        self,
        *,
        member: GuildMember | None = None,
        with_content: bool = True,
        users: Callable[[int], dict[str, Any]] | None = None,
        bot_id: int = 0,
    ) -> dict[str, Any]:
        lookup = users or (lambda uid: {"id": str(uid), "username": str(uid), "discriminator": "0", "avatar": None})
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author.payload(),
            "content": self.content if with_content else "",
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "tts": False,
            "mention_everyone": bool(self.pings["everyone"]),
            "mentions": [lookup(u) for u in self.pings["users"]],
            "mention_roles": [str(r) for r in self.pings["roles"]],
            "attachments": [a.payload() for a in self.attachments] if with_content else [],
            "embeds": list(self.embeds) if with_content else [],
            "components": list(self.components) if with_content else [],
            "pinned": False,
            "type": self.type,
            "flags": self.flags,
        }
        if self.reactions:
            data["reactions"] = [
                {
                    "count": len(who),
                    "count_details": {"burst": 0, "normal": len(who)},
                    "me": bot_id in who,
                    "me_burst": False,
                    "burst_colors": [],
                    "emoji": {"id": None, "name": emoji},
                }
                for emoji, who in self.reactions.items()
            ]
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if member is not None:
            data["member"] = member.payload(with_user=False)
        if self.nonce is not None:
            data["nonce"] = self.nonce
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
        if self.interaction_metadata is not None:
            data["interaction_metadata"] = self.interaction_metadata
        if self.reference is not None:
            ref = self.reference
            data["message_reference"] = {"type": 0, "message_id": str(ref.id), "channel_id": str(ref.channel_id)}
            if ref.guild_id is not None:
                data["message_reference"]["guild_id"] = str(ref.guild_id)
            data["referenced_message"] = None if ref.deleted else ref.payload(with_content=with_content, users=users)
        return data


@dataclass
class VoiceState:
    guild_id: int
    user_id: int
    channel_id: int | None
    session_id: str

    def payload(self, member: GuildMember | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "guild_id": str(self.guild_id),
            "channel_id": str(self.channel_id) if self.channel_id else None,
            "user_id": str(self.user_id),
            "session_id": self.session_id,
            "deaf": False,
            "mute": False,
            "self_deaf": False,
            "self_mute": False,
            "self_stream": False,
            "self_video": False,
            "suppress": False,
            "request_to_speak_timestamp": None,
        }
        if member is not None:
            data["member"] = member.payload()
        return data


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, GuildMember] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    voice_states: dict[int, VoiceState] = field(default_factory=dict)

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    def base_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [r.payload() for r in sorted(self.roles.values(), key=lambda r: r.position)],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "max_members": 500000,
            "max_video_channel_users": 25,
        }

    def create_payload(self, *, members: list[GuildMember], voice_states: bool) -> dict[str, Any]:
        data = self.base_payload()
        data.update(
            {
                "joined_at": iso_now(),
                "large": False,
                "unavailable": False,
                "member_count": len(self.members),
                "members": [m.payload() for m in members],
                "channels": [c.payload() for c in self.channels.values() if c.type != PUBLIC_THREAD],
                "threads": [c.payload() for c in self.channels.values() if c.type == PUBLIC_THREAD],
                "presences": [],
                "stage_instances": [],
                "guild_scheduled_events": [],
                "soundboard_sounds": [],
                "voice_states": (
                    [v.payload() for v in self.voice_states.values() if v.channel_id] if voice_states else []
                ),
            }
        )
        return data

    # ----- permissions, the way Discord computes them ("Permissions" topic of the API docs)

    def base_permissions(self, member: GuildMember) -> int:
        if member.id == self.owner_id:
            return P.ALL
        perms = self.everyone.permissions
        for role_id in member.roles:
            role = self.roles.get(role_id)
            if role is not None:
                perms |= role.permissions
        if perms & P.ADMINISTRATOR:
            return P.ALL
        return perms

    def permissions_in(self, member: GuildMember, channel: Channel) -> int:
        if channel.type == PUBLIC_THREAD and channel.parent_id in self.channels:
            channel = self.channels[channel.parent_id]  # a thread's permissions are its parent's
        perms = self.base_permissions(member)
        if perms & P.ADMINISTRATOR or member.id == self.owner_id:
            return P.ALL
        overwrites = {o.id: o for o in channel.overwrites}
        everyone = overwrites.get(self.id)
        if everyone:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role_id in member.roles:
            ow = overwrites.get(role_id)
            if ow and ow.type == OVERWRITE_ROLE:
                allow |= ow.allow
                deny |= ow.deny
        perms = (perms & ~deny) | allow
        ow = overwrites.get(member.id)
        if ow and ow.type == OVERWRITE_MEMBER:
            perms = (perms & ~ow.deny) | ow.allow
        if not perms & P.VIEW_CHANNEL:
            return 0
        return perms


_MENTION_RE = re.compile(r"<@(!?)(\d+)>|<@&(\d+)>|@(everyone|here)")


def compute_pings(content: str, allowed: dict[str, Any] | None, guild: Guild | None) -> dict[str, Any]:
    """Who a message notifies, applying ``allowed_mentions`` the way Discord documents it."""
    users: list[int] = []
    roles: list[int] = []
    everyone = False
    for match in _MENTION_RE.finditer(content or ""):
        if match.group(2):
            users.append(int(match.group(2)))
        elif match.group(3):
            roles.append(int(match.group(3)))
        else:
            everyone = True
    if allowed is None:
        parse = {"users", "roles", "everyone"}
        allowed_users: list[int] = []
        allowed_roles: list[int] = []
    else:
        parse = set(allowed.get("parse", []))
        allowed_users = [int(u) for u in allowed.get("users", [])]
        allowed_roles = [int(r) for r in allowed.get("roles", [])]
    pinged_users = [u for u in dict.fromkeys(users) if "users" in parse or u in allowed_users]
    pinged_roles = [r for r in dict.fromkeys(roles) if "roles" in parse or r in allowed_roles]
    if guild is not None:
        pinged_roles = [r for r in pinged_roles if r in guild.roles]
    return {"everyone": everyone and "everyone" in parse, "users": pinged_users, "roles": pinged_roles}
