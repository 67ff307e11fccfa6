"""``SlackPort``: the core's chat port on the Slack Web API.

Group channels ``breakout-<plan>-<n>`` are reused when they exist (unarchived if archived, joined
if the bot is not in them) and made otherwise, private unless the plan says ``channels: {private:
false}`` (``groups:write``; only members see a private channel, so nobody wanders into another
group's); missing members are invited in one call. Slack's
refusals become ``ChatError`` with a sentence a facilitator can act on.

Slack allows ``conversations.list`` and ``.create`` about 20 calls a minute, so a start of 100 groups
lists the workspace's channels once: the groups' workers share one listing (nobody lists while
another listing is on its way, and no lock is held over a Web API call), and a name missing from a
listing younger than ``LISTING_FRESH`` is made without looking again. The listing takes archived
channels too: the channels of last month's run of a plan are archived, and each one missed would
cost a refused create (``name_taken``, on the same Tier 2 budget) and a listing more. A
``name_taken`` (a channel made meanwhile) costs one more listing. Creates (and
unarchives) go one at a time: beyond the burst Slack admits one every 3 s, and workers racing for
it would spend their retries on 429s until a group gave up.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
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

#: Seconds a channel listing is trusted: a name not in it is made without listing again.
LISTING_FRESH = 120.0
#: Slack's most users in one conversations.invite.
INVITE_BATCH = 1000
#: The conversation types a group channel may be.
CHANNEL_TYPES = "public_channel,private_channel"
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
        self,
        client: WebClient,
        directory: Directory | None = None,
        *,
        bot_user_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.directory = directory or Directory(client)
        self._bot_user_id = bot_user_id
        self._whoami_lock = threading.Lock()
        self._clock = clock
        self._channels: dict[str, dict[str, Any]] = {}  # name -> conversation, as last seen
        self._channels_lock = threading.Lock()  # guards the fields below; never held over a Web API call
        self._listed_at: float | None = None  # when the latest listing began
        self._listing: threading.Event | None = None  # set when the listing on its way is done
        # Tier 2 methods a fan-out calls once a group go one at a time (see _find_or_make).
        self._paced = {"create": threading.Lock(), "unarchive": threading.Lock()}
        self._dm: dict[str, str] = {}

    @property
    def bot_user_id(self) -> str:
        """Asked of Slack once: the groups' workers all need it at once, and each would ask otherwise
        (they wait for the one answer they need, nothing else is held)."""
        if self._bot_user_id is None:
            with self._whoami_lock:
                if self._bot_user_id is None:
                    self._bot_user_id = str(self.client.auth_test()["user_id"])
        return self._bot_user_id

    # -- group channels -----------------------------------------------------------------------

    def open_group_channel(self, request: GroupChannelRequest) -> str:
        try:
            channel, made = self._find_or_make(request.name, private=request.private)
            channel_id = str(channel["id"])
            if channel.get("is_archived"):
                with self._paced["unarchive"]:
                    self.client.conversations_unarchive(channel=channel_id)
                self._remember(request.name, is_archived=False)
            if not channel.get("is_member"):  # only a public channel can be joined; the bot sees private ones it is in
                self.client.conversations_join(channel=channel_id)
                self._remember(request.name, is_member=True)
            self._invite(channel_id, [*request.members, *request.facilitators], made=made)
            return channel_id
        except (SlackApiError, SlackClientError) as exc:
            raise ChatError(f"#{request.name}: {reason(exc)}") from exc

    def _find_or_make(self, name: str, *, private: bool = True) -> tuple[dict[str, Any], bool]:
        """The channel called ``name``, and whether the bot made it just now."""
        found = self._known(name)
        if found is None:
            self._ensure_listed(since=self._clock() - LISTING_FRESH)
            found = self._known(name)
        if found is not None:
            return found, False
        asked = self._clock()
        try:
            # Beyond its burst Slack lets one create through every 3 s. Workers racing for that one
            # each spend their retries on 429s, and a group fails; in turn, each waits only for Slack.
            with self._paced["create"]:
                made = dict(self.client.conversations_create(name=name, is_private=private)["channel"])
        except SlackApiError as exc:
            if exc.response.get("error") != "name_taken":
                raise
            # Made by someone else since the listing: look again.
            self._ensure_listed(since=asked)
            found = self._known(name)
            if found is None:
                raise
            return found, False
        with self._channels_lock:
            self._channels[name] = made
        return dict(made), True

    def _known(self, name: str) -> dict[str, Any] | None:
        with self._channels_lock:
            hit = self._channels.get(name)
            return dict(hit) if hit else None

    def _remember(self, name: str, **changes: Any) -> None:
        with self._channels_lock:
            if name in self._channels:
                self._channels[name].update(changes)

    def _ensure_listed(self, *, since: float) -> None:
        """See that a listing begun at ``since`` or later is in the cache: one listing serves every
        worker that asks meanwhile (they wait for it without holding a lock), none is made twice."""
        while True:
            with self._channels_lock:
                if self._listed_at is not None and self._listed_at >= since:
                    return
                running = self._listing
                if running is None:
                    running = self._listing = threading.Event()
                    mine = True
                else:
                    mine = False
            if not mine:
                running.wait()
                continue  # that listing may have failed, or begun too early: check again
            try:
                self._list_channels()
            finally:
                with self._channels_lock:
                    self._listing = None
                running.set()
            return

    def _list_channels(self) -> None:
        began = self._clock()
        cursor = None
        while True:
            page = self.client.conversations_list(
                types=CHANNEL_TYPES, exclude_archived=False, limit=1000, cursor=cursor
            )
            with self._channels_lock:
                for c in page["channels"]:
                    self._channels[c["name"]] = dict(c)
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        with self._channels_lock:
            self._listed_at = began

    def _invite(self, channel_id: str, user_ids: Sequence[str], *, made: bool = False) -> None:
        """Everyone missing, in one call (Slack takes up to 1,000 users in one invite). A channel the
        bot has just made holds only the bot, so its members are not asked for."""
        wanted = list(dict.fromkeys(u for u in user_ids if u and u != self.bot_user_id))
        if not wanted:
            return
        present = set() if made else set(self.directory.channel_members(channel_id))
        missing = [u for u in wanted if u not in present]
        for start in range(0, len(missing), INVITE_BATCH):
            try:
                self.client.conversations_invite(
                    channel=channel_id, users=",".join(missing[start : start + INVITE_BATCH]), force=True
                )
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
        self._remember(request.name, is_archived=True)

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
