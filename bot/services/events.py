"""What happens on a chat platform, in the core's words: an adapter translates its payloads into these.

As in opsdroid's connectors (``connector/slack/create_events.py``): the adapter knows Slack's message
subtypes or Discord's message types and emoji; the core sees only a message with its kind (new, a
reply in a thread, edited, deleted) and a reaction with its meaning (highlight, leave out). Payloads
that mean nothing to a breakout (joins, topic changes, other bots) are never translated at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

from bot.services.port import PersonInfo


class Kind(str, Enum):
    NEW = "new"  # a top-level message in a channel
    REPLY = "reply"  # an answer to an earlier message: in its thread, or a reply to it
    EDITED = "edited"
    DELETED = "deleted"


@dataclass(frozen=True)
class IncomingMessage:
    """One message as the core needs it. ``author``, ``text`` and ``at`` are empty for a deletion;
    ``thread_id`` is the message a reply answers (a question's post, or an earlier quote).

    ``edited_at`` is the platform's own time of the edit (Slack's ``edited.ts``, Discord's
    ``edited_timestamp``), on an edit and on a message read back that was edited: platforms deliver
    out of order and retry, so the core keeps a quote's newest text by this time, not by arrival."""

    kind: Kind
    workspace: str
    channel_id: str
    message_id: str
    author: PersonInfo | None = None
    text: str = ""
    at: dt.datetime | None = None  # sent (new, reply); on an edit without ``edited_at``, when edited
    thread_id: str | None = None
    edited_at: dt.datetime | None = None


class Meaning(str, Enum):
    """What a reaction means to the write-up (⭐ and 🚫 on both platforms, under their own names)."""

    HIGHLIGHT = "highlight"  # a facilitator or organiser marks a quote
    LEAVE_OUT = "leave-out"  # its author takes a message out of the write-up
