"""The people in the simulated server: what a test makes a member do reads like a chat transcript.

A `SimMember` only asks the sandbox to act (post, react, click, join a voice room); the rules Discord
applies (permissions, who sees what, which gateway events follow) live with the sandbox's concerns.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from . import model as m

if TYPE_CHECKING:
    from .records import InteractionRecord
    from .server import DiscordSandbox


class SandboxError(AssertionError):
    """A test asked the simulated server for something Discord would not allow."""


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
