"""Message events in the group channels become quotes.

The app runs with ``process_before_response``: bolt acknowledges an event only when this listener
returns, which is after the core has committed the quote. If anything fails the event is not
acknowledged and Slack delivers it again; the core stores a redelivered message once.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

from bot.services.capture import IGNORED_SUBTYPES

from ..services import SlackServices, time_of, workspace_of

log = logging.getLogger(__name__)


def register(app: App, s: SlackServices) -> None:
    @app.event("message")
    def on_message(event: dict[str, Any], body: dict[str, Any]) -> None:
        workspace = workspace_of(body.get("team_id"))
        channel_id = event.get("channel", "")
        subtype = event.get("subtype")
        capture = s.core.capture
        if subtype == "message_changed":
            message = event.get("message") or {}
            if message.get("bot_id") or not message.get("ts"):
                return
            edited = (message.get("edited") or {}).get("ts") or event.get("event_ts")
            capture.message_edited(workspace=workspace, channel_id=channel_id, message_id=message["ts"],
                                   text=message.get("text", ""), edited_at=time_of(edited) if edited else None)
            return
        if subtype == "message_deleted":
            capture.message_deleted(workspace=workspace, channel_id=channel_id,
                                    message_id=event.get("deleted_ts") or (event.get("previous_message") or {})["ts"])
            return
        user_id = event.get("user")
        if event.get("bot_id") or not user_id or subtype in IGNORED_SUBTYPES:
            return
        thread_ts = event.get("thread_ts")
        result = capture.message_posted(
            workspace=workspace, channel_id=channel_id, message_id=event["ts"], author=s.directory.person(user_id),
            text=event.get("text", ""), sent_at=time_of(event["ts"]),
            thread_id=thread_ts if thread_ts and thread_ts != event["ts"] else None, subtype=subtype)
        if result.ask_consent and not result.duplicate:
            s.workers.submit(_ask_consent, s, user_id, channel_id, result.breakout_id)

    @app.event("member_joined_channel")
    def on_join() -> None:
        """Joins need nothing from the bot (it invited them); acknowledged so Slack does not retry."""


def _ask_consent(s: SlackServices, user_id: str, channel_id: str, breakout_id: int | None) -> None:
    try:
        s.chat.tell(user_id=user_id, channel_id=channel_id, text=s.core.messages.render("consent_prompt", None),
                    consent_options=s.core.messages.consent_options(), breakout_id=breakout_id)
    except Exception:
        log.warning("could not ask %s how to be named", user_id, exc_info=True)
