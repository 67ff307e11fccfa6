"""Slack payloads -> the core's neutral events (``bot.services.events``), as opsdroid's
``connector/slack/create_events.py`` does: message subtypes and emoji names stop here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.services.events import IncomingMessage, Kind, Meaning
from bot.services.port import PersonInfo

from .services import time_of

#: Subtypes that are still a person's words (a thread reply also sent to the channel, a file with a
#: comment, /me). Every other subtype (joins, topic changes, bot messages, pins...) is not a quote.
SPOKEN_SUBTYPES = frozenset({"thread_broadcast", "file_share", "me_message"})

#: Reactions by Slack's names ("star::skin-tone-2" is still a star).
MEANINGS: dict[str, Meaning] = {
    "star": Meaning.HIGHLIGHT,
    "star2": Meaning.HIGHLIGHT,
    "glowing_star": Meaning.HIGHLIGHT,
    "no_entry_sign": Meaning.LEAVE_OUT,
    "no_entry": Meaning.LEAVE_OUT,
}

People = Callable[[str], PersonInfo]


def meaning_of(reaction: str) -> Meaning | None:
    """What a reaction means to the write-up; ``None`` for the many that mean nothing."""
    return MEANINGS.get(reaction.split("::", 1)[0].strip(":"))


def said(message: dict[str, Any], *, workspace: str, channel_id: str, people: People) -> IncomingMessage | None:
    """A message a person wrote (new, or a reply in a thread); ``None`` for anything else."""
    subtype = message.get("subtype")
    if message.get("bot_id") or not message.get("user") or not message.get("ts"):
        return None
    if subtype is not None and subtype not in SPOKEN_SUBTYPES:
        return None
    ts, thread_ts = str(message["ts"]), message.get("thread_ts")
    is_reply = bool(thread_ts) and thread_ts != ts
    return IncomingMessage(
        kind=Kind.REPLY if is_reply else Kind.NEW,
        workspace=workspace,
        channel_id=channel_id,
        message_id=ts,
        author=people(str(message["user"])),
        text=str(message.get("text") or ""),
        at=time_of(ts),
        thread_id=str(thread_ts) if is_reply else None,
    )


def message_event(event: dict[str, Any], *, workspace: str, people: People) -> IncomingMessage | None:
    """A ``message`` event of any subtype -> a new message, a reply, an edit, a deletion, or nothing."""
    channel_id = str(event.get("channel") or "")
    subtype = event.get("subtype")
    if subtype == "message_changed":
        message = event.get("message") or {}
        if message.get("bot_id") or not message.get("ts") or not message.get("user"):
            return None
        edited = (message.get("edited") or {}).get("ts") or event.get("event_ts")
        return IncomingMessage(
            kind=Kind.EDITED,
            workspace=workspace,
            channel_id=channel_id,
            message_id=str(message["ts"]),
            text=str(message.get("text") or ""),
            at=time_of(edited) if edited else None,
        )
    if subtype == "message_deleted":
        deleted_ts = event.get("deleted_ts") or (event.get("previous_message") or {}).get("ts")
        if not deleted_ts:
            return None
        return IncomingMessage(
            kind=Kind.DELETED, workspace=workspace, channel_id=channel_id, message_id=str(deleted_ts)
        )
    return said(event, workspace=workspace, channel_id=channel_id, people=people)


def edit_as_new(event: dict[str, Any], *, workspace: str, people: People) -> IncomingMessage | None:
    """An edit that overtook its message carries the whole message: taken as the message itself
    (with its new text). Only a plain message: an edited join or bot post is still nothing."""
    message = event.get("message") or {}
    if message.get("subtype"):
        return None
    return said(message, workspace=workspace, channel_id=str(event.get("channel") or ""), people=people)
