"""The one WebClient the Slack adapter uses, built from the settings and injected everywhere.

slack-sdk's retry handlers do the retrying: 429 after ``Retry-After``, connection errors, and
500/503 with exponential backoff. ``SLACK_API_URL`` points it at Slack or at the sandbox.
"""

from __future__ import annotations

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

from bot.config import Settings

#: Enough to ride out a burst of 429s during a fan-out to many groups.
RATE_LIMIT_RETRIES = 10


def retry_handlers(*, backoff_factor: float = 0.5) -> list[RetryHandler]:
    backoff = BackoffRetryIntervalCalculator(backoff_factor=backoff_factor)
    return [
        ConnectionErrorRetryHandler(max_retry_count=3, interval_calculator=backoff),
        RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
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
