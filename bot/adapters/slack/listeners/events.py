"""Message events in the group channels become quotes; ⭐ and 🚫 reactions curate them.

The app runs with ``process_before_response``: bolt acknowledges an event only when this listener
returns, which is after the core has committed the quote. If anything fails the event is not
acknowledged and Slack delivers it again; the core stores a redelivered message once.

Slack does not promise order, and events are handled in parallel: an edit or a deletion can be
handled before the message it changes. An edit of an unknown message is taken as the message
(with its new text). A deletion of an unknown message is remembered by the core (durably, across
restarts), so the message arriving late is not stored; the short in-memory list here also covers a
deletion handled while its message is being stored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any

from slack_bolt import App

from bot.services.capture import IGNORED_SUBTYPES, Captured
from bot.services.curation import STAR, TAKE_OUT

from ..services import SlackServices, time_of, workspace_of

log = logging.getLogger(__name__)
#: The reactions that mean something here (Slack's names): the rest are ignored without a lookup.
CURATING = STAR | TAKE_OUT


class Tombstones:
    """Messages deleted before the bot saw them: (workspace, channel, ts), kept for ``ttl`` seconds."""

    def __init__(self, ttl: float = 900.0, limit: int = 10_000) -> None:
        self.ttl, self.limit = ttl, limit
        self._seen: OrderedDict[tuple[str, str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, key: tuple[str, str, str]) -> None:
        with self._lock:
            self._seen[key] = time.monotonic()
            while len(self._seen) > self.limit:
                self._seen.popitem(last=False)

    def __contains__(self, key: tuple[str, str, str]) -> bool:
        with self._lock:
            at = self._seen.get(key)
            return at is not None and time.monotonic() - at < self.ttl


def register(app: App, s: SlackServices) -> None:
    tombstones = Tombstones()

    def post(workspace: str, channel_id: str, message: dict[str, Any], subtype: str | None) -> Captured | None:
        key = (workspace, channel_id, message["ts"])
        if key in tombstones:
            return None
        user_id = message["user"]
        thread_ts = message.get("thread_ts")
        result = s.core.capture.message_posted(
            workspace=workspace,
            channel_id=channel_id,
            message_id=message["ts"],
            author=s.directory.person(user_id),
            text=message.get("text", ""),
            sent_at=time_of(message["ts"]),
            thread_id=thread_ts if thread_ts and thread_ts != message["ts"] else None,
            subtype=subtype,
        )
        if key in tombstones:  # deleted while we were storing it
            s.core.capture.message_deleted(workspace=workspace, channel_id=channel_id, message_id=message["ts"])
            return None
        if result.ask_consent and not result.duplicate:
            s.workers.submit(_ask_consent, s, user_id, channel_id, result.breakout_id)
        return result

    @app.event("message")
    def on_message(event: dict[str, Any], body: dict[str, Any]) -> None:
        workspace = workspace_of(body.get("team_id"))
        channel_id = event.get("channel", "")
        subtype = event.get("subtype")
        capture = s.core.capture
        if subtype == "message_changed":
            message = event.get("message") or {}
            if message.get("bot_id") or not message.get("ts") or not message.get("user"):
                return
            edited = (message.get("edited") or {}).get("ts") or event.get("event_ts")
            found = capture.message_edited(
                workspace=workspace,
                channel_id=channel_id,
                message_id=message["ts"],
                text=message.get("text", ""),
                edited_at=time_of(edited) if edited else None,
            )
            if not found and not message.get("subtype"):
                result = post(workspace, channel_id, message, None)  # the edit overtook the message itself
                if result is not None and result.duplicate:  # ...and the message was stored meanwhile
                    capture.message_edited(
                        workspace=workspace,
                        channel_id=channel_id,
                        message_id=message["ts"],
                        text=message.get("text", ""),
                        edited_at=time_of(edited) if edited else None,
                    )
            return
        if subtype == "message_deleted":
            deleted_ts = event.get("deleted_ts") or (event.get("previous_message") or {}).get("ts")
            if deleted_ts:
                tombstones.add((workspace, channel_id, deleted_ts))
                capture.message_deleted(workspace=workspace, channel_id=channel_id, message_id=deleted_ts)
            return
        if event.get("bot_id") or not event.get("user") or subtype in IGNORED_SUBTYPES:
            return
        post(workspace, channel_id, event, subtype)

    def on_reaction(event: dict[str, Any], body: dict[str, Any]) -> None:
        """⭐ from a facilitator or organiser marks a quote as a highlight; 🚫 from its author takes it out of
        the write-up; taking the reaction back undoes either. Other reactions cost nothing (no lookup, no
        database). What it did is said to the person privately; a reaction that does not apply is ignored."""
        name = str(event.get("reaction") or "").split("::", 1)[0]  # "star::skin-tone-2" is still a star
        item = event.get("item") or {}
        user_id = event.get("user")
        if name not in CURATING or item.get("type") != "message" or not user_id or not item.get("ts"):
            return
        if user_id == s.port.bot_user_id:
            return
        channel_id = str(item.get("channel") or "")
        actor = s.actor(body.get("team_id"), user_id)
        if actor.person.is_bot:
            return
        reply = s.core.curation.reaction(
            actor,
            channel_id=channel_id,
            message_id=str(item["ts"]),
            emoji=name,
            added=event.get("type") == "reaction_added",
        )
        if reply:
            s.workers.submit(_tell, s, user_id, channel_id, reply)  # privately, after the ack

    app.event("reaction_added")(on_reaction)
    app.event("reaction_removed")(on_reaction)

    @app.event("member_joined_channel")
    def on_join() -> None:
        """Joins need nothing from the bot (it invited them); acknowledged so Slack does not retry."""


def _ask_consent(s: SlackServices, user_id: str, channel_id: str, breakout_id: int | None) -> None:
    try:
        s.port.tell(
            user_id=user_id,
            channel_id=channel_id,
            text=s.core.messages.render("consent_prompt", None),
            consent_options=s.core.messages.consent_options(),
            breakout_id=breakout_id,
        )
    except Exception:
        log.warning("could not ask %s how to be named", user_id, exc_info=True)


def _tell(s: SlackServices, user_id: str, channel_id: str, text: str) -> None:
    try:
        s.port.tell(user_id=user_id, channel_id=channel_id, text=text)
    except Exception:
        log.info("could not tell %s what their reaction did", user_id, exc_info=True)
