"""REST routes for messages (history, posts, edits, deletions, DMs, attachments) and for answering
interactions (the callback and the interaction's webhook)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import model as m
from .rest import (
    BODY,
    APIError,
    Routes,
    empty_response,
    json_response,
    not_found,
    optional_int,
    payload_and_files,
)


def stored(payload: dict) -> dict:
    """A message as Discord gives it back later: the ``nonce`` is not stored with it (only the create
    answer and the gateway's MESSAGE_CREATE carry it)."""
    payload.pop("nonce", None)
    return payload


class MessageRoutes(Routes):
    """Messages, DMs, attachments, and the interaction callback and webhooks."""

    # ----- messages

    async def list_messages(self, request: web.Request) -> web.Response:
        channel = self.sb._channel(request.match_info["channel_id"])
        self.sb._require_bot_in_channel(channel, m.P.VIEW_CHANNEL | m.P.READ_MESSAGE_HISTORY)
        limit = min(int(request.query.get("limit", 50)), 100)
        before = optional_int(request.query.get("before"))
        after = optional_int(request.query.get("after"))
        with self.sb.lock:
            msgs = [x for x in self.sb._channel_messages(channel.id) if x.ephemeral_for is None]
            if before:
                msgs = [x for x in msgs if x.id < before]
            if after:
                msgs = [x for x in msgs if x.id > after]
                msgs = msgs[:limit]
            else:
                msgs = msgs[-limit:]
            msgs.sort(key=lambda x: x.id, reverse=True)
            return json_response([stored(self.sb._message_payload(x)) for x in msgs])

    async def archived_threads(self, request: web.Request) -> web.Response:
        """List Public Archived Threads / List Joined Private Archived Threads: the sandbox's threads never
        archive (they stay active, in GUILD_CREATE's ``threads``), so these lists are empty."""
        channel = self.sb._channel(request.match_info["channel_id"])
        if channel.type != m.GUILD_TEXT:
            raise APIError(400, 50024, "Cannot execute action on this channel type")
        self.sb._require_bot_in_channel(channel, m.P.VIEW_CHANNEL | m.P.READ_MESSAGE_HISTORY)
        return json_response({"threads": [], "members": [], "has_more": False})

    async def create_message(self, request: web.Request) -> web.Response:
        channel = self.sb._channel(request.match_info["channel_id"])
        self.sb._require_bot_in_channel(channel, m.P.VIEW_CHANNEL | m.P.SEND_MESSAGES)
        if channel.type == m.DM and any(u.id in self.sb.closed_dms for u in channel.recipients):
            raise APIError(403, 50007, "Cannot send messages to this user")
        payload, files = payload_and_files(request[BODY])
        if not (
            payload.get("content")
            or payload.get("embeds")
            or files
            or payload.get("components")
            or payload.get("sticker_ids")
        ):
            raise APIError(400, 50006, "Cannot send an empty message")
        if len(payload.get("content") or "") > 2000:
            raise APIError(400, 50035, "Invalid Form Body: content must be 2000 or fewer in length.")
        nonce = payload.get("nonce")
        if nonce is not None and payload.get("enforce_nonce"):
            existing = self.sb._message_by_nonce(channel.id, nonce)
            if existing is not None:
                with self.sb.lock:
                    return json_response(self.sb._message_payload(existing))
        msg = self.sb._post_message(channel, self.sb.bot_user, payload, files)
        with self.sb.lock:
            return json_response(self.sb._message_payload(msg))

    async def get_message(self, request: web.Request) -> web.Response:
        msg = self.sb._message(request.match_info["channel_id"], request.match_info["message_id"])
        with self.sb.lock:
            return json_response(stored(self.sb._message_payload(msg)))

    async def edit_message(self, request: web.Request) -> web.Response:
        msg = self.sb._message(request.match_info["channel_id"], request.match_info["message_id"])
        if msg.author.id != self.sb.bot_user.id:
            raise APIError(403, 50005, "Cannot edit a message authored by another user")
        payload, files = payload_and_files(request[BODY])
        self.sb._edit_message(msg, payload, files)
        with self.sb.lock:
            return json_response(self.sb._message_payload(msg))

    async def delete_message(self, request: web.Request) -> web.Response:
        msg = self.sb._message(request.match_info["channel_id"], request.match_info["message_id"])
        if msg.author.id != self.sb.bot_user.id:
            self.sb._require_bot_in_channel(self.sb._channel(msg.channel_id), m.P.MANAGE_MESSAGES)
        self.sb._delete_message(msg)
        return empty_response()

    async def bulk_delete(self, request: web.Request) -> web.Response:
        channel = self.sb._channel(request.match_info["channel_id"])
        self.sb._require_bot_in_channel(channel, m.P.MANAGE_MESSAGES)
        ids = [int(x) for x in (request[BODY] or {}).get("messages", [])]
        if not 2 <= len(ids) <= 100:
            raise APIError(400, 50016, "You must provide at least 2 and fewer than 100 messages to delete.")
        msgs = [self.sb._message(channel.id, i) for i in ids]
        self.sb._bulk_delete(channel, msgs)
        return empty_response()

    async def create_dm(self, request: web.Request) -> web.Response:
        body = request[BODY] or {}
        with self.sb.lock:
            user = self.sb.users.get(int(body.get("recipient_id", 0)))
        if user is None:
            raise not_found("User", 10013)
        channel = self.sb._dm_channel(user)
        with self.sb.lock:
            return json_response(channel.payload())

    # ----- interactions

    async def interaction_callback(self, request: web.Request) -> web.Response:
        record = self.sb._interaction_for_callback(
            int(request.match_info["interaction_id"]), request.match_info["token"]
        )
        payload, files = payload_and_files(request[BODY])
        result = self.sb._respond_to_interaction(record, payload, files)
        if request.query.get("with_response") in ("1", "true", "True"):
            return json_response(result)
        return empty_response()

    async def followup(self, request: web.Request) -> web.Response:
        record = self.sb._interaction_for_webhook(request.match_info["application_id"], request.match_info["token"])
        payload, files = payload_and_files(request[BODY])
        msg = self.sb._followup(record, payload, files)
        if request.query.get("wait") in ("1", "true", "True"):
            with self.sb.lock:
                return json_response(self.sb._message_payload(msg))
        return empty_response()

    def _webhook_message(self, request: web.Request) -> tuple[Any, m.Message]:
        record = self.sb._interaction_for_webhook(request.match_info["application_id"], request.match_info["token"])
        mid = request.match_info["message_id"]
        with self.sb.lock:
            if mid == "@original":
                msg = record.original
            else:
                msg = next((x for x in record.messages if x.id == optional_int(mid)), None)
            if msg is None or msg.deleted:
                raise not_found("Message", 10008)
            return record, msg

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        _, msg = self._webhook_message(request)
        with self.sb.lock:
            return json_response(self.sb._message_payload(msg))

    async def edit_webhook_message(self, request: web.Request) -> web.Response:
        _record, msg = self._webhook_message(request)
        payload, files = payload_and_files(request[BODY])
        self.sb._edit_message(msg, payload, files)
        with self.sb.lock:
            return json_response(self.sb._message_payload(msg))

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        _, msg = self._webhook_message(request)
        self.sb._delete_message(msg)
        return empty_response()

    # ----- attachments (the CDN)

    async def attachment(self, request: web.Request) -> web.Response:
        with self.sb.lock:
            att = self.sb.attachments.get(int(request.match_info["attachment_id"]))
        if att is None:
            raise web.HTTPNotFound()
        with self.sb.lock:
            self.sb.attachment_downloads.append(att.id)
        return web.Response(body=att.data, content_type=att.content_type or "application/octet-stream")
