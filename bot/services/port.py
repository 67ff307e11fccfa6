"""What the core asks of a chat platform: the one port Slack and Discord implement.

Methods are synchronous: the scheduler fires steps in worker threads, and the services call the port
from there. An async platform (discord.py) bridges into its event loop inside its implementation.

Minimum an implementation needs (``bot.adapters.slack.port``, ``bot.adapters.discord.port``, and
``bot.adapters.local.LocalChat`` for the offline run):

- ``open_group_channel``: make or reuse the group's channel and put its members in it.
- ``post``: post a timeline message (question, warning, welcome, close, broadcast) into a channel,
  carrying the message's idempotency ``key`` (Slack message metadata, Discord nonce).
- ``find_post``: look in a channel for a post made under ``key`` since a moment; recovery asks before
  it posts again something an earlier attempt may already have put there.
- ``tell``: say something privately to one person (ephemeral or direct message).
- ``ask_consent``: put the consent prompt to one person privately, rendered the platform's way
  (Block Kit buttons, a discord.ui View).
- ``send_file``: hand a person a file (the summary).
- ``close_group_channel``: tidy a group channel when the breakout ends.

Raise ``ChatError`` with a sentence a facilitator can act on when the platform refuses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol, runtime_checkable

from bot.domain.consent import Level


class ChatError(Exception):
    """The platform refused or failed; the message says what happened, in words for a facilitator."""


class ChannelLeftOver(ChatError):
    """A group's channel was made but the rest of its opening failed (its voice room, say): the
    channel is remembered so the end of the breakout tidies it rather than leaving it behind."""

    def __init__(self, message: str, *, channel_id: str) -> None:
        super().__init__(message)
        self.channel_id = channel_id


@dataclass(frozen=True)
class PersonInfo:
    """A person as the platform describes them; adapters fill what they know."""

    user_id: str
    full_name: str
    first_name: str | None = None
    display_name: str | None = None
    is_bot: bool = False


class MessageKind(str, Enum):
    WELCOME = "welcome"
    QUESTION = "question"
    WARNING = "warning"
    CLOSE = "close"
    BROADCAST = "broadcast"


@dataclass(frozen=True)
class ConsentOption:
    level: Level
    label: str  # button text, e.g. "Use my first name"


@dataclass(frozen=True)
class Outgoing:
    """A message from the bot. ``text`` is plain text (adapters escape and format it)."""

    kind: MessageKind
    text: str
    title: str | None = None  # a short heading, e.g. "Question 1 of 2"
    consent_options: tuple[ConsentOption, ...] = ()  # render as buttons when not empty
    breakout_id: int | None = None  # so buttons can say which breakout they belong to
    key: str | None = None  # a timeline post's idempotency key (``post_key``), kept with it on the platform


@dataclass(frozen=True)
class ConsentPrompt:
    """How may we name you? Asked of one person, with one choice per naming level."""

    text: str
    options: tuple[ConsentOption, ...]
    breakout_id: int


@dataclass(frozen=True)
class GroupChannelRequest:
    breakout_id: int
    breakout_title: str
    plan_slug: str
    number: int
    name: str  # e.g. breakout-kindness-in-education-1
    members: tuple[str, ...]  # platform user ids
    facilitators: tuple[str, ...]
    home_channel: str  # where /breakout start was typed
    voice_rooms: bool = False  # the plan asks for a voice room per group (Discord)
    topic: str = ""
    call_channel: str | None = None  # the call's voice channel, stored with the breakout (Discord)
    private: bool = True  # only the group (and the bot, the facilitators) see the channel (Slack)


@dataclass(frozen=True)
class Delivery:
    """Where a post landed: enough to map thread replies back to the question."""

    message_id: str
    channel_id: str


def post_key(breakout_id: int, group_number: int, step: str) -> str:
    """The idempotency key of one post, as it travels with the message: ``<breakout>:<group>:<step>``."""
    return f"{breakout_id}:{group_number}:{step}"


@runtime_checkable
class ChatPort(Protocol):
    platform: str  # "slack", "discord", "local"

    def open_group_channel(self, request: GroupChannelRequest) -> str:
        """Make or reuse the channel for one group, with its members in it; returns its id."""
        ...

    def post(self, *, channel_id: str, message: Outgoing) -> Delivery:
        """Post ``message``; its ``key``, when it has one, goes with it so ``find_post`` can find it again."""
        ...

    def find_post(self, *, channel_id: str, key: str, message: Outgoing, since: dt.datetime) -> Delivery | None:
        """The post made under ``key`` in ``channel_id`` at or after ``since``, if it is there.

        Platforms that keep no key in their history may match ``message`` as posted by the bot instead.
        """
        ...

    def tell(
        self,
        *,
        user_id: str,
        text: str,
        channel_id: str | None = None,
        consent_options: Sequence[ConsentOption] = (),
        breakout_id: int | None = None,
    ) -> None:
        """Privately to one person; in ``channel_id`` as an ephemeral where the platform has those."""
        ...

    def ask_consent(self, *, user_id: str, channel_id: str, prompt: ConsentPrompt) -> None:
        """Privately to the person who just spoke in ``channel_id`` for the first time."""
        ...

    def send_file(
        self, *, user_id: str, filename: str, content: bytes, title: str, channel_id: str | None = None
    ) -> None: ...

    def close_group_channel(self, *, channel_id: str, request: GroupChannelRequest, archive: bool) -> None: ...


@dataclass
class FanoutReport:
    """How a fan-out to every group went: the facilitator is told which group failed and why."""

    total: int
    done: int = 0
    failures: dict[int, str] = field(default_factory=dict)  # group number -> reason

    @property
    def ok(self) -> bool:
        return not self.failures

    def describe(self) -> str:
        if self.ok:
            return f"all {self.total} groups done"
        failed = "; ".join(f"group {n}: {why}" for n, why in sorted(self.failures.items()))
        return f"{self.total - len(self.failures)}/{self.total} groups done; failed: {failed}"
