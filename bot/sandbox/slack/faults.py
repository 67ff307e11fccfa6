"""Faults the sandbox can inject into its Web API: rate limits, server errors, slowness, held answers."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class Fault:
    """One injected behaviour for a method (`"*"` for every method).

    `times` counts how many calls it still hits (None: unlimited); `every` makes it hit every
    k-th call instead of every call (a rate-limit storm).
    """

    method: str
    kind: str  # "rate_limit" | "server_error" | "delay" | "hold"
    times: int | None = 1
    every: int = 1
    retry_after: int = 0
    status: int = 500
    seconds: float = 0.0
    seen: int = 0
    hits: int = 0

    def matches(self, method: str) -> bool:
        return self.method in ("*", method) and (self.times is None or self.times > 0)


class Faults:
    """What the Web API should do wrong next. Thread-safe; tests arm it, handlers consult it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 0) -> Fault:
        """Answer the next `times` calls of `method` with 429 and `Retry-After`."""
        return self._add(Fault(method, "rate_limit", times=times, retry_after=retry_after))

    def rate_limit_storm(
        self, method: str = "*", *, every: int = 2, retry_after: int = 0, times: int | None = None
    ) -> Fault:
        """Answer every `every`-th call with 429 (for `times` hits, or until cleared)."""
        return self._add(Fault(method, "rate_limit", times=times, every=every, retry_after=retry_after))

    def server_error(self, method: str, *, times: int = 1, status: int = 500) -> Fault:
        """Answer the next `times` calls of `method` with an HTTP 5xx."""
        return self._add(Fault(method, "server_error", times=times, status=status))

    def delay(self, method: str, seconds: float, *, times: int | None = None) -> Fault:
        """Make `method` slow (it still succeeds)."""
        return self._add(Fault(method, "delay", times=times, seconds=seconds))

    def hold(self, method: str, seconds: float, *, times: int | None = None) -> Fault:
        """Do `method` at once but hold its answer `seconds` (a reply in flight: the effect is there,
        the caller does not know yet)."""
        return self._add(Fault(method, "hold", times=times, seconds=seconds))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def _add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def next_for(self, method: str) -> list[Fault]:
        """The faults that hit this call (at most one failure, plus any delays)."""
        hit: list[Fault] = []
        failed = False
        with self._lock:
            for fault in self._faults:
                if not fault.matches(method):
                    continue
                if fault.kind not in ("delay", "hold") and failed:
                    continue
                fault.seen += 1
                if fault.seen % fault.every != 0:
                    continue
                fault.hits += 1
                if fault.times is not None:
                    fault.times -= 1
                hit.append(fault)
                failed = failed or fault.kind not in ("delay", "hold")
        return hit
