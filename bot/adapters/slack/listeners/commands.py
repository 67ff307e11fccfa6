"""``/breakout`` and ``/summary``.

The ack is immediate and does no I/O: the text is parsed, a typo is answered with the usage and the
plans, and anything else is acknowledged with a short note. The work runs after the ack (a bolt
lazy listener) and answers through the command's ``response_url``, replacing the note, so the
typist sees progress ("channels 5/13") and then the result, privately.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, wait
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk.errors import SlackApiError

from bot.services.commands import (
    BREAKOUT_USAGE,
    SUMMARY_USAGE,
    parse_breakout,
    parse_summary,
)
from bot.services.context import Actor
from bot.services.errors import BreakoutError
from bot.services.port import ChatError

from .. import blocks as bk
from .. import errors, files
from ..port import reason
from ..services import SlackServices, actor_of

log = logging.getLogger(__name__)

#: A summary longer than this many messages goes only as a file.
MAX_SUMMARY_MESSAGES = 3


class ProgressReporter:
    """Updates the command's answer in place, a few times at most (a response_url takes 5 posts).

    Updates closer together than ``interval`` are folded: the latest one is sent when the
    interval is up, unless the final answer came first.
    """

    def __init__(self, respond: Respond, services: SlackServices, *, interval: float = 0.3, max_updates: int = 3):
        self.respond, self.services = respond, services
        self.interval, self.max_updates = interval, max_updates
        self._lock = threading.Lock()
        self._last = 0.0
        self._updates = 0
        self._finished = False
        self._latest: str | None = None
        self._timer: threading.Timer | None = None
        self._pending: list[Future[Any]] = []

    def __call__(self, text: str) -> None:
        with self._lock:
            if self._finished or self._updates >= self.max_updates:
                return
            wait = self.interval - (time.monotonic() - self._last)
            if wait > 0:
                self._latest = text
                if self._timer is None:
                    self._timer = threading.Timer(wait, self._flush)
                    self._timer.daemon = True
                    self._timer.start()
                return
            self._send_locked(text)

    def _flush(self) -> None:
        with self._lock:
            self._timer = None
            text, self._latest = self._latest, None
            if text is not None and not self._finished and self._updates < self.max_updates:
                self._send_locked(text)

    def _send_locked(self, text: str) -> None:
        self._updates += 1
        self._last = time.monotonic()
        payload = bk.reply_payload(f"Setting up the breakout: {text}…")
        self._pending.append(self.services.workers.submit(self._send, payload))

    def _send(self, payload: dict[str, Any]) -> None:
        try:
            self.respond(**payload, replace_original=True)
        except Exception:  # progress is a courtesy; the final answer still comes
            log.warning("progress update failed", exc_info=True)

    def finish(self, text: str) -> None:
        with self._lock:
            self._finished = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            pending = list(self._pending)
        wait(pending, timeout=10)
        self.respond(**bk.reply_payload(text), replace_original=True)


def _answer(work: Callable[[], str], services: SlackServices) -> str:
    """Run one command; a failure becomes the sentence the typist reads (``errors.sentence``)."""
    try:
        return work()
    except Exception as exc:
        return errors.sentence(exc, services)


def register(app: App, s: SlackServices) -> None:
    def ack_breakout(ack: Ack, command: dict[str, Any]) -> None:
        try:
            parsed = parse_breakout(command.get("text", ""))
        except BreakoutError as exc:
            ack(**bk.reply_payload(f"{errors.sentence(exc, s)}\n\n{s.plan_list()}"))
            return
        if parsed.action == "help":
            ack(**bk.reply_payload(f"{BREAKOUT_USAGE}\n\n{s.plan_list()}"))
        else:
            # An empty ack: the answer comes through response_url. A note here could overtake it
            # (the ack and the lazy listener race) and be what the typist sees last.
            ack()

    def run_breakout(command: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        try:
            parsed = parse_breakout(command.get("text", ""))
        except BreakoutError:
            return  # answered by the ack
        if parsed.action == "help":
            return
        channel_id = command["channel_id"]
        progress = ProgressReporter(respond, s)
        if parsed.action == "start":
            progress(f"starting {parsed.plan}")

        def work() -> str:
            actor = actor_of(context)

            def participants() -> tuple[list[Any], list[Any]]:
                try:
                    people = s.directory.people_in(channel_id)
                except SlackApiError as exc:
                    if exc.response.get("error") in errors.HIDDEN_CHANNEL:
                        raise errors.HiddenChannel(reason(exc)) from exc
                    raise
                facilitators = [p for p in people if s.roles.is_facilitator(p.user_id)]
                return people, facilitators

            return s.core.run_breakout_command(
                actor, parsed, channel_id=channel_id, participants=participants, progress=progress
            )

        progress.finish(_answer(work, s))

    app.command("/breakout")(ack=ack_breakout, lazy=[run_breakout])

    def ack_summary(ack: Ack, command: dict[str, Any]) -> None:
        try:
            parse_summary(command.get("text", ""))
        except BreakoutError as exc:
            ack(**bk.reply_payload(errors.sentence(exc, s)))
            return
        ack()

    def run_summary(command: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        try:
            parsed = parse_summary(command.get("text", ""))
        except BreakoutError:
            return
        user_id, channel_id = command["user_id"], command["channel_id"]
        messages: list[tuple[str, list[dict[str, Any]]]] = []

        def work() -> str:
            actor = actor_of(context)
            if parsed.action == "import":
                return _import_chat(s, actor, user_id=user_id, channel_id=channel_id, breakout_id=parsed.breakout_id)
            delivery = s.core.summary_for(actor, parsed, channel_id=channel_id)
            filename = delivery.filename
            messages.extend(bk.summary_messages(delivery.summary))
            try:
                s.port.send_file(
                    user_id=user_id, filename=filename, content=delivery.content, title=delivery.summary.title
                )
            except ChatError as exc:  # the summary is still shown; say why the file is missing
                log.warning("sending %s to %s failed: %s", filename, user_id, exc)
                if len(messages) > MAX_SUMMARY_MESSAGES:
                    del messages[MAX_SUMMARY_MESSAGES:]
                    return f"The summary is cut short here, and I could not send you the file: {exc}"
                return f"I could not send you the summary as a file: {exc}"
            if len(messages) > MAX_SUMMARY_MESSAGES:
                messages.clear()
                return f"The summary is long, so it is only in the file I just sent you ({filename})."
            return f"I also sent you the summary as a file ({filename}) in our direct messages."

        text = _answer(work, s)
        if not messages:
            respond(**bk.reply_payload(text), replace_original=True)
            return
        for i, (fallback, blocks) in enumerate(messages):
            respond(text=fallback, blocks=blocks, response_type="ephemeral", replace_original=(i == 0))
        respond(**bk.reply_payload(text), replace_original=False)

    app.command("/summary")(ack=ack_summary, lazy=[run_summary])


def _import_chat(s: SlackServices, actor: Actor, *, user_id: str, channel_id: str, breakout_id: int | None) -> str:
    """``/summary import``: the core's one import flow; Slack's part is finding the shared file and fetching it."""
    chat = s.core.call_chat
    imported = chat.import_chat(
        actor,
        find_file=lambda: files.shared_chat_file(
            s.port.client, user_id=user_id, channel_id=channel_id, max_bytes=chat.max_bytes
        ),
        breakout_id=breakout_id,
        channel_id=channel_id,
    )
    return imported.describe(in_chat=True)


__all__ = ["SUMMARY_USAGE", "register"]
