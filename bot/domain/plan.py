"""Session plans: the breakout questions, their timing, grouping and naming policy.

A plan is a YAML file in ``prompts/plans/``. Loading never raises on the first problem: it collects
every problem with its line and a hint, so ``breakout-bot plans check`` can show them all at once.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import SafeConstructor

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
    private_channels: bool = True  # Slack group channels are private unless the plan says otherwise
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
            "channels": {
                "archive_at_end": self.archive_channels,
                "voice": self.voice_rooms,
                "private": self.private_channels,
            },
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

#: Limits that keep a hostile or mistaken file cheap to refuse. A real plan is 1-5 KB, 4 levels deep and
#: has a few dozen values; these are far above that and far below what takes a second to read.
MAX_PLAN_BYTES = 32 * 1024
MAX_DEPTH = 16
MAX_VALUES = 2_000
#: The YAML tags a plan may use: the plain ones a value gets without writing a tag.
_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")
}


def shown(value: object, limit: int = 40) -> str:
    """A value as a problem message quotes it: its repr, cut short (a 5,000-digit number stays readable)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_problems(problems: list[Problem]) -> str:
    """The problems as ``breakout-bot plans check`` lists them: one line each, then its hint."""
    out = []
    for p in problems:
        where = f"line {p.line}" if p.line else "file"
        out.append(f"  {where}: {p.message}\n    hint: {p.hint}")
    return "\n".join(out)


class _BeyondLimits(ComposerError):
    """Well-formed YAML that no plan needs: refused while composing, with the line it got to."""

    def __init__(self, problem: str, mark: yaml.Mark, hint: str) -> None:
        super().__init__(None, None, problem, mark)
        self.hint = hint


class _PlanLoader(yaml.SafeLoader):
    """SafeLoader (no Python objects, no unknown tags) that stops composing past MAX_DEPTH or MAX_VALUES.

    PyYAML composes recursively, so ten thousand ``[`` would otherwise end in RecursionError after
    a second or more; here the 17th level is refused at once, with its line. Parsing is driven by
    composing, so the value count also caps the time spent on a long flood of tiny values.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        self._nodes += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _BeyondLimits(
                    f"values are nested more than {MAX_DEPTH} deep",
                    self.peek_event().start_mark,
                    "a plan needs only a few levels: keys, a list, keys",
                )
            if self._nodes > MAX_VALUES:
                raise _BeyondLimits(
                    f"the plan has more than {MAX_VALUES} values",
                    self.peek_event().start_mark,
                    "a plan holds a title, a few questions and settings",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _TooMuch(Exception):
    """The document expands (through aliases, or a loop of them) past what a plan can hold."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


class _Lines:
    """Turns the composed YAML into plain values, remembering the line each dotted path was written on.

    The walk is bounded: an alias that contains itself, or a "billion laughs" of aliases, is refused
    after MAX_VALUES values instead of expanding for minutes. A value PyYAML cannot build (2024-02-30
    as a date, a 5,000-digit number) is kept as the text it was written as, for the checks to explain.
    """

    def __init__(self) -> None:
        self.by_path: dict[str, int] = {}
        self.problems: list[Problem] = []
        self._values = 0
        self._open: set[int] = set()
        self._scalars: dict[int, Any] = {}
        self._tagged: set[int] = set()
        self._constructor = SafeConstructor()

    def walk(self, node: yaml.Node, path: str) -> Any:
        line = node.start_mark.line + 1
        self.by_path.setdefault(path, line)
        self._values += 1
        if self._values > MAX_VALUES:
            raise _TooMuch(line, f"the plan expands to more than {MAX_VALUES} values")
        if id(node) in self._open:
            raise _TooMuch(line, "a value contains itself (an alias inside its own anchor)")
        if node.tag not in _PLAIN_TAGS:
            self._strange_tag(node, line)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                out: dict[str, Any] = {}
                for key_node, value_node in node.value:
                    if not isinstance(key_node, yaml.ScalarNode):
                        self.problems.append(
                            Problem(
                                key_node.start_mark.line + 1,
                                "a key is a list or a mapping",
                                "keys are plain words followed by a colon, like title:",
                            )
                        )
                        continue
                    key = str(key_node.value)
                    child = f"{path}.{key}" if path else key
                    self.by_path.setdefault(child, key_node.start_mark.line + 1)
                    out[key] = self.walk(value_node, child)
                return out
            return [self.walk(item, f"{path}[{i}]") for i, item in enumerate(node.value)]
        finally:
            self._open.discard(id(node))

    def _strange_tag(self, node: yaml.Node, line: int) -> None:
        if id(node) in self._tagged:  # reached again through an alias: said once is enough
            return
        self._tagged.add(id(node))
        self.problems.append(
            Problem(line, f"the tag {shown(node.tag)} is not used in plans", "remove it and write the plain value")
        )

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if id(node) not in self._scalars:
            value: Any = node.value  # a tag we refused, or a value PyYAML cannot build: keep the text
            if node.tag in _PLAIN_TAGS:
                try:
                    value = self._constructor.construct_object(node, deep=True)
                # PyYAML on hostile text: `!!int` alone is an IndexError, `!!timestamp x` an AttributeError.
                except Exception:
                    value = node.value
            self._scalars[id(node)] = value
        return self._scalars[id(node)]

    def line(self, path: str) -> int | None:
        while path:
            if path in self.by_path:
                return self.by_path[path]
            path = path.rsplit(".", 1)[0] if "." in path else ""
        return self.by_path.get("")


def _deep_brackets(text: str) -> int | None:
    """The first line that opens more than MAX_DEPTH brackets at once, or None.

    PyYAML's scanner looks up to 1,024 characters ahead for each ``[`` or ``{`` that could start a
    key, so a line of a thousand of them costs half a second before the composer sees the depth.
    """
    for number, line in enumerate(text.splitlines(), 1):
        if line.count("[") + line.count("{") <= MAX_DEPTH:
            continue
        depth = 0
        for char in line:
            if char in "[{":
                depth += 1
                if depth > MAX_DEPTH:
                    return number
            elif char in "]}":
                depth = max(0, depth - 1)
    return None


def _yaml_problem(exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark else None
    reason = getattr(exc, "problem", None) or str(exc)
    if len(reason) > 160:  # it can quote the file (an alias name of any length)
        reason = reason[:159] + "…"
    if isinstance(exc, _BeyondLimits):
        return Problem(line, f"not a plan: {reason}", exc.hint)
    return Problem(
        line,
        f"not valid YAML: {reason}",
        "check indentation and that every 'key: value' has a space after the colon",
    )


def load_plan(text: str, *, slug: str, source: str = "<plan>") -> Plan:
    """Parse and validate a plan; raises PlanInvalid listing every problem found, and nothing else.

    Any text at all gets an answer within a fraction of a second: size, depth and alias expansion
    are bounded before PyYAML or the walk can take long.
    """
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_PLAN_BYTES:
        raise PlanInvalid(
            source,
            [
                Problem(
                    None,
                    f"the file is {size // 1024} KB; a plan is at most {MAX_PLAN_BYTES // 1024} KB",
                    "a plan holds a title, a few questions and settings: start from prompts/plans/kindness-in-education.yaml",
                )
            ],
        )
    deep = _deep_brackets(text)
    if deep is not None:
        raise PlanInvalid(
            source,
            [
                Problem(
                    deep,
                    f"not a plan: brackets are nested more than {MAX_DEPTH} deep",
                    "a plan needs only a few levels: keys, a list, keys",
                )
            ],
        )
    lines = _Lines()
    try:
        node = yaml.compose(text, Loader=_PlanLoader)
        if node is None:
            raise PlanInvalid(
                source, [Problem(None, "the file is empty", "start from prompts/plans/kindness-in-education.yaml")]
            )
        data = lines.walk(node, "")
        return parse_plan_data(data, slug=slug, source=source, lines=lines)
    except yaml.YAMLError as exc:
        raise PlanInvalid(source, [_yaml_problem(exc)]) from None
    except _TooMuch as exc:
        raise PlanInvalid(
            source,
            [Problem(exc.line, exc.message, "write the values out; a plan needs no anchors (&) or aliases (*)")],
        ) from None
    except (RecursionError, ValueError, OverflowError, TypeError) as exc:  # a case the limits above missed
        raise PlanInvalid(
            source,
            [Problem(None, f"the plan could not be read ({type(exc).__name__})", "compare it with a shipped plan")],
        ) from None


MAX_GROUPING = 1000


def _number(value: Any) -> float | None:
    """A YAML number as a float (a huge one as infinity); None for anything else, and for .nan."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return math.inf
    return None if math.isnan(number) else number


def parse_plan_data(data: Any, *, slug: str, source: str = "<plan>", lines: _Lines | None = None) -> Plan:
    lines = lines or _Lines()
    problems: list[Problem] = list(lines.problems)

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
                key,
                f"unknown key {shown(key)}",
                f"known keys are: {', '.join(sorted(known - {'slug', 'warning_minutes'}))}",
            )

    if not SLUG_RE.match(slug):
        problem(
            "",
            f"the plan name {shown(slug)} cannot be used in channel names",
            "rename the file with lowercase letters, digits and dashes, e.g. kindness-in-education.yaml",
        )

    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        problem("title", "the plan has no title", "add a line like: title: Kindness in Education")
        title = slug

    questions: list[Question] = []
    timed: list[float] = []  # the minutes that are right: warnings are checked against these only
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
                        f"question {i + 1} has an unknown key {shown(key)}",
                        "a question has only text: and minutes:",
                    )
            if not isinstance(q_text, str) or not q_text.strip():
                problem(
                    f"{path}.text",
                    f"question {i + 1} has no text",
                    "add text: with the question as participants should see it",
                )
                q_text = ""
            number = _number(minutes)
            if number is None or number <= 0:
                problem(
                    f"{path}.minutes",
                    f"question {i + 1} needs minutes as a positive number (got {shown(minutes)})",
                    "for example minutes: 10",
                )
                number = 1.0
            elif number > 240:
                problem(
                    f"{path}.minutes",
                    f"question {i + 1} lasts {shown(minutes)} minutes",
                    "a breakout question lasts at most 240 minutes",
                )
                number = 240.0
            else:
                timed.append(number)
            questions.append(Question(q_text.strip(), number))

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
                        f"unknown key groups.{shown(key)}",
                        "use size, count, keep_facilitators_out or avoid_repeats",
                    )
            if size is not None and count is not None:
                problem(
                    "groups",
                    "groups has both size and count",
                    "give one: size (people per group) or count (number of groups)",
                )
            for name, value in (("size", size), ("count", count)):
                if value is not None and (
                    isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_GROUPING
                ):
                    problem(
                        f"groups.{name}",
                        f"groups.{name} must be a whole number from 1 to {MAX_GROUPING} (got {shown(value)})",
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
            good = lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_GROUPING  # noqa: E731
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
        shortest = min(timed, default=None)
        for i, w in enumerate(warnings_raw):
            number = _number(w)
            if number is None or number <= 0:
                problem(
                    f"warnings[{i}]",
                    f"warning {shown(w)} is not a positive number of minutes",
                    "for example warnings: [2]",
                )
            elif shortest is not None and number >= shortest:
                problem(
                    f"warnings[{i}]",
                    f"a warning {shown(w)} minutes before time is up comes before the shortest question ({shortest} minutes) starts",
                    "make warnings shorter than every question",
                )
            else:
                warnings.append(number)

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
                problem("naming.default", f"unknown naming level {shown(raw_default)}", f"use one of: {LEVEL_WORDS}")
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

    archive, voice, private = False, False, True
    raw_channels = data.get("channels")
    if raw_channels is not None:
        if not isinstance(raw_channels, dict):
            problem("channels", "channels: must be a mapping", "for example 'channels:' then '  archive_at_end: true'")
        else:
            archive = bool(raw_channels.get("archive_at_end", False))
            voice = bool(raw_channels.get("voice", False))
            raw_private = raw_channels.get("private", True)
            if isinstance(raw_private, bool):
                private = raw_private
            else:
                problem(
                    "channels.private",
                    f"channels.private must be true or false (got {shown(raw_private)})",
                    "private: false makes the group channels public (Slack); leave it out to keep them private",
                )

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
                    problem(f"messages.{key}", f"unknown message {shown(key)}", f"names: {', '.join(MESSAGE_KEYS)}")
                elif not isinstance(value, str) or not value.strip():
                    problem(
                        f"messages.{key}",
                        f"message {shown(key)} is empty",
                        "give the text, or remove the key to use the default",
                    )
                else:
                    messages[key] = value

    date = data.get("date")
    if isinstance(date, dt.datetime):
        date = date.date()
    elif isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date)
        except ValueError:
            problem("date", f"date {shown(date)} is not a date", "write it as YYYY-MM-DD, e.g. date: 2024-01-18")
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
        private_channels=private,
        messages=messages,
    )
