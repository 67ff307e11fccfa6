"""Errors a person can cause. Each carries a sentence that says what to do next.

Adapters show ``str(error)`` privately to the person who typed the command; nothing was changed.
"""

from __future__ import annotations


class BreakoutError(Exception):
    """Base: a request that was refused, with a clear message and nothing changed."""


class NotFound(BreakoutError):
    pass


class IllegalMove(BreakoutError):
    """The breakout is not in a state where this can happen (extend a stopped breakout...)."""


class NotAllowed(BreakoutError):
    """The person may not do this (only facilitators steer, only organisers pull summaries)."""


class BadArguments(BreakoutError):
    """A typo or a missing value in a command; the message includes the usage."""
