"""HTTP mode: the sandbox POSTs signed requests to the bot's Request URL.

Signature: `X-Slack-Signature: v0=hex(HMAC-SHA256(secret, "v0:{ts}:{body}"))` with
`X-Slack-Request-Timestamp: {ts}`. Slash commands are form-encoded, events are `event_callback`
JSON, interactions are `payload=<urlencoded JSON>`. An event whose POST fails (non-2xx, no
answer within `ack_timeout`, connection refused) is retried with `X-Slack-Retry-Num` and
`X-Slack-Retry-Reason`, unless the bot answered with `X-Slack-No-Retry: 1`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import aiohttp

from .delivery import EVENTS_API, INTERACTIVE, SLASH_COMMANDS, Attempt, Delivery

if TYPE_CHECKING:
    from .sandbox import SlackSandbox

STALE_SECONDS = 60 * 5 + 30


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def encode(d: Delivery) -> tuple[bytes, str]:
    if d.kind == EVENTS_API:
        return json.dumps(d.payload).encode(), "application/json"
    if d.kind == SLASH_COMMANDS:
        return urlencode(d.payload).encode(), "application/x-www-form-urlencoded"
    if d.kind == INTERACTIVE:
        return urlencode({"payload": json.dumps(d.payload)}).encode(), "application/x-www-form-urlencoded"
    raise ValueError(d.kind)


class HttpGateway:
    def __init__(self, sb: SlackSandbox) -> None:
        self.sb = sb
        self._session: aiohttp.ClientSession | None = None

    async def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def headers(self, body: bytes, content_type: str, tamper: str | None) -> dict[str, str]:
        ts = int(time.time())
        if tamper == "stale_timestamp":
            ts -= STALE_SECONDS
        timestamp = str(ts)
        signature = sign(self.sb.signing_secret, timestamp, body)
        if tamper == "bad_signature":
            signature = sign("not-the-signing-secret", timestamp, body)
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> tuple[int | None, dict[str, str], bytes, str]:
        """One POST: (status or None, headers, body, outcome)."""
        session = await self.session()
        try:
            async with session.post(
                url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as resp:
                data = await resp.read()
                outcome = "acked" if 200 <= resp.status < 300 else "http_error"
                return resp.status, dict(resp.headers), data, outcome
        except TimeoutError:
            return None, {}, b"", "http_timeout"
        except aiohttp.ClientConnectionError:
            return None, {}, b"", "connection_failed"

    async def deliver(self, d: Delivery) -> None:
        url = self.sb.request_url
        assert url, "HTTP mode needs sb.request_url"
        body, content_type = encode(d)
        retries = self.sb.max_retries if d.kind == EVENTS_API else 0
        reason = "http_timeout" if d.first_attempt else ""
        for attempt_no in range(d.first_attempt, d.first_attempt + retries + 1):
            if attempt_no > d.first_attempt:
                await asyncio.sleep(self.sb.retry_delay)
            headers = self.headers(body, content_type, d.tamper)
            if attempt_no:
                headers["X-Slack-Retry-Num"] = str(attempt_no)
                headers["X-Slack-Retry-Reason"] = reason
            attempt = Attempt(retry_attempt=attempt_no, retry_reason=reason, sent_at=self.sb.clock())
            d.attempts.append(attempt)
            status, resp_headers, data, outcome = await self.post(url, body, headers, self.sb.ack_timeout)
            attempt.status, attempt.outcome = status, outcome
            if outcome == "acked":
                attempt.acked_at = self.sb.clock()
            d.ack_status = status
            if outcome == "acked":
                d.ack_payload = _parse_body(resp_headers, data)
                d.acked.set()
                d.done.set()
                self.sb._on_ack(d)
                return
            if status is not None:
                d.ack_payload = _parse_body(resp_headers, data)
            if resp_headers.get("X-Slack-No-Retry") == "1":
                break
            reason = outcome
        d.failure = d.attempts[-1].outcome
        d.done.set()
        self.sb._on_unacked(d)


def _parse_body(headers: dict[str, str], data: bytes) -> Any:
    if not data:
        return None
    text = data.decode("utf-8", errors="replace")
    if headers.get("Content-Type", "").startswith("application/json"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return {"text": text}
