"""How the bot answers an interaction: the callback (within the acknowledgement window, once), then
the original response and followups through the interaction's webhook."""

from __future__ import annotations

import time
from typing import Any

from . import model as m
from .interactions import Interactions
from .records import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    UPDATE_MESSAGE,
    InteractionRecord,
)
from .rest import APIError, not_found


class Responses(Interactions):
    """Interaction callbacks and webhooks, with Discord's errors (10062 Unknown interaction, 40060)."""

    def _interaction_for_callback(self, interaction_id: int, token: str) -> InteractionRecord:
        with self.lock:
            record = self.interactions.get(interaction_id)
        if record is None or record.token != token:
            raise not_found("interaction", 10062)
        if time.monotonic() - record.created > self.interaction_ack_seconds:
            raise not_found("interaction", 10062)
        if record.acknowledged:
            raise APIError(400, 40060, "Interaction has already been acknowledged.")
        return record

    def _interaction_for_webhook(self, application_id: Any, token: str) -> InteractionRecord:
        with self.lock:
            record = self._by_token.get(token)
        if record is None or int(application_id) != self.application_id:
            raise not_found("Webhook", 10015)
        if not record.acknowledged:
            raise not_found("Webhook", 10015)
        return record

    def _respond_to_interaction(
        self, record: InteractionRecord, body: dict[str, Any], files: list[Any]
    ) -> dict[str, Any]:
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        channel = self._channel(record.channel_id)
        allowed = {
            APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL},
            MESSAGE_COMPONENT: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, MODAL},
            AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
            MODAL_SUBMIT: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE},
        }[record.type]
        if kind not in allowed:
            raise APIError(
                400, 50035, f"Invalid Form Body: callback type {kind} is not valid for interaction type {record.type}"
            )
        ephemeral = bool(int(data.get("flags") or 0) & m.FLAG_EPHEMERAL)
        message: m.Message | None = None
        updated: m.Message | None = None
        with self.lock:
            record.callback_type = kind
            record.callback_data = data
            if kind == CHANNEL_MESSAGE:
                message = self._new_message(
                    channel,
                    self.bot_user,
                    data,
                    files,
                    ephemeral_for=record.user_id if ephemeral else None,
                    interaction=record,
                )
                record.original = message
            elif kind == DEFERRED_CHANNEL_MESSAGE:
                message = self._new_message(
                    channel,
                    self.bot_user,
                    {},
                    [],
                    flags=m.FLAG_LOADING,
                    ephemeral_for=record.user_id if ephemeral else None,
                    interaction=record,
                )
                record.original = message
            elif kind == UPDATE_MESSAGE:
                updated = self._messages.get(record.target_message_id or 0)
                record.original = updated
            elif kind == DEFERRED_UPDATE:
                record.original = self._messages.get(record.target_message_id or 0)
            elif kind == AUTOCOMPLETE_RESULT:
                record.choices = list(data.get("choices") or [])
            elif kind == MODAL:
                record.modal = data
            result: dict[str, Any] = {
                "interaction": {
                    "id": str(record.id),
                    "type": record.type,
                    "response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE,
                    "response_message_ephemeral": ephemeral,
                }
            }
            shown = message or updated
            if shown is not None:
                result["interaction"]["response_message_id"] = str(shown.id)
            if message is not None:
                result["resource"] = {"type": kind, "message": self._message_payload(message)}
            else:
                result["resource"] = {"type": kind}
        if message is not None:
            self._dispatch_message("MESSAGE_CREATE", message)
        if updated is not None:
            self._edit_message(updated, data, files)
            with self.lock:
                result["resource"]["message"] = self._message_payload(updated)
        return result

    def _followup(self, record: InteractionRecord, payload: dict[str, Any], files: list[Any]) -> m.Message:
        channel = self._channel(record.channel_id)
        original = record.original
        if (
            original is not None
            and record.callback_type == DEFERRED_CHANNEL_MESSAGE
            and original.flags & m.FLAG_LOADING
        ):
            # The first followup after a "thinking" defer replaces the loading message.
            self._edit_message(original, payload, files)
            return original
        ephemeral = bool(int(payload.get("flags") or 0) & m.FLAG_EPHEMERAL)
        with self.lock:
            msg = self._new_message(
                channel,
                self.bot_user,
                payload,
                files,
                ephemeral_for=record.user_id if ephemeral else None,
                interaction=record,
            )
            record.followups.append(msg)
        self._dispatch_message("MESSAGE_CREATE", msg)
        return msg
