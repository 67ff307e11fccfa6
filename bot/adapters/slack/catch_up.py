"""Reading back the group channels after downtime, as the Discord adapter does.

Slack retries an event a few times and then drops it, and nothing is delivered to a bot that is not
running: replies written during a restart, a lost Socket Mode connection or a longer outage would
never reach the core. So on start, and every time Socket Mode connects again (Slack's ``hello``,
sent on each new connection), each running breakout's group channels are read back through the
Web API: ``conversations.history`` and, for every thread in it, ``conversations.replies``, paged
with cursors, from the breakout's start. Each message goes through the same translation and the
same core as a live event, so a message already stored is not stored again (capture is
idempotent), an edit made meanwhile (a newer ``edited.ts``) is applied, and after a complete read
a stored quote whose message is no longer there was deleted meanwhile and is removed.

The whole window is read rather than only what came after the newest stored message: an edit or a
deletion of an older message leaves no trace after it, and a thread's new replies only show on its
parent's ``latest_reply``. A breakout's channels hold hundreds of messages, not millions; reading is
bounded per channel (``bound``), and a read that stops short applies no deletions.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.client import BaseSocketModeClient

from bot.services.events import IncomingMessage, Kind

from . import translate
from .services import SlackServices, workspace_of

log = logging.getLogger(__name__)

HISTORY_PAGE = 200
"""Messages per request (Slack's default is 100 and it advises at most 200)."""
READ_BACK_BOUND = 50_000
"""At most this many messages are read back per group channel; hitting it is logged, and then no
deletions are applied there, since the read was not complete."""


class CatchUp:
    """Runs read-backs in the background, one at a time: a request made while one runs makes one
    more run after it (a reconnect during a read-back may have lost events the read already passed)."""

    def __init__(self, services: SlackServices, *, page_size: int = HISTORY_PAGE, bound: int = READ_BACK_BOUND):
        self.services = services
        self.page_size = page_size
        self.bound = bound
        self._lock = threading.Lock()
        self._running = False
        self._again = False
        self.runs = 0  # completed read-backs (for tests and logs)
        self.idle = threading.Event()
        self.idle.set()

    @property
    def client(self) -> WebClient:
        return self.services.port.client

    def request(self) -> None:
        with self._lock:
            if self._running:
                self._again = True
                return
            self._running = True
            self.idle.clear()
        threading.Thread(target=self._loop, name="slack-catch-up", daemon=True).start()

    def on_socket_message(self, client: BaseSocketModeClient, message: dict[str, Any], raw: str | None) -> None:
        """A Socket Mode listener: Slack says ``hello`` on every new connection, the first and each reconnect."""
        if message.get("type") == "hello":
            self.request()

    def _loop(self) -> None:
        while True:
            try:
                self.run()
            except Exception:
                log.exception("reading back the group channels failed")
            with self._lock:
                self.runs += 1
                if not self._again:
                    self._running = False
                    self.idle.set()
                    return
                self._again = False

    def run(self) -> int:
        """One read-back of every running breakout's group channels here; returns how many messages
        were looked at."""
        team_id = self.client.auth_test().get("team_id")
        workspace = workspace_of(str(team_id) if team_id else None)
        capture = self.services.core.capture
        seen = 0
        for channel_id, since in capture.channels_to_watch(workspace=workspace):
            seen += self._channel(workspace, channel_id, since - dt.timedelta(seconds=1))
        return seen

    def _channel(self, workspace: str, channel_id: str, after: dt.datetime) -> int:
        capture = self.services.core.capture
        # What is stored is asked first: a quote captured live while reading is not in it, so it cannot
        # be taken for a deleted one; one in it that the complete read does not find was deleted.
        stored = capture.stored_message_ids(workspace=workspace, channel_id=channel_id, since=after)
        oldest = f"{after.timestamp():.6f}"
        there: set[str] = set()
        complete = True
        try:
            threads: list[str] = []
            for message in self._pages("conversations_history", channel=channel_id, oldest=oldest):
                if not self._take(workspace, channel_id, message, there):
                    complete = False
                    break
                if message.get("reply_count") and message.get("thread_ts") == message.get("ts"):
                    threads.append(str(message["ts"]))
            for thread_ts in threads if complete else []:
                for message in self._pages("conversations_replies", channel=channel_id, ts=thread_ts, oldest=oldest):
                    if str(message.get("ts")) == thread_ts:
                        continue  # the parent again (Slack repeats it on each page)
                    if not self._take(workspace, channel_id, message, there):
                        complete = False
                        break
                if not complete:
                    break
        except SlackApiError as exc:
            log.warning("could not read back %s completely (%s); no deletions applied there", channel_id, exc)
            complete = False
        if complete:
            gone = sorted(stored - there, key=float)
            for message_id in gone:
                capture.receive(
                    IncomingMessage(
                        kind=Kind.DELETED, workspace=workspace, channel_id=channel_id, message_id=message_id
                    )
                )
            if gone:
                log.info(
                    "reading back %s: %d quote(s) whose messages were deleted meanwhile removed", channel_id, len(gone)
                )
        return len(there)

    def _pages(self, method: str, **args: Any) -> Iterator[dict[str, Any]]:
        """Every message of a history or a thread, page by page, following ``next_cursor``."""
        cursor: str | None = None
        while True:
            page = getattr(self.client, method)(limit=self.page_size, cursor=cursor, **args)
            yield from page.get("messages") or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page.get("has_more") or not cursor:
                return

    def _take(self, workspace: str, channel_id: str, message: dict[str, Any], there: set[str]) -> bool:
        """One message read back: captured as if it had just arrived, and an edit made while the bot
        was away applied (only if newer than what is stored). False when the bound is reached."""
        ts = str(message.get("ts") or "")
        if not ts or ts in there or message.get("subtype") == "tombstone":
            return True  # a tombstone is a deleted thread parent: not there (its replies are read)
        if len(there) >= self.bound:
            log.warning(
                "reading back %s: stopped after %d messages (the bound); no deletions applied there",
                channel_id,
                self.bound,
            )
            return False
        there.add(ts)
        capture = self.services.core.capture
        try:
            incoming = translate.said(
                message, workspace=workspace, channel_id=channel_id, people=self.services.directory.person
            )
            if incoming is None:
                return True
            captured = capture.receive(incoming)
            if captured.duplicate and (message.get("edited") or {}).get("ts"):
                capture.receive(translate.edit_of(message, workspace=workspace, channel_id=channel_id))
        except Exception:  # one message that cannot be taken (its author unknown...) does not stop the rest
            log.warning("reading back %s: message %s could not be captured", channel_id, ts, exc_info=True)
        return True


def follow(services: SlackServices, socket: BaseSocketModeClient | None = None) -> CatchUp:
    """In Socket Mode (before connecting), read back on every connection, the first included;
    otherwise (HTTP mode: Slack queues nothing for a server that was down) read back now."""
    catch_up = CatchUp(services)
    if socket is not None:
        socket.message_listeners.append(catch_up.on_socket_message)
    else:
        catch_up.request()
    return catch_up
