"""Who is who on a Discord server: people as the core sees them, and who may steer a breakout."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import discord

from bot.services.context import Actor
from bot.services.port import PersonInfo


def workspace_of(guild_id: int) -> str:
    return f"discord:{guild_id}"


def person_info(user: discord.Member | discord.User) -> PersonInfo:
    shown = user.display_name or user.name
    full = getattr(user, "global_name", None) or shown
    return PersonInfo(
        user_id=str(user.id),
        full_name=full,
        first_name=full.split()[0] if full.split() else None,
        display_name=shown,
        is_bot=user.bot,
    )


@dataclass(frozen=True)
class Roles:
    """Facilitator and organiser roles, by name (case-insensitive) or id; admins are always both."""

    facilitators: tuple[str, ...] = ()
    organisers: tuple[str, ...] = ()

    @staticmethod
    def _has(member: discord.Member, wanted: Iterable[str]) -> bool:
        keys = {w.strip().lower().lstrip("@") for w in wanted}
        return any(str(role.id) in keys or role.name.lower() in keys for role in member.roles)

    @staticmethod
    def is_admin(member: discord.Member) -> bool:
        perms = member.guild_permissions
        return perms.administrator or perms.manage_guild

    def is_facilitator(self, member: discord.Member) -> bool:
        return self.is_admin(member) or self._has(member, self.facilitators)

    def is_organiser(self, member: discord.Member) -> bool:
        return self.is_admin(member) or self._has(member, self.organisers)

    def actor(self, user: discord.Member | discord.User, guild_id: int) -> Actor:
        if not isinstance(user, discord.Member):
            return Actor(workspace_of(guild_id), person_info(user))
        return Actor(
            workspace_of(guild_id),
            person_info(user),
            is_facilitator=self.is_facilitator(user),
            is_organiser=self.is_organiser(user),
        )

    def facilitator_roles(self, guild: discord.Guild) -> list[discord.Role]:
        keys = {w.strip().lower().lstrip("@") for w in self.facilitators}
        return [r for r in guild.roles if str(r.id) in keys or r.name.lower() in keys]


@dataclass(frozen=True)
class Pool:
    """The people a breakout splits, and where they came from (said back to the facilitator)."""

    people: tuple[PersonInfo, ...]
    facilitators: tuple[PersonInfo, ...]
    source: str
    voice_channel_id: int | None = None  # the facilitator's call: people are moved from it and back


def participant_pool(
    invoker: discord.Member, channel: discord.abc.GuildChannel | None, roles: Roles, *, role: discord.Role | None = None
) -> Pool:
    """A community call on Discord happens in voice: the facilitator's voice channel decides, unless a
    role is named; without either, the members who can see the text channel the command was typed in."""
    voice = invoker.voice.channel if invoker.voice and invoker.voice.channel else None
    members: Sequence[discord.Member]
    if role is not None:
        members, source = role.members, f"the members of the role {role.name}"
    elif voice is not None:
        members, source = voice.members, f"the people in the voice channel {voice.name}"
    elif isinstance(channel, discord.TextChannel):
        members, source = channel.members, f"the members of #{channel.name}"
    else:
        members, source = [], "nobody"
    humans = [m for m in members if not m.bot]
    facilitators = [m for m in humans if roles.is_facilitator(m) or m.id == invoker.id]
    if invoker not in facilitators:
        facilitators.append(invoker)
    return Pool(
        tuple(person_info(m) for m in humans),
        tuple(person_info(m) for m in facilitators),
        source,
        voice.id if voice is not None else None,
    )
