"""Messages of the simulated Discord: content, attachments, components, reactions, replies, and who
each message actually pings once ``allowed_mentions`` is applied; with the payloads Discord sends."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .ids import iso_now

if TYPE_CHECKING:
    from .model import Guild, GuildMember, User

# Message flags.
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7


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
