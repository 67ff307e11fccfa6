"""What the sandbox sends to the bot (an event, a slash command, an interaction) and what came back."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

EVENTS_API = "events_api"
SLASH_COMMANDS = "slash_commands"
INTERACTIVE = "interactive"


@dataclass
class Attempt:
    retry_attempt: int
    retry_reason: str
    sent_at: float
    #: HTTP status (HTTP mode), 200 for a Socket Mode ack, None when nothing came back in time.
    status: int | None = None
    outcome: str = "pending"  # acked | timeout | http_error | connection_failed | refused
    #: Socket Mode: the number of the connection this attempt went down (None: HTTP, or none was open).
    connection: int | None = None
    #: When the acknowledgement came back (the sandbox's clock), for ack-latency figures.
    acked_at: float | None = None


@dataclass
class Delivery:
    """One thing Slack tells the bot, with every attempt to tell it.

    Slack redelivers an event the bot did not acknowledge in time (up to 3 retries, with
    `retry_attempt` / `X-Slack-Retry-Num`); commands and interactions are never retried: the
    person sees an error instead.
    """

    kind: str
    payload: dict[str, Any]
    envelope_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    #: "bad_signature" or "stale_timestamp": send it wrongly signed (HTTP mode only).
    tamper: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    ack_payload: Any = None
    ack_status: int | None = None
    acked: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    failure: str | None = None
    created_at: float = field(default_factory=time.monotonic)
    #: Who did it and where (user, channel ids), for what Slack shows them afterwards.
    context: dict[str, Any] = field(default_factory=dict)
    #: retry_attempt of the first attempt (a forced redelivery starts above 0).
    first_attempt: int = 0

    @property
    def retries(self) -> int:
        return max(0, len(self.attempts) - 1)

    def wait(self, timeout: float = 5.0) -> bool:
        """Block until acknowledged or given up; True if acknowledged."""
        self.done.wait(timeout)
        return self.acked.is_set()

    @property
    def event_id(self) -> str | None:
        return self.payload.get("event_id")
