"""``SlackPort``: the core's chat port on the Slack Web API.

Group channels ``breakout-<plan>-<n>`` are reused when they exist (unarchived if archived, joined
if the bot is not in them) and made otherwise, private unless the plan says ``channels: {private:
false}`` (``groups:write``; only members see a private channel, so nobody wanders into another
group's); missing members are invited in one call. Slack's
refusals become ``ChatError`` with a sentence a facilitator can act on.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.services.port import (
    ChatError,
    ConsentOption,
    ConsentPrompt,
    Delivery,
    GroupChannelRequest,
    Outgoing,
)

from . import blocks as bk
from .people import Directory

log = logging.getLogger(__name__)

REASONS = {
    "channel_not_found": "Slack says the channel does not exist, or the bot cannot see it",
    "not_in_channel": "the bot is not a member of the channel; invite it with /invite @breakout-bot",
    "is_archived": "the channel is archived",
    "ratelimited": "Slack kept rate-limiting the bot; try again in a minute",
    "missing_scope": "the Slack app lacks a permission it needs; reinstall it from deploy/slack-manifest.yaml",
    "restricted_action": "a workspace setting stops the bot from doing this; ask a workspace admin",
    "name_taken": "a channel with that name exists but the bot cannot see it (a private channel?)",
    "invalid_auth": "Slack does not accept the bot token; check SLACK_BOT_TOKEN",
    "account_inactive": "the bot's Slack account is deactivated",
    "invalid_blocks": "Slack refused the message layout",
    "msg_too_long": "the message is too long for Slack",
    "user_is_restricted": "a guest account cannot be invited to this channel",
}

# The metadata event type of a timeline post (Slack: alphanumeric with underscores, at most 255).
POST_EVENT_TYPE = "breakout_post"

FILE_KINDS = {
    "md": "a Markdown file",
    "html": "a web page (open it in a browser; print it to PDF)",
    "docx": "a Word document",
    "pdf": "a PDF",
}


def reason(exc: Exception) -> str:
    """A facilitator-readable sentence for a Web API failure."""
    if isinstance(exc, SlackApiError):
        code = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
        if code == "missing_scope" and exc.response.get("needed"):
            return f"{REASONS[code]} (needed: {exc.response['needed']})"
        return f"{REASONS.get(code, 'Slack refused the request')} ({code})"
    return f"could not reach Slack ({type(exc).__name__}: {exc})"


class SlackPort:
    platform = "slack"

    def __init__(
        self, client: WebClient, directory: Directory | None = None, *, bot_user_id: str | None = None
    ) -> None:
        self.client = client
        self.directory = directory or Directory(client)
        self._bot_user_id = bot_user_id
        self._channels: dict[str, dict[str, Any]] = {}  # name -> conversation, as last seen
        self._channels_lock = threading.Lock()
        self._dm: dict[str, str] = {}

    @property
    def bot_user_id(self) -> str:
        if self._bot_user_id is None:
            self._bot_user_id = str(self.client.auth_test()["user_id"])
        return self._bot_user_id

    # -- group channels -----------------------------------------------------------------------

    def open_group_channel(self, request: GroupChannelRequest) -> str:
        try:
            channel = self._find_or_make(request.name, private=request.private)
            channel_id = str(channel["id"])
            if channel.get("is_archived"):
                self.client.conversations_unarchive(channel=channel_id)
            if not channel.get("is_member"):  # only a public channel can be joined; the bot sees private ones it is in
                self.client.conversations_join(channel=channel_id)
            self._invite(channel_id, [*request.members, *request.facilitators])
            return channel_id
        except (SlackApiError, SlackClientError) as exc:
            raise ChatError(f"#{request.name}: {reason(exc)}") from exc

    def _find_or_make(self, name: str, *, private: bool = True) -> dict[str, Any]:
        found = self._lookup(name, refresh=False) or self._lookup(name, refresh=True)
        if found is not None:
            return found
        try:
            made = self.client.conversations_create(name=name, is_private=private)["channel"]
        except SlackApiError as exc:
            if exc.response.get("error") != "name_taken":
                raise
            # Made by someone else meanwhile, or archived: look again before giving up.
            found = self._lookup(name, refresh=True)
            if found is None:
                raise
            return found
        with self._channels_lock:
            self._channels[name] = dict(made)
        return dict(made)

    def _lookup(self, name: str, *, refresh: bool) -> dict[str, Any] | None:
        with self._channels_lock:
            if not refresh:
                hit = self._channels.get(name)
                return dict(hit) if hit else None
            cursor = None
            while True:
                page = self.client.conversations_list(
                    types="public_channel,private_channel", exclude_archived=False, limit=1000, cursor=cursor
                )
                for c in page["channels"]:
                    self._channels[c["name"]] = dict(c)
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
            hit = self._channels.get(name)
            return dict(hit) if hit else None

    def _invite(self, channel_id: str, user_ids: Sequence[str]) -> None:
        wanted = list(dict.fromkeys(u for u in user_ids if u and u != self.bot_user_id))
        if not wanted:
            return
        present = set(self.directory.channel_members(channel_id))
        missing = [u for u in wanted if u not in present]
        if not missing:
            return
        try:
            self.client.conversations_invite(channel=channel_id, users=",".join(missing), force=True)
        except SlackApiError as exc:
            if exc.response.get("error") != "already_in_channel":  # joined meanwhile
                raise

    def close_group_channel(self, *, channel_id: str, request: GroupChannelRequest, archive: bool) -> None:
        if not archive:
            return
        try:
            self.client.conversations_archive(channel=channel_id)
        except SlackApiError as exc:
            if exc.response.get("error") == "already_archived":
                return
            raise ChatError(f"#{request.name}: {reason(exc)}") from exc
        with self._channels_lock:
            if request.name in self._channels:
                self._channels[request.name]["is_archived"] = True

    # -- messages ------------------------------------------------------------------------------

    def post(self, *, channel_id: str, message: Outgoing) -> Delivery:
        text, blocks = bk.outgoing(message)
        try:
            first = None
            for part, batch in enumerate(bk.batches(blocks)):
                extra: dict[str, Any] = {}
                if message.key is not None:  # comes back from conversations.history, for find_post
                    payload = {"key": message.key, "part": part}
                    extra["metadata"] = {"event_type": POST_EVENT_TYPE, "event_payload": payload}
                result = self.client.chat_postMessage(
                    channel=channel_id, text=text, blocks=batch, unfurl_links=False, unfurl_media=False, **extra
                )
                first = first or result
            assert first is not None
            return Delivery(message_id=str(first["ts"]), channel_id=str(first["channel"]))
        except (SlackApiError, SlackClientError) as exc:
            raise ChatError(reason(exc)) from exc

    def find_post(self, *, channel_id: str, key: str, message: Outgoing, since: dt.datetime) -> Delivery | None:
        """The bot's message carrying ``key`` in its metadata, read back from the channel's history
        (newest first, paged; Slack returns metadata only with ``include_all_metadata``)."""
        found: str | None = None
        try:
            cursor: str | None = None
            while True:
                page = self.client.conversations_history(
                    channel=channel_id,
                    oldest=f"{since.timestamp():.6f}",
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
                for msg in page.get("messages") or []:
                    meta = msg.get("metadata") or {}
                    payload = meta.get("event_payload") or {}
                    if meta.get("event_type") == POST_EVENT_TYPE and payload.get("key") == key and msg.get("bot_id"):
                        found = str(msg["ts"])  # pages run newest first: the last seen is its first part
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not page.get("has_more") or not cursor:
                    break
        except (SlackApiError, SlackClientError) as exc:
            raise ChatError(f"could not check whether the post is already there: {reason(exc)}") from exc
        return None if found is None else Delivery(message_id=found, channel_id=channel_id)

    def tell(
        self,
        *,
        user_id: str,
        text: str,
        channel_id: str | None = None,
        consent_options: Sequence[ConsentOption] = (),
        breakout_id: int | None = None,
    ) -> None:
        fallback, blocks = bk.private(text, consent_options, breakout_id)
        try:
            if channel_id:
                try:
                    self.client.chat_postEphemeral(channel=channel_id, user=user_id, text=fallback, blocks=blocks)
                    return
                except SlackApiError as exc:
                    if exc.response.get("error") not in (
                        "user_not_in_channel",
                        "channel_not_found",
                        "not_in_channel",
                        "is_archived",
                    ):
                        raise
            self.client.chat_postMessage(channel=self.dm(user_id), text=fallback, blocks=blocks)
        except (SlackApiError, SlackClientError) as exc:
            raise ChatError(reason(exc)) from exc

    def ask_consent(self, *, user_id: str, channel_id: str, prompt: ConsentPrompt) -> None:
        """An ephemeral in the group channel with the buttons (a direct message where that fails)."""
        self.tell(
            user_id=user_id,
            channel_id=channel_id,
            text=prompt.text,
            consent_options=prompt.options,
            breakout_id=prompt.breakout_id,
        )

    def dm(self, user_id: str) -> str:
        if user_id not in self._dm:
            self._dm[user_id] = str(self.client.conversations_open(users=user_id)["channel"]["id"])
        return self._dm[user_id]

    def send_file(
        self, *, user_id: str, filename: str, content: bytes, title: str, channel_id: str | None = None
    ) -> None:
        """Upload into the person's DM with the bot, so only they get it."""
        kind = FILE_KINDS.get(filename.rsplit(".", 1)[-1].lower(), "a file")
        try:
            self.client.files_upload_v2(
                channel=self.dm(user_id),
                content=content,
                filename=filename,
                title=title,
                initial_comment=bk.escape(f"{title}, as {kind}."),
            )
        except (SlackApiError, SlackClientError) as exc:
            raise ChatError(reason(exc)) from exc
