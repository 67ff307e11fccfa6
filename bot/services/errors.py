"""Errors a person can cause. Each carries a sentence that says what to do next.

The sentence is platform-neutral. What is worded differently on each platform (how an option is
typed, who hands out a role) travels as a structured ``hint``; each adapter words the hint its own
way (Slack ``/summary format=html``, Discord ``/summary format:html``). ``str(error)`` gives the
sentence with a neutral wording of the hint, for the command line and the logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Role(str, Enum):
    """Who may steer a breakout or pull its write-up; each platform says how one becomes either."""

    FACILITATOR = "facilitator"
    ORGANISER = "organiser"


@dataclass(frozen=True)
class Usage:
    """Another value of a command's option would work: ``/summary format=html`` on Slack."""

    command: str  # "summary"
    option: str  # "format"
    choices: tuple[str, ...]  # ("html", "docx", "md")

    def plain(self) -> str:
        return f"These work here: {', '.join(f'{self.option} {c}' for c in self.choices)}."


@dataclass(frozen=True)
class AskForRole:
    """The person lacks a role; the platform says who grants it (Slack: a workspace admin; Discord: a role)."""

    role: Role

    def plain(self) -> str:
        return f"If you should be one, ask to be made a{'n' if self.role is Role.ORGANISER else ''} {self.role.value}."


@dataclass(frozen=True)
class PickAPlan:
    """The plan named is not there; the platform shows the plans its own way (a list, or autocomplete)."""

    def plain(self) -> str:
        return ""


Hint = Usage | AskForRole | PickAPlan


class BreakoutError(Exception):
    """Base: a request that was refused, with a clear message and nothing changed."""

    def __init__(self, message: str, *, hint: Hint | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        extra = self.hint.plain() if self.hint is not None else ""
        return f"{self.message} {extra}" if extra else self.message


class NotFound(BreakoutError):
    pass


class IllegalMove(BreakoutError):
    """The breakout is not in a state where this can happen (extend a stopped breakout...)."""


class NotAllowed(BreakoutError):
    """The person may not do this (only facilitators steer, only organisers pull summaries)."""


class BadArguments(BreakoutError):
    """A typo or a missing value in a command; the message includes the usage."""


def only(role: Role, what: str) -> NotAllowed:
    """The refusal for someone without ``role``: 'Only organisers can pull the write-up.' and a hint
    the platform words (there is no workspace admin on Discord)."""
    return NotAllowed(f"Only {role.value}s can {what}.", hint=AskForRole(role))
