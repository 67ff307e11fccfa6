"""The breakout's clock as data: which step happens when.

Question i opens at t_i, each warning w fires at t_i + d_i - w, and the breakout closes after the last
question. Times are scaled by ``time_scale`` (0.01 turns a 10-minute question into 6 seconds) so the
demo and the tests run the real timeline quickly. The scheduler only fires what is computed here.

A ``Step`` also names what is posted to the groups outside the clock (the welcome, an extension's
note, a broadcast) and the tidying of a channel at the end: its key is the idempotency key of those
posts, so every key is built and read here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

from bot.domain.plan import Plan


class StepKind(str, Enum):
    # On the clock: scheduled, fired, and posted to every group.
    OPEN = "open"
    WARN = "warn"
    CLOSE = "close"
    # Posted to every group, never scheduled.
    WELCOME = "welcome"
    EXTEND = "extend"
    BROADCAST = "broadcast"
    # Done once per group at the end (the channel archived or made read-only): a marker, not a post.
    CHANNEL_CLOSED = "channel-closed"


# A SQL LIKE pattern that matches the key of every OPEN step, and only those.
OPEN_KEY_LIKE = "q%:open"


@dataclass(frozen=True)
class Step:
    kind: StepKind
    question: int | None = None  # 0-based index; None for CLOSE, WELCOME, BROADCAST and CHANNEL_CLOSED
    warning_minutes: float | None = None
    round: int = 0  # bumped by each extension, so a warning after an extension is a new step
    token: str | None = None  # BROADCAST only: each broadcast is its own step, two at once are two posts

    @property
    def key(self) -> str:
        """Stable name of the step: part of job ids and of post idempotency keys."""
        if self.kind is StepKind.OPEN:
            return f"q{self.question}:open"
        if self.kind is StepKind.WARN:
            return f"q{self.question}:warn{self.warning_minutes:g}:r{self.round}"
        if self.kind is StepKind.EXTEND:
            return f"q{self.question}:extend:r{self.round}"
        if self.kind is StepKind.BROADCAST:
            return f"broadcast:{self.token}"
        return self.kind.value  # CLOSE, WELCOME, CHANNEL_CLOSED

    @property
    def job_slot(self) -> str:
        """Steps that replace each other on extension share a slot (and so a job id)."""
        if self.kind is StepKind.WARN:
            return f"q{self.question}:warn{self.warning_minutes:g}"
        return self.key

    @classmethod
    def parse(cls, key: str) -> Step:
        if key in (StepKind.CLOSE.value, StepKind.WELCOME.value, StepKind.CHANNEL_CLOSED.value):
            return cls(StepKind(key))
        head, _, rest = key.partition(":")
        if head == StepKind.BROADCAST.value and rest:
            return cls(StepKind.BROADCAST, token=rest)
        if not head.startswith("q"):
            raise ValueError(key)
        question = int(head[1:])
        if rest == "open":
            return cls(StepKind.OPEN, question)
        if rest.startswith("warn"):
            minutes, _, rnd = rest[4:].partition(":r")
            return cls(StepKind.WARN, question, float(minutes), int(rnd or 0))
        if rest.startswith("extend:r"):
            return cls(StepKind.EXTEND, question, round=int(rest[len("extend:r") :]))
        raise ValueError(key)


def seconds(minutes: float, time_scale: float) -> float:
    return minutes * 60.0 * time_scale


def plan_timeline(plan: Plan, *, time_scale: float = 1.0, minutes: float | None = None) -> list[tuple[float, Step]]:
    """Every step of an undisturbed run, as (seconds from start, step), in order."""
    out: list[tuple[float, Step]] = []
    t = 0.0
    for i, q in enumerate(plan.questions):
        d = seconds(minutes or q.minutes, time_scale)
        out.append((t, Step(StepKind.OPEN, i)))
        for w in plan.warnings:
            if seconds(w, time_scale) < d:
                out.append((t + d - seconds(w, time_scale), Step(StepKind.WARN, i, w)))
        t += d
    out.append((t, Step(StepKind.CLOSE)))
    return sorted(out, key=lambda item: item[0])


def question_steps(
    plan: Plan,
    *,
    question: int,
    opened_at: dt.datetime,
    ends_at: dt.datetime,
    round: int,
    time_scale: float,
) -> list[tuple[dt.datetime, Step]]:
    """What is still to come for the question now open: its warnings, then the next question or the close."""
    out: list[tuple[dt.datetime, Step]] = []
    for w in plan.warnings:
        at = ends_at - dt.timedelta(seconds=seconds(w, time_scale))
        if at > opened_at:
            out.append((at, Step(StepKind.WARN, question, w, round)))
    following = Step(StepKind.OPEN, question + 1) if question + 1 < len(plan.questions) else Step(StepKind.CLOSE)
    out.append((ends_at, following))
    return out
