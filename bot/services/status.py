"""How a breakout is told to a person: its status, a time left, the groups a step could not reach.

Words only; the numbers come from the lifecycle and the state rules in ``bot.domain.breakout``.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.port import FanoutReport


@dataclass(frozen=True)
class GroupStatus:
    number: int
    channel_id: str | None
    people: int
    quotes: int
    problem: str | None


@dataclass(frozen=True)
class Status:
    breakout_id: int
    title: str
    plan_slug: str
    state: str
    question_number: int  # 1-based
    question_count: int
    question_text: str
    seconds_left: float | None  # real seconds (already scaled)
    groups: tuple[GroupStatus, ...]
    participants: int
    quotes: int

    def describe(self) -> str:
        if self.state == "stopped":
            head = f"{self.title} (breakout {self.breakout_id}) has ended."
        elif self.state == "prepared":
            ready = sum(1 for g in self.groups if g.channel_id and not g.problem)
            head = (
                f"{self.title} (breakout {self.breakout_id}) is prepared, not started: {ready} of "
                f"{len(self.groups)} group channels ready. /breakout start {self.plan_slug} here posts question 1."
            )
        else:
            left = "" if self.seconds_left is None else f", {format_duration(self.seconds_left)} left"
            paused = " (paused)" if self.state == "paused" else ""
            head = (
                f"{self.title} (breakout {self.breakout_id}){paused}: question {self.question_number} "
                f"of {self.question_count}{left}. {self.question_text}"
            )
        lines = [head, f"{self.participants} people in {len(self.groups)} groups, {self.quotes} quotes so far."]
        for g in self.groups:
            extra = f" (problem: {g.problem})" if g.problem else ""
            lines.append(f"  group {g.number}: {g.people} people, {g.quotes} quotes{extra}")
        return "\n".join(lines)


def format_duration(secs: float) -> str:
    secs = max(0, round(secs))
    minutes, rest = divmod(secs, 60)
    if minutes and rest:
        return f"{minutes} min {rest} s"
    return f"{minutes} min" if minutes else f"{rest} s"


def describe_problems(report: FanoutReport | None) -> str:
    """The groups a step could not reach and why, as a sentence to append to a reply ('' if none)."""
    if report is None or report.ok:
        return ""
    return " Problems: " + "; ".join(f"group {n}: {why}" for n, why in sorted(report.failures.items())) + "."
