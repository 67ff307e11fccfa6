"""The chat commands as text: ``/breakout ...`` and ``/summary ...``, parsed once for every platform.

Slack hands us the text after the command; Discord's structured options are mapped to the same
``BreakoutCommand`` by its adapter. A typo gets the usage back, and nothing happens.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from bot.domain.consent import LEVEL_WORDS, Level
from bot.services.errors import BadArguments

BREAKOUT_USAGE = f"""Usage: /breakout <subcommand>
  start PLAN [groups=N | size=N] [minutes=N] [include-facilitators]   split this channel's people into groups
  prepare PLAN [groups=N | size=N] [include-facilitators]   make the groups' channels before the call; start posts
  status                      which question, time left, groups, quotes so far
  next                        skip ahead to the next question (ends the breakout after the last)
  extend MINUTES              more time for the current question
  broadcast TEXT              post TEXT to every group
  pause | resume              stop and restart the clock
  stop                        end the breakout now
  consent LEVEL               how you may be named: {LEVEL_WORDS}
  name YOUR NAME              the name to use for you in the write-up
  forget-me                   delete everything stored about you
  my-data                     get a file of everything stored about you
  help                        this message"""

SUMMARY_USAGE = """Usage: /summary [BREAKOUT] [by=question|group] [format=md|html|docx|pdf] [highlights]
       /summary import [BREAKOUT]     import the call's Zoom chat (share the file with the bot first)
  BREAKOUT is the breakout's number (from /breakout status); without it, the latest one here."""

ACTIONS = {
    "start",
    "prepare",
    "status",
    "next",
    "skip",
    "extend",
    "broadcast",
    "pause",
    "resume",
    "stop",
    "end",
    "consent",
    "forget-me",
    "forgetme",
    "my-data",
    "mydata",
    "my_data",
    "name",
    "help",
}
ALIASES = {
    "skip": "next",
    "end": "stop",
    "forgetme": "forget-me",
    "forget_me": "forget-me",
    "mydata": "my-data",
    "my_data": "my-data",
}


@dataclass(frozen=True)
class BreakoutCommand:
    action: str
    plan: str | None = None
    groups: int | None = None
    size: int | None = None
    minutes: float | None = None
    include_facilitators: bool = False
    text: str | None = None
    level: Level | None = None
    breakout_id: int | None = None


@dataclass(frozen=True)
class SummaryCommand:
    breakout_id: int | None = None
    by: str = "question"
    format: str = "md"
    highlights_only: bool = False
    action: str = "summary"  # summary | import


def _bad(message: str) -> BadArguments:
    return BadArguments(f"{message}\n\n{BREAKOUT_USAGE}")


def readable(text: str) -> str:
    """The text, if it can be stored and shown: no lone surrogate (half an emoji) and no NUL character.

    Slack's and Discord's JSON can carry ``\\ud800`` on its own; UTF-8 (SQLite, PostgreSQL, the
    platforms) cannot, so it is refused here with a sentence instead of failing later.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadArguments(
            "Part of that text is not a whole character (half an emoji?). Please type it again."
        ) from None
    if "\x00" in text:
        raise BadArguments("That text has a NUL character in it. Please type it again.")
    return text


def _whole(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise _bad(f"{name}={value} is not a whole number; for example {name}=4.") from None
    if number < 1:
        raise _bad(f"{name}= must be at least 1.")
    return number


def _minutes(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise _bad(f"'{value}' is not a number of minutes; for example 10.") from None
    if not 0 < number <= 240:
        raise _bad("Minutes must be more than 0 and at most 240.")
    return number


def breakout_number(word: str) -> int | None:
    """'12' or '#12' as a breakout number; anything else (including '²' or 30 digits) is not one."""
    digits = word.removeprefix("#")
    if digits.isascii() and digits.isdigit() and len(digits) <= 9:
        return int(digits)
    return None


def parse_breakout(text: str) -> BreakoutCommand:
    """The command in TEXT; anything that is not one raises BadArguments (with the usage), nothing else."""
    try:
        readable(text)
    except BadArguments as exc:
        raise _bad(str(exc)) from None
    words = text.strip().split(maxsplit=1)
    if not words:
        return BreakoutCommand("help")
    action = words[0].lower()
    rest = words[1] if len(words) > 1 else ""
    if action not in ACTIONS:
        raise _bad(f"'{words[0]}' is not a /breakout subcommand.")
    action = ALIASES.get(action, action)
    if action == "broadcast":
        return BreakoutCommand(action, text=rest.strip())
    if action == "name":
        return BreakoutCommand(action, text=rest.strip())
    try:
        args = shlex.split(rest)
    except ValueError as exc:
        raise _bad(f"Could not read the arguments ({exc}).") from None
    if action in ("start", "prepare"):
        plan, groups, size, minutes, include = None, None, None, None, False
        for arg in args:
            key, eq, value = arg.partition("=")
            key = key.lower()
            if eq:
                if key in ("groups", "count"):
                    groups = _whole("groups", value)
                elif key == "size":
                    size = _whole("size", value)
                elif key == "minutes":
                    minutes = _minutes(value)
                else:
                    raise _bad(f"Unknown option '{key}='. Options: groups=N, size=N, minutes=N.")
            elif key in ("include-facilitators", "include_facilitators", "with-facilitators"):
                include = True
            elif plan is None:
                plan = arg
            else:
                raise _bad(f"Unexpected '{arg}': give one plan name, then options like groups=3.")
        if plan is None:
            raise _bad(f"Say which plan to {action}, e.g. /breakout {action} kindness-in-education groups=3.")
        if groups is not None and size is not None:
            raise _bad("Give either groups=N or size=N, not both.")
        if action == "prepare" and minutes is not None:
            raise _bad("minutes=N goes with /breakout start, when the questions begin, not with prepare.")
        return BreakoutCommand(
            action, plan=plan, groups=groups, size=size, minutes=minutes, include_facilitators=include
        )
    if action == "extend":
        if len(args) != 1:
            raise _bad("Say how many minutes to add, e.g. /breakout extend 5.")
        return BreakoutCommand(action, minutes=_minutes(args[0].removesuffix("m").removesuffix("min")))
    if action == "consent":
        if not args:
            raise _bad(f"Say how you may be named: /breakout consent first-name. Choices: {LEVEL_WORDS}.")
        try:
            level = Level.parse(" ".join(args))
        except ValueError:
            raise _bad(f"'{' '.join(args)}' is not a naming choice. Choices: {LEVEL_WORDS}.") from None
        return BreakoutCommand(action, level=level)
    breakout_id = None
    if args and action in ("status", "next", "pause", "resume", "stop"):
        if len(args) == 1 and (number := breakout_number(args[0])) is not None:
            breakout_id = number
        else:
            raise _bad(f"/breakout {action} takes no arguments (or a breakout number).")
    elif args:
        raise _bad(f"/breakout {action} takes no arguments.")
    return BreakoutCommand(action, breakout_id=breakout_id)


def parse_summary(text: str) -> SummaryCommand:
    try:
        readable(text)
    except BadArguments as exc:
        raise BadArguments(f"{exc}\n\n{SUMMARY_USAGE}") from None
    breakout_id, by, fmt, highlights, action = None, "question", "md", False, "summary"
    for arg in text.split():
        key, eq, value = arg.partition("=")
        key, value = key.lower(), value.lower()
        if eq and key == "by":
            if value not in ("question", "group"):
                raise BadArguments(f"by={value}: use by=question or by=group.\n\n{SUMMARY_USAGE}")
            by = value
        elif eq and key == "format":
            if value not in ("md", "markdown", "html", "docx", "pdf"):
                raise BadArguments(f"format={value}: use md, html, docx or pdf.\n\n{SUMMARY_USAGE}")
            fmt = "md" if value == "markdown" else value
        elif not eq and breakout_number(key) is not None:
            breakout_id = breakout_number(key)
        elif not eq and key in ("highlights", "highlight"):
            highlights = True
        elif not eq and key == "import":
            action = "import"
        elif not eq and key in ("by-group", "group"):
            by = "group"
        else:
            raise BadArguments(f"I don't understand '{arg}'.\n\n{SUMMARY_USAGE}")
    return SummaryCommand(breakout_id, by, fmt, highlights, action)
