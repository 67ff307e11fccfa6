"""What a test holds on to after a member starts an interaction: the record of what the bot answered.

The interaction and callback types are Discord's own numbers (Discord API "Receiving and Responding").
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import model as m

if TYPE_CHECKING:
    from .server import DiscordSandbox

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
