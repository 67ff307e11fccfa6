"""One middleware that lets a slash command or an interaction through once.

Slack accepts a request's signature for 5 minutes, so a signed ``/breakout next`` copied off the wire
could be sent again within that window and move the breakout on again. Each slash command and each
interactive payload carries a ``trigger_id`` of its own; the core remembers the ids it has handled
(``HandledRequests``, in the shared database, so a replay landing on another process is caught too).
A replay is acknowledged with an empty 200, so Slack shows nothing, and goes no further.

Events are left alone: Slack's own retries of an event (``X-Slack-Retry-Num``) must reach capture,
which stores each message once by its natural key, in case the first delivery failed before storing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

from bot.services.replay import HandledRequests

from .services import team_of


def request_key(body: dict[str, Any]) -> str | None:
    """The id a replay would repeat: a command's or an interaction's ``trigger_id``; None for events."""
    if body.get("type") == "event_callback":
        return None
    trigger_id = body.get("trigger_id")
    if not isinstance(trigger_id, str) or not trigger_id:
        return None
    return f"slack:{team_of(body) or 'unknown'}:trigger:{trigger_id}"


def use_replay_guard(app: App, handled: HandledRequests) -> None:
    """Register the middleware on ``app``: it runs after Bolt's signature check, before any listener."""

    @app.use
    def once_only(body: dict[str, Any], request: BoltRequest, next: Callable[[], None]) -> BoltResponse | None:
        key = None if request.lazy_only else request_key(body)
        if key is not None and not handled.first_time(key):
            return BoltResponse(status=200, body="")
        next()
        return None
