"""Reading a Zoom chat export: the call's own chat, which the bot never saw.

Zoom has written its saved chat in several shapes over the years, and translates the labels:

- old one-line:          ``18:02:11\t From  Ann Lee : hello``
- one-line + recipient:  ``18:02:11 From Ann Lee to Everyone : hello``
                         ``18:02:11 From Ann Lee to Bo Chan(Direct Message) : psst``  (``(Privately)`` too)
- two-line (current):    ``18:02:11 From Ann Lee to Everyone:`` then ``\thello`` (more tab lines follow
                         for a multi-line message; ``Reacted to "…" with 👍``, ``Removed a 👍 reaction
                         from "…"`` and ``Replying to "…"`` bodies carry reactions and threads)
- cloud recording:       ``00:12:04\tAnn Lee:\thello``  (times are offsets into the recording)

and the same with translated labels (``Von Ann Lee an Alle:``, ``De … à Tout le monde``, ``De … a Todos``,
``Van … aan Iedereen``, ``Da … a Tutti``, ``De … para Todos``).

Direct messages are dropped here, at the first step, so nothing later can leak them. Reactions are
counted against the message they point at and are never messages themselves. Pure code: no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field, replace

from bot.domain.naming import clean_name

DEFAULT_MAX_BYTES = 5 * 1024 * 1024  # a two-hour call with a busy chat is well under 1 MB


class ZoomChatError(ValueError):
    """A chat file we refuse, with the problem in words a person can act on and the line it is on."""

    def __init__(self, problem: str, line: int | None = None):
        self.problem = problem
        self.line = line
        super().__init__(f"line {line}: {problem}" if line else problem)


@dataclass(frozen=True)
class ChatMessage:
    sent_at: dt.time
    author: str  # the display name exactly as Zoom wrote it, pronouns and all
    text: str  # multi-line messages joined with "\n"
    reply_to: str | None = None  # the quoted start of the message this one answers, as Zoom cut it
    line: int = 0  # 1-based line of the header in the file
    reply_to_line: int | None = None  # line of the message answered, when it could be found
    reactions: int = 0  # reactions still standing on this message at the end of the call

    @property
    def name(self) -> str:
        """The author without bracketed pronouns or affiliations: 'Ann Lee (she/her)' -> 'Ann Lee'."""
        return clean_name(self.author) or self.author.strip()


@dataclass(frozen=True)
class ZoomChat:
    messages: tuple[ChatMessage, ...]
    format: str  # "one-line", "one-line-recipient", "two-line", "cloud-recording"
    language: str  # "en", "de", "fr", "es", "pt", "nl", "it"
    direct_messages_dropped: int = 0
    reactions: int = 0  # reaction lines read (added), not messages
    reactions_removed: int = 0
    replies: int = 0
    lines: int = 0

    @property
    def authors(self) -> tuple[str, ...]:
        """Distinct cleaned author names, in order of first message."""
        seen: dict[str, str] = {}
        for m in self.messages:
            seen.setdefault(m.name.casefold(), m.name)
        return tuple(seen.values())


# --- the labels, per language -------------------------------------------------------------------------


@dataclass(frozen=True)
class Labels:
    language: str
    from_word: str
    to_words: tuple[str, ...]
    everyone: tuple[str, ...]


LANGUAGES: tuple[Labels, ...] = (
    Labels("en", "From", ("to",), ("Everyone",)),
    Labels("de", "Von", ("an",), ("Alle", "Jeden", "Alle Teilnehmer")),
    Labels("fr/es/pt", "De", ("à", "a", "para"), ("Tout le monde", "Tous", "Todos")),  # told apart below
    Labels("nl", "Van", ("aan",), ("Iedereen", "Allen")),
    Labels("it", "Da", ("a",), ("Tutti",)),
)

DIRECT_MARKERS = (
    "direct message",
    "privately",
    "private",
    "in private",
    "direktnachricht",
    "privat",
    "privatnachricht",
    "direkte nachricht",
    "message direct",
    "en privé",
    "privé",
    "message privé",
    "mensaje directo",
    "en privado",
    "privado",
    "mensaje privado",
    "direct bericht",
    "privébericht",
    "privé bericht",
    "messaggio diretto",
    "in privato",
    "privato",
    "mensagem direta",
    "em privado",
    "mensagem privada",
)
DIRECT = re.compile(r"\(\s*(?:" + "|".join(re.escape(m) for m in DIRECT_MARKERS) + r")\s*\)\s*$", re.IGNORECASE)

TIME = r"(?P<time>\d{1,2}:\d{2}:\d{2}(?:\s?[AaPp]\.?[Mm]\.?)?)"
FROM_WORDS = "|".join(sorted({lang.from_word for lang in LANGUAGES}, key=len, reverse=True))
ZOOM_HEADER = re.compile(rf"^{TIME}[ \t]+(?P<from>{FROM_WORDS})[ \t]+(?P<rest>.*)$")
CLOUD_HEADER = re.compile(rf"^{TIME}\t(?P<name>[^\t\s][^\t]*?)\s*:\t(?P<text>.*)$")

OPEN_Q = "\"“„«'‘"
CLOSE_Q = "\"”“»'’"
_SNIP = rf"[{OPEN_Q}](?P<snippet>.*?)[{CLOSE_Q}]"
REACTION = (
    re.compile(rf"^Reacted to {_SNIP} with (?P<emoji>.+?)\s*$", re.IGNORECASE),
    re.compile(rf"^Hat auf {_SNIP} mit (?P<emoji>.+?) reagiert\s*$", re.IGNORECASE),
    re.compile(rf"^Reagierte auf {_SNIP} mit (?P<emoji>.+?)\s*$", re.IGNORECASE),
    re.compile(rf"^A réagi à {_SNIP} avec (?P<emoji>.+?)\s*$", re.IGNORECASE),
    re.compile(rf"^Reaccionó a {_SNIP} con (?P<emoji>.+?)\s*$", re.IGNORECASE),
    re.compile(rf"^Heeft gereageerd op {_SNIP} met (?P<emoji>.+?)\s*$", re.IGNORECASE),
    re.compile(rf"^Reagito a {_SNIP} con (?P<emoji>.+?)\s*$", re.IGNORECASE),
)
REMOVED = (
    re.compile(rf"^Removed an? (?P<emoji>.+?) reaction from {_SNIP}\s*$", re.IGNORECASE),
    re.compile(rf"^Hat die Reaktion (?P<emoji>.+?) von {_SNIP} entfernt\s*$", re.IGNORECASE),
    re.compile(rf"^Réaction (?P<emoji>.+?) supprimée de {_SNIP}\s*$", re.IGNORECASE),
)
REPLY = re.compile(
    rf"^(?:Replying to|Antwort auf|Als Antwort auf|En réponse à|Réponse à|Respondiendo a|En respuesta a"
    rf"|Antwoord op|Reactie op|In risposta a|Respondendo a)\s+[{OPEN_Q}](?P<quoted>.*)$",
    re.IGNORECASE,
)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- reading ----------------------------------------------------------------------------------------


def decode_chat(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Bytes to text, refusing what is not a text file. Zoom writes UTF-8; Windows tools re-save as UTF-16."""
    if isinstance(data, str):
        if len(data.encode("utf-8", "surrogatepass")) > max_bytes:
            raise ZoomChatError(f"the file is larger than the {size_text(max_bytes)} limit for a chat export")
        text = data
    else:
        if len(data) > max_bytes:
            raise ZoomChatError(
                f"the file is {size_text(len(data))}, larger than the {size_text(max_bytes)} limit for a chat export"
            )
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            try:
                text = data.decode("utf-16")
            except UnicodeDecodeError as exc:
                raise ZoomChatError("the file says it is UTF-16 text but is not", _line_at(data, exc.start)) from None
        else:
            if b"\x00" in data:
                raise ZoomChatError(
                    "the file looks binary (it holds NUL bytes), not a Zoom chat text export",
                    _line_at(data, data.index(b"\x00")),
                )
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ZoomChatError(
                    "the file is not UTF-8 text (save it again as UTF-8, or export the chat again from Zoom)",
                    _line_at(data, exc.start),
                ) from None
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise ZoomChatError(
            "the file looks binary (it holds NUL characters)", text[: text.index("\x00")].count("\n") + 1
        )
    if not text.strip():
        raise ZoomChatError("the file is empty")
    return text


def _line_at(data: bytes, offset: int) -> int:
    return data[:offset].count(b"\n") + 1


def size_text(n: int) -> str:
    """A file size as a person reads it ("1 KB", "5.0 MB"); the one place sizes are worded."""
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


@dataclass
class _Draft:
    sent_at: dt.time
    author: str
    line: int
    body: list[str] = field(default_factory=list)
    inline: bool = False  # the text began on the header line (one-line and cloud formats)


def parse_zoom_chat(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ZoomChat:
    """Every public message of a Zoom chat export, in order; raises ZoomChatError naming problem and line."""
    text = decode_chat(data, max_bytes=max_bytes)
    lines = text.splitlines()
    first = next(i for i, ln in enumerate(lines) if ln.strip())
    kind, labels = _detect(lines[first], first + 1)

    uses_recipients = False
    to_everyone = False
    if kind == "zoom":
        header = _zoom_header(labels)
        for ln in lines:
            if (m := header.match(ln)) and _split_header(m.group("rest")) is not None:
                head = _split_header(m.group("rest"))[0]  # type: ignore[index]
                if _everyone(head, labels) is not None:
                    uses_recipients = to_everyone = True
                    break
                if DIRECT.search(head):
                    uses_recipients = True

    drafts: list[_Draft] = []
    dropped = 0
    current: _Draft | None = None
    skipping = False  # inside a direct message's body
    two_line = False
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r")
        if kind == "cloud":
            m = CLOUD_HEADER.match(line)
            if m:
                current = _Draft(
                    _time(m.group("time"), number), m.group("name").strip(), number, [m.group("text")], inline=True
                )
                drafts.append(current)
                continue
        else:
            m = header.match(line)
            split = _split_header(m.group("rest")) if m else None
            if m and split is not None:
                head, after = split
                name, public = _recipient(head, labels, uses_recipients=uses_recipients)
                sent_at = _time(m.group("time"), number)
                if not public:
                    dropped += 1
                    current, skipping = None, True
                    continue
                skipping = False
                if not after.strip():
                    two_line = True
                current = _Draft(sent_at, name, number, [after] if after.strip() else [], inline=bool(after.strip()))
                drafts.append(current)
                continue
        if skipping:
            continue
        if current is None:
            if line.strip():
                raise ZoomChatError(f"this does not look like a line of a Zoom chat export: {_show(line)}", number)
            continue
        current.body.append(_unindent(line))

    messages: list[ChatMessage] = []
    reactions: list[tuple[int, str, str, bool]] = []  # (line, author, emoji, removed) with target snippet below
    targets: list[str] = []
    replies = 0
    unsure: list[tuple[int, list[tuple[str, str]], list[str]]] = []  # (message index, splits, later lines)
    for d in drafts:
        body = _trim_blank(d.body)
        if not body:
            continue
        first_line = body[0].strip()
        reaction = _match_any(REACTION, first_line) if len(body) == 1 else None
        removed = _match_any(REMOVED, first_line) if len(body) == 1 and reaction is None else None
        if reaction or removed:
            r = reaction or removed
            reactions.append((d.line, clean_name(d.author), r.group("emoji").strip(), removed is not None))  # type: ignore[union-attr]
            targets.append(r.group("snippet"))  # type: ignore[union-attr]
            continue
        reply_to = None
        if (m := REPLY.match(first_line)) and (splits := _reply_splits(m.group("quoted"))):
            if not d.inline and not splits[-1][1]:
                # Two-line format: the line is the reply header alone, up to the quote that ends it.
                # The quoted words may hold quote marks of their own; none of them is the replier's.
                splits = splits[-1:]
            reply_to, rest = _likely_split(splits)
            later = body[1:]
            body = _trim_blank(([rest] if rest else []) + later)
            replies += 1
            if len(splits) > 1:
                unsure.append((len(messages), splits, later))
            elif not body:
                continue
        message_text = _message_text(body)
        if not message_text and not (unsure and unsure[-1][0] == len(messages)):
            continue
        messages.append(ChatMessage(d.sent_at, d.author.strip(), message_text, reply_to, d.line))

    messages = _choose_reply_splits(messages, unsure)
    messages = _resolve(messages, reactions, targets)
    fmt = (
        "cloud-recording"
        if kind == "cloud"
        else ("two-line" if two_line else ("one-line-recipient" if to_everyone else "one-line"))
    )
    return ZoomChat(
        messages=tuple(messages),
        format=fmt,
        language=_language(labels, lines, header) if labels else "en",
        direct_messages_dropped=dropped,
        reactions=sum(1 for r in reactions if not r[3]),
        reactions_removed=sum(1 for r in reactions if r[3]),
        replies=replies,
        lines=len(lines),
    )


def _message_text(body: list[str]) -> str:
    return CONTROL.sub("", "\n".join(s.rstrip() for s in body)).strip()


def _reply_splits(quoted: str) -> list[tuple[str, str]]:
    """Every way to read 'snippet" text' after a reply's opening quote: at each closing quote followed by
    a space, a colon or the end of the line, shortest snippet first."""
    out = []
    for i, ch in enumerate(quoted):
        if ch in CLOSE_Q and (i + 1 == len(quoted) or quoted[i + 1].isspace() or quoted[i + 1] == ":"):
            rest = quoted[i + 1 :].lstrip()
            out.append((quoted[:i], rest[1:].lstrip() if rest.startswith(":") else rest))
    return out


def _likely_split(splits: list[tuple[str, str]]) -> tuple[str, str]:
    """Before the quoted message is known: the first snippet Zoom visibly cut ('…'), else the shortest."""
    return next((sp for sp in splits if sp[0].rstrip().endswith(("...", "…"))), splits[0])


def _choose_reply_splits(
    messages: list[ChatMessage], unsure: list[tuple[int, list[tuple[str, str]], list[str]]]
) -> list[ChatMessage]:
    """A reply written on one line with quote marks in it ('Replying to "she said 'be kind' and…" me too')
    is split where the snippet is the start of an earlier message, the longest such, so the quoted
    person's words never stay in the replier's text. Replies with nothing of their own left are dropped."""
    if not unsure:
        return messages
    out: list[ChatMessage | None] = list(messages)
    targets_of = _Targets(messages)
    for index, splits, later in unsure:
        m = messages[index]
        found = [sp for sp in splits if targets_of.find(sp[0], m.line) is not None]
        if found:
            snippet, rest = max(found, key=lambda sp: len(sp[0]))
            text = _message_text(_trim_blank(([rest] if rest else []) + later))
            m = replace(m, text=text, reply_to=snippet)
        out[index] = m if m.text else None
    return [m for m in out if m is not None]


def _language(labels: Labels, lines: list[str], header: re.Pattern[str]) -> str:
    """'De … à Tout le monde' is French, 'De … a Todos' Spanish, 'De … para Todos' Portuguese."""
    if labels.language != "fr/es/pt":
        return labels.language
    for ln in lines:
        if (m := header.match(ln)) and (split := _split_header(m.group("rest"))):
            head = split[0]
            if re.search(r"\s(?:à)\s+(?:Tout le monde|Tous)$", head, re.IGNORECASE):
                return "fr"
            if re.search(r"\s(?:para)\s+Todos$", head, re.IGNORECASE):
                return "pt"
            if re.search(r"\s(?:a)\s+Todos$", head, re.IGNORECASE):
                return "es"
    return labels.language


def _detect(line: str, number: int) -> tuple[str, Labels | None]:
    cloud = CLOUD_HEADER.match(line)
    zoom = ZOOM_HEADER.match(line)
    if zoom and _split_header(zoom.group("rest")) is not None and not (cloud and cloud.group("text").strip()):
        word = zoom.group("from")
        return "zoom", next(lang for lang in LANGUAGES if lang.from_word == word)
    if cloud:
        return "cloud", None
    raise ZoomChatError(
        "this does not look like a Zoom chat export (expected a line such as "
        f"'18:02:11 From Ann Lee to Everyone:' or '00:12:04<TAB>Ann Lee:<TAB>hello'), found {_show(line)}",
        number,
    )


_header_cache: dict[str, re.Pattern[str]] = {}


def _zoom_header(labels: Labels | None) -> re.Pattern[str]:
    word = labels.from_word if labels else "From"
    if word not in _header_cache:
        _header_cache[word] = re.compile(rf"^{TIME}[ \t]+(?P<from>{re.escape(word)})[ \t]+(?P<rest>.*)$")
    return _header_cache[word]


def _split_header(rest: str) -> tuple[str, str] | None:
    """'Ann Lee to Everyone: hi' -> ('Ann Lee to Everyone', 'hi'); None if there is no colon at all."""
    if ":" not in rest:
        return None
    head, _, after = rest.partition(":")
    if not head.strip():
        return None
    return " ".join(head.split()), after.strip(" \t")


def _everyone(head: str, labels: Labels | None) -> str | None:
    labels = labels or LANGUAGES[0]
    to = "|".join(re.escape(w) for w in labels.to_words)
    everyone = "|".join(re.escape(w) for w in labels.everyone)
    m = re.match(rf"^(?P<name>.+?)\s+(?:{to})\s+(?:{everyone})$", head, re.IGNORECASE)
    return m.group("name") if m else None


def _recipient(head: str, labels: Labels | None, *, uses_recipients: bool) -> tuple[str, bool]:
    """The sender's name, and whether the message went to everyone."""
    if DIRECT.search(head):
        return head, False
    if (name := _everyone(head, labels)) is not None:
        return name, True
    if uses_recipients:
        to = "|".join(re.escape(w) for w in (labels or LANGUAGES[0]).to_words)
        if re.search(rf"\s(?:{to})\s", head, re.IGNORECASE):
            # sent to one person (or to hosts, panelists, the waiting room): never imported
            return head, False
    return head, True


def _time(text: str, number: int) -> dt.time:
    t = text.strip().lower().replace(".", "")
    meridiem = None
    if t.endswith(("am", "pm")):
        meridiem, t = t[-2:], t[:-2].strip()
    h, m, s = (int(x) for x in t.split(":"))
    if meridiem:
        if not 1 <= h <= 12:
            raise ZoomChatError(f"the time {text!r} is not a valid clock time", number)
        h = h % 12 + (12 if meridiem == "pm" else 0)
    try:
        return dt.time(h, m, s)
    except ValueError:
        raise ZoomChatError(f"the time {text!r} is not a valid clock time", number) from None


def _unindent(line: str) -> str:
    if line.startswith("\t"):
        return line[1:]
    return line.strip() if line[:1] == " " else line


def _trim_blank(body: list[str]) -> list[str]:
    start, end = 0, len(body)
    while start < end and not body[start].strip():
        start += 1
    while end > start and not body[end - 1].strip():
        end -= 1
    return body[start:end]


def _match_any(patterns: tuple[re.Pattern[str], ...], text: str) -> re.Match[str] | None:
    for p in patterns:
        if m := p.match(text):
            return m
    return None


def _show(line: str) -> str:
    line = CONTROL.sub("?", line.strip())
    return repr(line[:60] + ("…" if len(line) > 60 else ""))


def _snippet_key(snippet: str) -> str:
    s = snippet.strip()
    for tail in ("...", "…"):
        if s.endswith(tail):
            s = s[: -len(tail)]
    return " ".join(s.split()).casefold()


class _Targets:
    """Finds the message a reaction or reply quotes: the latest earlier one that starts with the snippet.

    Zoom cuts snippets to a few words; prefix tables per snippet length keep a big chat linear."""

    def __init__(self, messages: list[ChatMessage]):
        self.norms = [" ".join(m.text.split()).casefold() for m in messages]
        self.lines = [m.line for m in messages]
        self.tables: dict[int, dict[str, list[int]]] = {}

    def find(self, snippet: str, before_line: int) -> int | None:
        key = _snippet_key(snippet)
        if not key:
            return None
        table = self.tables.get(len(key))
        if table is None:
            table = {}
            for i, norm in enumerate(self.norms):
                if len(norm) >= len(key):
                    table.setdefault(norm[: len(key)], []).append(i)
            self.tables[len(key)] = table
        candidates = table.get(key)
        if not candidates:
            return None
        at = bisect_left(candidates, before_line, key=lambda i: self.lines[i])
        return candidates[at - 1] if at else None


def _resolve(
    messages: list[ChatMessage], reactions: list[tuple[int, str, str, bool]], targets: list[str]
) -> list[ChatMessage]:
    """Point replies at their message and leave each message its standing reaction count."""
    out = list(messages)
    targets_of = _Targets(out)
    for i, m in enumerate(out):
        if m.reply_to is not None:
            j = targets_of.find(m.reply_to, m.line)
            if j is not None:
                out[i] = replace(m, reply_to_line=out[j].line)
    standing: dict[int, Counter[tuple[str, str]]] = {}
    for (line, author, emoji, removed), snippet in zip(reactions, targets, strict=False):
        j = targets_of.find(snippet, line)
        if j is None:
            continue
        bag = standing.setdefault(j, Counter())
        key = (author.casefold(), emoji)
        if removed:
            if bag[key] > 0:
                bag[key] -= 1
        else:
            bag[key] += 1
    for j, bag in standing.items():
        out[j] = replace(out[j], reactions=sum(bag.values()))
    return out
