"""Voice: who is in which voice room, and moving them (by themselves, or by the bot as Discord allows)."""

from __future__ import annotations

import secrets

from . import model as m
from .dispatch import GatewayDispatch
from .gateway import Intents
from .members import SandboxError, SimMember
from .rest import APIError, missing_permissions


class Voice(GatewayDispatch):
    """Voice states: joining, leaving and being moved, with Discord's errors (40032, Missing Permissions)."""

    def hang_up_when_moved(self, member: SimMember) -> None:
        """Make ``member`` hang up just as the bot's next move of them reaches Discord: they leave
        voice (everyone is told), then the move is answered 40032, as Discord does."""
        with self.lock:
            self._hang_ups: set[int] = {*getattr(self, "_hang_ups", set()), member.id}

    def _move_member(self, guild: m.Guild, member: m.GuildMember, channel_id: int | None, *, by_bot: bool) -> None:
        with self.lock:
            hangs_up = by_bot and member.id in getattr(self, "_hang_ups", set())
            if hangs_up:
                self._hang_ups.discard(member.id)
        if hangs_up and guild.voice_states.get(member.id) is not None:
            self._move_member(guild, member, None, by_bot=False)
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

    def voice_channel_of(self, member: SimMember) -> m.Channel | None:
        with self.lock:
            vs = member.guild.voice_states.get(member.id)
            return self.channels.get(vs.channel_id) if vs and vs.channel_id else None

    def members_in_voice(self, channel: m.Channel) -> list[SimMember]:
        guild = self.guilds[channel.guild_id]  # type: ignore[index]
        with self.lock:
            ids = [uid for uid, vs in guild.voice_states.items() if vs.channel_id == channel.id]
            return [SimMember(self._sandbox, guild, guild.members[i]) for i in ids]
