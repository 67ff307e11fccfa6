"""The one WebClient the Slack adapter uses, built from the settings and injected everywhere.

slack-sdk's retry handlers do the retrying: 429 after ``Retry-After``, connection errors, and
500/503 with exponential backoff. ``SLACK_API_URL`` points it at Slack or at the sandbox.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import (
    BackoffRetryIntervalCalculator,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.jitter import Jitter
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.config import Settings

#: Enough to ride out a burst of 429s during a fan-out to many groups.
RATE_LIMIT_RETRIES = 10


class RetryAfterHandler(RateLimitErrorRetryHandler):
    """slack-sdk's 429 handler, waiting ``Retry-After`` plus a jitter in proportion to it.

    The stock handler adds up to a whole second to every wait, whatever ``Retry-After`` says;
    during a fan-out to many groups those seconds add up. The sleep is injectable for tests.
    """

    def __init__(
        self,
        max_retry_count: int = RATE_LIMIT_RETRIES,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.sleep = sleep
        self.rng = rng or random.Random()

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error  # type: ignore[misc]
        state.next_attempt_requested = True
        header = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), None)
        try:
            wait = float(header[0] if isinstance(header, list) else header) if header is not None else 1.0
        except ValueError:
            wait = 1.0
        self.sleep(wait + self.rng.uniform(0, 0.1 + 0.2 * wait))
        state.increment_current_attempt()


class ProportionalJitter(Jitter):
    """Up to half the wait again, at random (slack-sdk's default adds up to a second to any wait)."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.rng = rng or random.Random()

    def recalculate(self, duration: float) -> float:
        return duration + self.rng.uniform(0, duration / 2)


def retry_handlers(*, backoff_factor: float = 0.5) -> list[RetryHandler]:
    backoff = BackoffRetryIntervalCalculator(backoff_factor=backoff_factor, jitter=ProportionalJitter())
    return [
        ConnectionErrorRetryHandler(max_retry_count=3, interval_calculator=backoff),
        RetryAfterHandler(),
        ServerErrorRetryHandler(max_retry_count=3, interval_calculator=backoff),
    ]


def make_web_client(settings: Settings, *, timeout: int = 30, backoff_factor: float = 0.5) -> WebClient:
    if not settings.slack_bot_token:
        raise ValueError("SLACK_BOT_TOKEN is not set: the Slack app needs its bot token (xoxb-...).")
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=timeout,
        retry_handlers=retry_handlers(backoff_factor=backoff_factor),
    )
