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
    edited = (message.get("edited") or {}).get("ts")  # read back from history, or carried by an edit
    return IncomingMessage(
        kind=Kind.REPLY if is_reply else Kind.NEW,
        workspace=workspace,
        channel_id=channel_id,
        message_id=ts,
        author=people(str(message["user"])),
        text=str(message.get("text") or ""),
        at=time_of(ts),
        thread_id=str(thread_ts) if is_reply else None,
        edited_at=time_of(str(edited)) if edited else None,
    )


def message_event(event: dict[str, Any], *, workspace: str, people: People) -> IncomingMessage | None:
    """A ``message`` event of any subtype -> a new message, a reply, an edit, a deletion, or nothing."""
    channel_id = str(event.get("channel") or "")
    subtype = event.get("subtype")
    if subtype == "message_changed":
        message = dict(event.get("message") or {})
        if not message.get("ts") and (event.get("previous_message") or {}).get("ts"):
            message["ts"] = event["previous_message"]["ts"]  # the message's id, where only the original has it
        if message.get("subtype") == "tombstone" and message.get("ts"):
            # A thread's parent deleted: Slack leaves "This message was deleted." in its place.
            return IncomingMessage(
                kind=Kind.DELETED, workspace=workspace, channel_id=channel_id, message_id=str(message["ts"])
            )
        if message.get("bot_id") or not message.get("ts") or not message.get("user"):
            return None
        return edit_of(message, workspace=workspace, channel_id=channel_id, fallback_ts=event.get("event_ts"))
    if subtype == "message_deleted":
        deleted_ts = event.get("deleted_ts") or (event.get("previous_message") or {}).get("ts")
        if not deleted_ts:
            return None
        return IncomingMessage(
            kind=Kind.DELETED, workspace=workspace, channel_id=channel_id, message_id=str(deleted_ts)
        )
    return said(event, workspace=workspace, channel_id=channel_id, people=people)


def edit_of(
    message: dict[str, Any], *, workspace: str, channel_id: str, fallback_ts: str | None = None
) -> IncomingMessage:
    """A message's edit, timed by Slack's ``edited.ts`` (when it was made, not when it arrived: an
    older edit retried after a newer one must not win); the event's own ts if Slack sent none."""
    edited = (message.get("edited") or {}).get("ts") or fallback_ts
    return IncomingMessage(
        kind=Kind.EDITED,
        workspace=workspace,
        channel_id=channel_id,
        message_id=str(message["ts"]),
        text=str(message.get("text") or ""),
        edited_at=time_of(str(edited)) if edited else None,
    )


def edit_as_new(event: dict[str, Any], *, workspace: str, people: People) -> IncomingMessage | None:
    """An edit that overtook its message carries the whole message: taken as the message itself
    (with its new text). Only a plain message: an edited join or bot post is still nothing."""
    message = dict(event.get("message") or {})
    if message.get("subtype"):
        return None
    message.setdefault("ts", (event.get("previous_message") or {}).get("ts"))
    return said(message, workspace=workspace, channel_id=str(event.get("channel") or ""), people=people)
