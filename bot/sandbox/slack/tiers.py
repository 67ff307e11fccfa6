"""Slack's published Web API rate tiers, enforced per workspace and method on the sandbox's scaled clock.

Slack limits each Web API method "per method per app per workspace" by tier, and answers a call beyond
its tier with HTTP 429 and ``Retry-After: <whole seconds>``
(https://docs.slack.dev/apis/web-api/rate-limits):

- Tier 1: 1+ per minute, "a small amount of burst behavior is tolerated";
- Tier 2: 20+ per minute, "occasional bursts of more requests";
- Tier 3: 50+ per minute, "sporadic bursts are welcome";
- Tier 4: 100+ per minute, "generous burst behavior";
- chat.postMessage (special): about 1 message per second per channel with short bursts, plus a
  workspace-wide limit of "several hundred messages per minute".

The sandbox models each limit as a token bucket: it holds ``burst`` calls and refills at ``per_minute``
a minute. Slack does not publish burst sizes; a tier's bucket holds one minute's allowance (what a
per-minute window lets through at once), Tier 1 holds 3 and a channel's chat.postMessage holds 5.
With ``time_scale`` 0.01 a minute lasts 0.6 s, so the buckets refill 100 times faster; ``Retry-After``
still says whole Slack seconds, as Slack does, and a client on the sandbox's clock sleeps
``Retry-After * time_scale`` (``SlackSandbox.sleep``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    """Calls a minute, and how many may come at once (the bucket's size)."""

    per_minute: float
    burst: int
    name: str = ""


TIER_1 = Limit(1, 3, "Tier 1")
TIER_2 = Limit(20, 20, "Tier 2")
TIER_3 = Limit(50, 50, "Tier 3")
TIER_4 = Limit(100, 100, "Tier 4")
#: chat.postMessage into one channel: "1 per second, short bursts >1 allowed".
POST_PER_CHANNEL = Limit(60, 5, "1 per second per channel")
#: chat.postMessage across the workspace: "several hundred messages per minute".
POST_PER_WORKSPACE = Limit(300, 300, "several hundred per minute per workspace")

#: Each method's tier, as its page in Slack's method reference gives it. auth.test is "special" and
#: generous in practice; it is modelled as Tier 4. Methods not listed are not limited.
TIERS: dict[str, Limit] = {
    # Tier 1 on api.slack.com's old page, Tier 3 on docs.slack.dev's: the newer is modelled.
    "apps.connections.open": TIER_3,
    "auth.test": TIER_4,
    "chat.delete": TIER_3,
    "chat.postEphemeral": TIER_4,
    "chat.postMessage": POST_PER_WORKSPACE,
    "chat.update": TIER_3,
    "conversations.archive": TIER_2,
    "conversations.create": TIER_2,
    "conversations.history": TIER_3,
    "conversations.info": TIER_3,
    "conversations.invite": TIER_3,
    "conversations.join": TIER_3,
    "conversations.list": TIER_2,
    "conversations.members": TIER_4,
    "conversations.open": TIER_3,
    "conversations.replies": TIER_3,
    "conversations.unarchive": TIER_2,
    "files.completeUploadExternal": TIER_4,
    "files.getUploadURLExternal": TIER_4,
    "files.info": TIER_4,
    "files.list": TIER_3,
    "usergroups.list": TIER_2,
    "usergroups.users.list": TIER_2,
    "users.info": TIER_4,
    "users.list": TIER_2,
    "views.publish": TIER_4,
}
#: Methods limited per channel as well as per workspace.
PER_CHANNEL: dict[str, Limit] = {"chat.postMessage": POST_PER_CHANNEL}


class Bucket:
    """A token bucket on the real clock: ``rate`` tokens a real second, at most ``capacity``."""

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity, self.rate = capacity, rate
        self.tokens, self.at = capacity, now

    def wait(self, now: float) -> float:
        """Real seconds until one call fits (0 if it fits now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1 - 1e-9:  # a call exactly on time is not refused for a rounding error
            return 0.0
        return (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


class RateTiers:
    """Which calls Slack would throttle now; thread-safe.

    ``admit`` takes a call's tokens and returns None, or returns the ``Retry-After`` Slack would send
    (whole Slack seconds, at least 1) and takes nothing.
    """

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        clock: Callable[[], float],
        tiers: Mapping[str, Limit] | None = None,
        per_channel: Mapping[str, Limit] | None = None,
        enabled: bool = True,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive (1.0 is Slack's own speed)")
        self.time_scale = time_scale
        self.clock = clock
        self.tiers = dict(TIERS if tiers is None else tiers)
        self.per_channel = dict(PER_CHANNEL if per_channel is None else per_channel)
        self.enabled = enabled
        self._buckets: dict[tuple[str, ...], Bucket] = {}
        self._lock = threading.Lock()

    def _bucket(self, key: tuple[str, ...], limit: Limit, now: float) -> Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            rate = limit.per_minute / 60.0 / self.time_scale
            bucket = self._buckets[key] = Bucket(limit.burst, rate, now)
        return bucket

    def admit(self, team_id: str, method: str, channel: str | None = None) -> int | None:
        if not self.enabled:
            return None
        limits: list[tuple[tuple[str, ...], Limit]] = []
        if method in self.tiers:
            limits.append(((team_id, method), self.tiers[method]))
        if method in self.per_channel and channel:
            limits.append(((team_id, method, channel), self.per_channel[method]))
        if not limits:
            return None
        with self._lock:
            now = self.clock()
            buckets = [self._bucket(key, limit, now) for key, limit in limits]
            wait = max(b.wait(now) for b in buckets)
            if wait > 0:
                return max(1, math.ceil(wait / self.time_scale - 1e-9))
            for b in buckets:
                b.take()
        return None


def scaled_sleep(time_scale: float) -> Callable[[float], None]:
    """A `sleep` that waits Slack seconds on a clock running `time_scale` times Slack's speed."""

    def sleep(seconds: float) -> None:
        time.sleep(seconds * time_scale)

    return sleep
