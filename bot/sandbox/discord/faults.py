"""Rate limits and injected faults: the 429s and 5xx answers a test asks for, and honest buckets."""

from __future__ import annotations

import time
from typing import Any

from .rest import Fault
from .state import ServerState


class Faults(ServerState):
    """Faults a test injects into the REST API, and the rate-limit buckets of ``rate_limits=``."""

    def inject_429(
        self, method: str = "*", route: str = "*", *, times: int = 1, retry_after: float = 0.05, is_global: bool = False
    ) -> Fault:
        """Answer the next ``times`` calls to ``route`` (e.g. ``"/channels/{channel_id}/messages"``,
        ``"*"`` for any) with 429. Discord.py should wait ``retry_after`` and retry."""
        fault = Fault(method.upper(), route, times, retry_after, is_global)
        with self.lock:
            self._faults.append(fault)
        return fault

    def inject_server_error(
        self, method: str = "*", route: str = "*", *, times: int = 1, status: int = 500, after_commit: bool = False
    ) -> Fault:
        """Answer the next ``times`` calls with ``status``. With ``after_commit`` the call takes effect
        first (the reply is what got lost): discord.py retries, and only an idempotent request
        (a message ``nonce`` with ``enforce_nonce``) avoids a duplicate."""
        fault = Fault(method.upper(), route, times, 0.0, status=status, after_commit=after_commit)
        with self.lock:
            self._faults.append(fault)
        return fault

    def _bucket_take(self, method: str, route: str, info: Any) -> tuple[bool, float, int, int] | None:
        """(allowed, reset_after, limit, remaining) for a rate-limited route, None for the others."""
        rule = self.rate_limits.get(f"{method} {route}")
        if rule is None:
            return None
        limit, per = rule
        major = next((info.get(k) for k in ("channel_id", "guild_id", "application_id") if info.get(k)), "")
        now = time.monotonic()
        with self.lock:
            window = self._buckets.setdefault((f"{method} {route}", str(major)), [now, 0])
            if now - window[0] >= per:
                window[0], window[1] = now, 0
            reset_after = max(0.0, per - (now - window[0]))
            if window[1] >= limit:
                return (False, reset_after, limit, 0)
            window[1] += 1
            return (True, reset_after, limit, int(limit - window[1]))

    def _take_fault(self, method: str, route: str) -> Fault | None:
        with self.lock:
            for fault in self._faults:
                if fault.hits < fault.times and fault.matches(method, route):
                    fault.hits += 1
                    return fault
        return None
