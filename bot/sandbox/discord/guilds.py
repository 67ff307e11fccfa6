"""Guilds, roles, members, channels and threads: building the world a test starts from, and the
changes the bot asks for over REST (with Discord's names, limits and permission rules)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from . import model as m
from .gateway import Intents
from .members import SandboxError, SimMember
from .rest import APIError, missing_permissions
from .voice import Voice

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


class Guilds(Voice):
    """The guild's shape: roles, members, categories, text and voice channels, threads."""

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
        return SimMember(self._sandbox, guild, member)

    def member(self, guild: m.Guild, name_or_id: str | int) -> SimMember:
        with self.lock:
            for member in guild.members.values():
                if member.id == name_or_id or member.user.name == name_or_id:
                    return SimMember(self._sandbox, guild, member)
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

    # ------------------------------------------------------------------ inspection

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

    # ------------------------------------------------------------------ changes (REST and members)

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
