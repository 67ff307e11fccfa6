"""What each move does to a running breakout: skip ahead, extend, pause, resume, stop, and a step falling due.

Pure rules on a small value, so they read in one place and are tested without a database or a clock.
The lifecycle service loads the stored state, asks here for the next one and writes it back in one
short transaction; optimistic locking on the row decides a race between a step and a command.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from enum import Enum

from bot.domain.plan import Plan
from bot.domain.timeline import Step, StepKind, seconds

# A step that fires this much before its question's end is early (an extension moved the end).
EARLY_TOLERANCE = dt.timedelta(milliseconds=200)
# Slack channel names: lowercase, at most 80 characters, no spaces or periods; room for "-NN".
CHANNEL_NAME_STEM = 70


class Phase(str, Enum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


def channel_name(plan_slug: str, number: int, *, breakout_id: int | None = None) -> str:
    """The name a group's channel is made (or found) under: the same plan reuses the same channels.

    With ``breakout_id`` the name is the breakout's own (``breakout-<id>-<plan>-<n>``), for when
    another running breakout holds the plain name: two running breakouts never share a channel.
    Lowercase, at most 80 characters, as Slack and Discord both accept.
    """
    if breakout_id is None:
        return f"breakout-{plan_slug}"[:CHANNEL_NAME_STEM] + f"-{number}"
    return f"breakout-{breakout_id}-{plan_slug}".lower()[:CHANNEL_NAME_STEM].rstrip("-") + f"-{number}"


def question_seconds(plan: Plan, index: int, *, minutes_override: float | None, time_scale: float) -> float:
    """How long question ``index`` runs, in real (scaled) seconds: ``minutes=`` at start beats the plan."""
    return seconds(minutes_override or plan.questions[index].minutes, time_scale)


@dataclass(frozen=True)
class BreakoutState:
    """The part of a breakout that moves: which question is open, until when, and whether it is paused."""

    phase: Phase
    question: int  # 0-based index of the open question
    question_count: int
    round: int  # extensions of the open question, so a warning after an extension is a new step
    opened_at: dt.datetime | None
    ends_at: dt.datetime | None  # None while paused or stopped
    paused_left: float | None  # seconds left on the question while paused

    @property
    def on_last_question(self) -> bool:
        return self.question >= self.question_count - 1

    def seconds_left(self, now: dt.datetime) -> float | None:
        """Real seconds left on the open question; None once it has ended (or has no end)."""
        if self.phase is Phase.PAUSED:
            return self.paused_left
        if self.phase is Phase.RUNNING and self.ends_at is not None:
            return max(0.0, (self.ends_at - now).total_seconds())
        return None

    def advanced(self, now: dt.datetime, duration: float) -> BreakoutState:
        """The next question opens now and runs ``duration`` seconds; a paused breakout stays paused
        with the whole of it left."""
        opened = dataclasses.replace(self, question=self.question + 1, opened_at=now, round=0)
        if self.phase is Phase.PAUSED:
            return dataclasses.replace(opened, paused_left=duration, ends_at=None)
        return dataclasses.replace(opened, ends_at=now + dt.timedelta(seconds=duration))

    def extended(self, extra: float) -> BreakoutState:
        """``extra`` seconds more on the open question: a new round, so its warnings are new steps."""
        if self.phase is Phase.PAUSED:
            return dataclasses.replace(self, round=self.round + 1, paused_left=(self.paused_left or 0.0) + extra)
        assert self.ends_at is not None, "a running question has an end"
        return dataclasses.replace(self, round=self.round + 1, ends_at=self.ends_at + dt.timedelta(seconds=extra))

    @property
    def can_pause(self) -> bool:
        return self.phase is Phase.RUNNING and self.ends_at is not None

    def paused(self, now: dt.datetime) -> BreakoutState:
        """The clock stops; what was left on the question is kept (never less than nothing)."""
        assert self.ends_at is not None, "only a running question with an end can be paused"
        left = max(0.0, (self.ends_at - now).total_seconds())
        return dataclasses.replace(self, phase=Phase.PAUSED, paused_left=left, ends_at=None)

    def resumed(self, now: dt.datetime) -> BreakoutState:
        """The clock runs again with what was left when it paused."""
        left = self.paused_left or 0.0
        return dataclasses.replace(
            self,
            phase=Phase.RUNNING,
            ends_at=now + dt.timedelta(seconds=left),
            opened_at=min(self.opened_at or now, now),
            paused_left=None,
        )

    def stopped(self) -> BreakoutState:
        return dataclasses.replace(self, phase=Phase.STOPPED, ends_at=None, paused_left=None)


class Due(Enum):
    """What a step that the clock fires should do, judged against the stored state."""

    NOTHING = "nothing"  # stale: the breakout moved on, ended, or the step is not the clock's
    WARN = "warn"  # post the warning
    RESCHEDULE = "reschedule"  # early: an extension moved the end, so put the steps back on the clock
    OPEN_NEXT = "open-next"  # move to the next question
    REPOST_OPEN = "repost-open"  # the question is already open; post it where it is missing
    CLOSE = "close"  # end the breakout


def what_is_due(state: BreakoutState, step: Step, now: dt.datetime) -> Due:
    """Decide what a fired step does. Every check is against the state, so a stale job does nothing."""
    if state.phase is not Phase.RUNNING:
        return Due.NOTHING
    if step.kind is StepKind.WARN:
        # A warning that fell due while the bot was down is stale once its question's time is up.
        in_time = state.ends_at is not None and now < state.ends_at
        return Due.WARN if step.question == state.question and step.round == state.round and in_time else Due.NOTHING
    leads_on = step.kind is StepKind.CLOSE or (step.kind is StepKind.OPEN and step.question == state.question + 1)
    if leads_on and state.ends_at is not None and now < state.ends_at - EARLY_TOLERANCE:
        return Due.RESCHEDULE  # already on its way when an extension moved the end
    if step.kind is StepKind.OPEN:
        if step.question == state.question + 1:
            return Due.OPEN_NEXT
        if step.question == state.question:  # advanced, but the crash came before every group had it
            return Due.REPOST_OPEN
        return Due.NOTHING
    if step.kind is StepKind.CLOSE and state.on_last_question:
        return Due.CLOSE
    return Due.NOTHING
