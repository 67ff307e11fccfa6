"""Message events in the group channels become quotes; ⭐ and 🚫 reactions curate them.

Payloads are translated into the core's neutral events (``..translate``) and handed over. The app
runs with ``process_before_response``: bolt acknowledges an event only when this listener returns,
which is after the core has committed the quote (and put the consent prompt to a first-time
speaker). If anything fails the event is not acknowledged and Slack delivers it again; the core
stores a redelivered message once.

Slack does not promise order, and events are handled in parallel: an edit or a deletion can be
handled before the message it changes. An edit of an unknown message is taken as the message
(with its new text). A deletion is remembered by the core, durably and across restarts, so the
message arriving late or delivered again is not stored; nothing is remembered here.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext

from bot.services.curation import Curation
from bot.services.events import Kind

from .. import translate
from ..services import SlackServices, actor_of, team_of, workspace_of

log = logging.getLogger(__name__)


def register(app: App, s: SlackServices) -> None:
    @app.event("message")
    def on_message(event: dict[str, Any], body: dict[str, Any]) -> None:
        workspace = workspace_of(team_of(body))
        incoming = translate.message_event(event, workspace=workspace, people=s.directory.person)
        if incoming is None:
            return
        capture = s.core.capture
        if incoming.kind is Kind.EDITED and not capture.receive(incoming).changed:
            # The edit overtook the message itself: take it as the message, with its new text...
            overtaken = translate.edit_as_new(event, workspace=workspace, people=s.directory.person)
            if overtaken is not None and capture.receive(overtaken).duplicate:
                capture.receive(incoming)  # ...unless it was stored meanwhile: then the edit applies
            return
        capture.receive(incoming)

    def on_reaction(event: dict[str, Any], context: BoltContext) -> None:
        """⭐ from a facilitator or organiser marks a quote as a highlight; 🚫 from its author takes it out of
        the write-up; taking the reaction back undoes either. Other reactions cost nothing (no lookup, no
        database). What it did is said to the person privately; a reaction that does not apply is ignored."""
        meaning = translate.meaning_of(str(event.get("reaction") or ""))
        item = event.get("item") or {}
        user_id = event.get("user")
        if meaning is None or item.get("type") != "message" or not user_id or not item.get("ts"):
            return
        if user_id == s.port.bot_user_id:
            return
        channel_id = str(item.get("channel") or "")
        actor = actor_of(context)
        if actor.person.is_bot:
            return
        curation: Curation = s.core.curation
        reply = curation.reaction(
            actor,
            channel_id=channel_id,
            message_id=str(item["ts"]),
            meaning=meaning,
            added=event.get("type") == "reaction_added",
        )
        if reply:
            s.workers.submit(_tell, s, user_id, channel_id, reply)  # privately, after the ack

    app.event("reaction_added")(on_reaction)
    app.event("reaction_removed")(on_reaction)

    @app.event("member_joined_channel")
    def on_join() -> None:
        """Joins need nothing from the bot (it invited them); acknowledged so Slack does not retry."""


def _tell(s: SlackServices, user_id: str, channel_id: str, text: str) -> None:
    try:
        s.port.tell(user_id=user_id, channel_id=channel_id, text=text)
    except Exception:
        log.info("could not tell %s what their reaction did", user_id, exc_info=True)
