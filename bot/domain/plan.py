"""Session plans: the breakout questions, their timing, grouping and naming policy.

A plan is a YAML file in ``prompts/plans/``. Loading never raises on the first problem: it collects
every problem with its line and a hint, so ``breakout-bot plans check`` can show them all at once.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from bot.domain.consent import LEVEL_WORDS, Level

MESSAGE_KEYS = (
    "welcome",
    "question",
    "warning",
    "close",
    "consent_prompt",
    "consent_confirmed",
    "broadcast",
)


@dataclass(frozen=True)
class Question:
    text: str
    minutes: float


@dataclass(frozen=True)
class NamingPolicy:
    default: Level = Level.ANONYMOUS
    chatham_house: bool = False


@dataclass(frozen=True)
class Grouping:
    size: int | None = None
    count: int | None = None
    keep_facilitators_out: bool = True
    avoid_repeats: bool = False


@dataclass(frozen=True)
class Plan:
    slug: str
    title: str
    questions: tuple[Question, ...]
    grouping: Grouping = field(default_factory=Grouping)
    warnings: tuple[float, ...] = (1.0,)
    naming: NamingPolicy = field(default_factory=NamingPolicy)
    series: str | None = None
    speaker: str | None = None
    date: dt.date | None = None
    archive_channels: bool = False
    voice_rooms: bool = False
    messages: dict[str, str] = field(default_factory=dict)

    @property
    def total_minutes(self) -> float:
        return sum(q.minutes for q in self.questions)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe snapshot, stored with a breakout so later edits to the file don't change it."""
        return {
            "slug": self.slug,
            "title": self.title,
            "questions": [{"text": q.text, "minutes": q.minutes} for q in self.questions],
            "groups": {
                "size": self.grouping.size,
                "count": self.grouping.count,
                "keep_facilitators_out": self.grouping.keep_facilitators_out,
                "avoid_repeats": self.grouping.avoid_repeats,
            },
            "warnings": list(self.warnings),
            "naming": {"default": self.naming.default.value, "chatham_house": self.naming.chatham_house},
            "series": self.series,
            "speaker": self.speaker,
            "date": self.date.isoformat() if self.date else None,
            "channels": {"archive_at_end": self.archive_channels, "voice": self.voice_rooms},
            "messages": dict(self.messages),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        return parse_plan_data(data, slug=data["slug"])


@dataclass(frozen=True)
class Problem:
    line: int | None
    message: str
    hint: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.message} ({self.hint})"


class PlanInvalid(Exception):
    """A plan file with one or more problems; never starts a breakout."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(str(p) for p in problems))


SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")


class _Lines:
    """Maps a dotted path in the YAML document to the line it was written on."""

    def __init__(self) -> None:
        self.by_path: dict[str, int] = {}

    def walk(self, node: yaml.Node, path: str) -> Any:
        self.by_path.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)
                child = f"{path}.{key}" if path else key
                self.by_path.setdefault(child, key_node.start_mark.line + 1)
                out[key] = self.walk(value_node, child)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.walk(item, f"{path}[{i}]") for i, item in enumerate(node.value)]
        return yaml.safe_load(yaml.serialize(node))

    def line(self, path: str) -> int | None:
        while path:
            if path in self.by_path:
                return self.by_path[path]
            path = path.rsplit(".", 1)[0] if "." in path else ""
        return self.by_path.get("")


def load_plan(text: str, *, slug: str, source: str = "<plan>") -> Plan:
    """Parse and validate a plan; raises PlanInvalid listing every problem found."""
    lines = _Lines()
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise PlanInvalid(
            source,
            [
                Problem(
                    line,
                    f"not valid YAML: {reason}",
                    "check indentation and that every 'key: value' has a space after the colon",
                )
            ],
        ) from None
    if node is None:
        raise PlanInvalid(
            source, [Problem(None, "the file is empty", "start from prompts/plans/kindness-in-education.yaml")]
        )
    data = lines.walk(node, "")
    return parse_plan_data(data, slug=slug, source=source, lines=lines)


def parse_plan_data(data: Any, *, slug: str, source: str = "<plan>", lines: _Lines | None = None) -> Plan:
    lines = lines or _Lines()
    problems: list[Problem] = []

    def problem(path: str, message: str, hint: str) -> None:
        problems.append(Problem(lines.line(path), message, hint))

    if not isinstance(data, dict):
        raise PlanInvalid(
            source,
            [
                Problem(
                    lines.line(""),
                    "a plan must be a mapping of keys (title:, questions:, ...)",
                    "start from prompts/plans/kindness-in-education.yaml",
                )
            ],
        )

    known = {
        "title",
        "series",
        "speaker",
        "date",
        "questions",
        "groups",
        "warnings",
        "warning_minutes",
        "naming",
        "channels",
        "messages",
        "slug",
    }
    for key in data:
        if key not in known:
            problem(
                key, f"unknown key '{key}'", f"known keys are: {', '.join(sorted(known - {'slug', 'warning_minutes'}))}"
            )

    if not SLUG_RE.match(slug):
        problem(
            "",
            f"the plan name '{slug}' cannot be used in channel names",
            "rename the file with lowercase letters, digits and dashes, e.g. kindness-in-education.yaml",
        )

    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        problem("title", "the plan has no title", "add a line like: title: Kindness in Education")
        title = slug

    questions: list[Question] = []
    raw_questions = data.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        problem(
            "questions", "the plan has no questions", "add a list under questions:, each item with text: and minutes:"
        )
    else:
        for i, item in enumerate(raw_questions):
            path = f"questions[{i}]"
            if isinstance(item, str):
                problem(path, f"question {i + 1} has no minutes", "write it as '- text: ...' with 'minutes: 10' below")
                continue
            if not isinstance(item, dict):
                problem(path, f"question {i + 1} is not a mapping", "each question needs text: and minutes:")
                continue
            q_text = item.get("text")
            minutes = item.get("minutes")
            for key in item:
                if key not in ("text", "minutes"):
                    problem(
                        f"{path}.{key}",
                        f"question {i + 1} has an unknown key '{key}'",
                        "a question has only text: and minutes:",
                    )
            if not isinstance(q_text, str) or not q_text.strip():
                problem(
                    f"{path}.text",
                    f"question {i + 1} has no text",
                    "add text: with the question as participants should see it",
                )
                q_text = ""
            if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or minutes <= 0:
                problem(
                    f"{path}.minutes",
                    f"question {i + 1} needs minutes as a positive number (got {minutes!r})",
                    "for example minutes: 10",
                )
                minutes = 1
            elif minutes > 240:
                problem(
                    f"{path}.minutes",
                    f"question {i + 1} lasts {minutes} minutes",
                    "a breakout question lasts at most 240 minutes",
                )
            questions.append(Question(q_text.strip(), float(minutes)))

    grouping = Grouping(size=4)
    raw_groups = data.get("groups")
    if raw_groups is not None:
        if not isinstance(raw_groups, dict):
            problem("groups", "groups: must be a mapping", "for example 'groups:' then '  size: 5' (or '  count: 3')")
        else:
            size, count = raw_groups.get("size"), raw_groups.get("count")
            for key in raw_groups:
                if key not in ("size", "count", "keep_facilitators_out", "avoid_repeats"):
                    problem(
                        f"groups.{key}",
                        f"unknown key groups.{key}",
                        "use size, count, keep_facilitators_out or avoid_repeats",
                    )
            if size is not None and count is not None:
                problem(
                    "groups",
                    "groups has both size and count",
                    "give one: size (people per group) or count (number of groups)",
                )
            for name, value in (("size", size), ("count", count)):
                if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                    problem(
                        f"groups.{name}",
                        f"groups.{name} must be a whole number of at least 1 (got {value!r})",
                        f"for example {name}: 4",
                    )
            if isinstance(size, int) and size == 1:
                problem("groups.size", "groups of one person are not a discussion", "use size: 2 or more")
            flags = {}
            for flag, fallback in (("keep_facilitators_out", True), ("avoid_repeats", False)):
                value = raw_groups.get(flag, fallback)
                if not isinstance(value, bool):
                    problem(
                        f"groups.{flag}", f"groups.{flag} must be true or false", f"{flag}: {str(fallback).lower()}"
                    )
                    value = fallback
                flags[flag] = value
            good = lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1  # noqa: E731
            grouping = Grouping(
                size=size if good(size) else (None if good(count) else 4),
                count=count if good(count) and not good(size) else None,
                **flags,
            )

    warnings_raw = data.get("warnings", data.get("warning_minutes", [1]))
    if isinstance(warnings_raw, (int, float)) and not isinstance(warnings_raw, bool):
        warnings_raw = [warnings_raw]
    warnings: list[float] = []
    if not isinstance(warnings_raw, list):
        problem("warnings", "warnings must be a list of minutes before time is up", "for example warnings: [2]")
    else:
        shortest = min((q.minutes for q in questions), default=None)
        for i, w in enumerate(warnings_raw):
            if isinstance(w, bool) or not isinstance(w, (int, float)) or w <= 0:
                problem(
                    f"warnings[{i}]", f"warning {w!r} is not a positive number of minutes", "for example warnings: [2]"
                )
            elif shortest is not None and w >= shortest:
                problem(
                    f"warnings[{i}]",
                    f"a warning {w} minutes before time is up comes before the shortest question ({shortest} minutes) starts",
                    "make warnings shorter than every question",
                )
            else:
                warnings.append(float(w))

    naming = NamingPolicy()
    raw_naming = data.get("naming")
    if raw_naming is not None:
        if not isinstance(raw_naming, dict):
            problem("naming", "naming: must be a mapping", "for example 'naming:' then '  default: anonymous'")
        else:
            default = Level.ANONYMOUS
            raw_default = raw_naming.get("default", "anonymous")
            try:
                default = Level.parse(str(raw_default))
            except ValueError:
                problem("naming.default", f"unknown naming level '{raw_default}'", f"use one of: {LEVEL_WORDS}")
            if default.names_the_person:
                problem(
                    "naming.default",
                    f"the default naming '{default.value}' would name people who never agreed",
                    "the default for people who have not chosen must be anonymous or not-quoted",
                )
                default = Level.ANONYMOUS
            chatham = raw_naming.get("chatham_house", False)
            if not isinstance(chatham, bool):
                problem("naming.chatham_house", "naming.chatham_house must be true or false", "chatham_house: false")
                chatham = False
            naming = NamingPolicy(default=default, chatham_house=chatham)

    archive, voice = False, False
    raw_channels = data.get("channels")
    if raw_channels is not None:
        if not isinstance(raw_channels, dict):
            problem("channels", "channels: must be a mapping", "for example 'channels:' then '  archive_at_end: true'")
        else:
            archive = bool(raw_channels.get("archive_at_end", False))
            voice = bool(raw_channels.get("voice", False))

    messages: dict[str, str] = {}
    raw_messages = data.get("messages")
    if raw_messages is not None:
        if not isinstance(raw_messages, dict):
            problem(
                "messages", "messages: must be a mapping of message name to text", f"names: {', '.join(MESSAGE_KEYS)}"
            )
        else:
            for key, value in raw_messages.items():
                if key not in MESSAGE_KEYS:
                    problem(f"messages.{key}", f"unknown message '{key}'", f"names: {', '.join(MESSAGE_KEYS)}")
                elif not isinstance(value, str) or not value.strip():
                    problem(
                        f"messages.{key}",
                        f"message '{key}' is empty",
                        "give the text, or remove the key to use the default",
                    )
                else:
                    messages[key] = value

    date = data.get("date")
    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date)
        except ValueError:
            problem("date", f"date '{date}' is not a date", "write it as YYYY-MM-DD, e.g. date: 2024-01-18")
            date = None
    elif date is not None and not isinstance(date, dt.date):
        problem("date", "date is not a date", "write it as YYYY-MM-DD")
        date = None

    for key in ("series", "speaker"):
        if data.get(key) is not None and not isinstance(data.get(key), str):
            problem(key, f"{key} must be text", f"for example {key}: ...")

    if problems:
        raise PlanInvalid(source, problems)
    return Plan(
        slug=slug,
        title=title.strip(),
        questions=tuple(questions),
        grouping=grouping,
        warnings=tuple(sorted(set(warnings), reverse=True)),
        naming=naming,
        series=data.get("series"),
        speaker=data.get("speaker"),
        date=date,
        archive_channels=archive,
        voice_rooms=voice,
        messages=messages,
    )
