"""The parts of the insights pack that come from the call's chat: hellos, reflections, resources, attendance.

Pure functions over anything that has an ``author`` and a ``text`` (a Zoom ``ChatMessage``, a stored
``CallChatRow``, or a group channel message brought to plain text). Consent is not decided here: every
function takes ``label``, which maps an author to the name they agreed to, or ``None`` when they are not
to be quoted; and an optional ``rewrite`` that makes a text safe to print (names of others replaced by
their labels). ``call_chat_sections`` assembles all of them for the summary builder.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.domain.naming import QuoteText, clean_name
from bot.domain.summary import CallChatLine, Resource

Label = Callable[[str], "str | None"]
Rewrite = Callable[[str], str]


class Said(Protocol):
    @property
    def author(self) -> str: ...
    @property
    def text(self) -> str: ...


class Timed(Said, Protocol):
    @property
    def sent_at(self) -> dt.time: ...


URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'`]*[^\s<>\"'`.,;:!?)\]}]", re.IGNORECASE)
GREETING = re.compile(
    r"^\W*(?:hi|hiya|hello|hallo|hey|heya|howdy|greetings|good\s+(?:morning|afternoon|evening|day)"
    r"|hola|bonjour|salut|ciao|guten\s+(?:morgen|tag|abend)|hej|kia\s+ora|namaste|aloha|g'day|evening|morning)\b"
    r"|\b(?:dial(?:l)?ing\s+in|calling\s+in|joining|tuning\s+in|logging\s+in|zooming\s+in|here|greetings)"
    r"\s+(?:from|in)\b"
    r"|\bhello\s+from\b|\bhi\s+from\b|\bfirst\s+(?:time|meeting|call)\b",
    re.IGNORECASE,
)
PLACE = re.compile(r"\b(?:from|in)\s+(?:[a-z]+,?\s+){0,5}[A-Z]")  # 'from a very snowy and cold Boston'
DASH = re.compile(r"\s+[-–—]\s+")
TRACKING = re.compile(r"^(?:utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid|igshid|si)$", re.IGNORECASE)


def _seconds(t: dt.time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def is_greeting(text: str) -> bool:
    return bool(GREETING.search(text))


def links_in(text: str) -> list[str]:
    return [m.group(0) for m in URL.finditer(text)]


def tidy_url(url: str) -> str:
    """The link as it should be printed: a scheme, no tracking parameters."""
    if url.lower().startswith("www."):
        url = "https://" + url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING.match(k)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query, doseq=True), parts.fragment))


def url_key(url: str) -> str:
    """Two links are the same resource when they differ only in scheme, www., a trailing slash or tracking."""
    parts = urlsplit(tidy_url(url))
    host = parts.netloc.lower().removeprefix("www.")
    path = parts.path.rstrip("/")
    return f"{host}{path}?{parts.query}" if parts.query else f"{host}{path}"


def pick_hellos(
    messages: Sequence[Timed],
    label: Label,
    *,
    limit: int = 3,
    minutes: float = 20,
    rewrite: Rewrite | None = None,
) -> tuple[CallChatLine, ...]:
    """A few greetings from the start of the call, one per person, preferring those that say where from."""
    if not messages or limit <= 0:
        return ()
    start = _seconds(messages[0].sent_at)
    window = minutes * 60
    candidates: list[tuple[int, int, Timed, str]] = []  # (score, order, message, label)
    seen: set[str] = set()
    for order, m in enumerate(messages):
        elapsed = (_seconds(m.sent_at) - start) % 86400  # a call may run past midnight
        if elapsed > window:
            continue
        text = " ".join(m.text.split())
        if not is_greeting(text) or links_in(text) or not 3 <= len(text) <= 280:
            continue
        who = clean_name(m.author).casefold()
        if who in seen:
            continue
        name = label(m.author)
        if name is None:
            continue
        seen.add(who)
        score = (3 if PLACE.search(text) else 0) + min(len(text.split()), 12) // 4
        candidates.append((score, order, m, name))
    best = sorted(candidates, key=lambda c: (-c[0], c[1]))[:limit]
    best.sort(key=lambda c: c[1])
    return tuple(CallChatLine(name, _rewrite(" ".join(m.text.split()), rewrite)) for _, _, m, name in best)


def pick_reflections(
    messages: Iterable[Said],
    label: Label,
    *,
    min_words: int = 20,
    skip: Iterable[str] = (),
    rewrite: Rewrite | None = None,
) -> tuple[CallChatLine, ...]:
    """The chat's longer contributions, in order: what the pack calls reflections shared in the chat.

    Greetings and messages that share a link are left for the hellos and the resources. ``skip`` holds
    texts already used elsewhere (the hellos).
    """
    skipped = {" ".join(s.split()) for s in skip}
    out: list[CallChatLine] = []
    for m in messages:
        text = " ".join(m.text.split())
        if text in skipped:
            continue
        if URL.search(text):
            continue
        words_without_links = text.split()
        if len(words_without_links) < min_words:
            continue
        if is_greeting(text) and len(words_without_links) < 2 * min_words:
            continue
        name = label(m.author)
        if name is None:
            continue
        out.append(CallChatLine(name, _rewrite(m.text.strip(), rewrite)))
    return tuple(out)


@dataclass
class _Found:
    url: str
    shared_by: list[str]
    context: str
    title: str | None = None


def collect_resources(
    messages: Iterable[Said],
    label: Label,
    *,
    words: int = 40,
    rewrite: Rewrite | None = None,
) -> tuple[Resource, ...]:
    """Each link once, in the order first shared, with who shared it and the words around it.

    A message shaped like the pack's own list, 'Title - what it is URL', gives the link its title.

    Nothing comes from someone who is not to be quoted, not even a link: a link can say who shared
    it (a profile, a team page) as plainly as a name.
    """
    found: dict[str, _Found] = {}
    for m in messages:
        text = m.text
        name = label(m.author)
        if name is None:
            continue
        for match in URL.finditer(text):
            key = url_key(match.group(0))
            context, title = "", None
            if name is not None:
                title, context = _titled(text, match)
                if title is None:
                    context = _around(text, match.start(), match.end(), words)
                if rewrite:
                    context = rewrite(context) if context else context
                    title = rewrite(title) if title else title
            entry = found.get(key)
            if entry is None:
                found[key] = entry = _Found(tidy_url(match.group(0)), [], context, title)
            elif not entry.context and context:
                entry.context, entry.title = context, entry.title or title
            if name is not None and name not in entry.shared_by:
                entry.shared_by.append(name)
    return tuple(
        Resource(url=f.url, label=f.title, shared_by=tuple(f.shared_by), context=f.context) for f in found.values()
    )


def _around(text: str, start: int, end: int, words: int) -> str:
    before = [w for w in URL.sub("", text[:start]).split() if any(c.isalnum() for c in w)][-words:]
    after = [w for w in URL.sub("", text[end:]).split() if any(c.isalnum() for c in w)][:words]
    context = " ".join(before + after)
    return context.strip(" :-–—,;|>").strip()


def _titled(text: str, match: re.Match[str]) -> tuple[str | None, str]:
    """'Title - what it is URL' (the link alone at the start or end of its message): (title, what it is)."""
    before, after = text[: match.start()].strip(), text[match.end() :].strip(" .)")
    if len(URL.findall(text)) != 1 or (before and after):
        return None, ""
    rest = " ".join((before or after).split())
    parts = DASH.split(rest, maxsplit=1)
    if len(parts) == 2 and parts[0].strip(" :") and parts[1].strip() and len(parts[0].split()) <= 20:
        return parts[0].strip(" :"), parts[1].strip(" :-–—")
    return None, ""


def distinct_people(names: Iterable[str]) -> int:
    """Attendance as the chat and the groups saw it: distinct people, pronouns and brackets ignored."""
    return len({" ".join(clean_name(n).split()).casefold() for n in names if clean_name(n).strip()})


def _rewrite(text: str, rewrite: Rewrite | None) -> str:
    return rewrite(text) if rewrite else text


# --- the call chat's sections of the write-up -------------------------------------------------------------


@dataclass(frozen=True)
class CallChatRow:
    """A stored message of the call's chat as the summary builder needs it; ``author`` is the person's key."""

    author: str
    text: str
    sent_at: dt.time
    line: int
    highlighted: bool
    person_id: int


@dataclass(frozen=True)
class CallChatSections:
    hellos: tuple[CallChatLine, ...]
    chat: tuple[CallChatLine, ...]
    resources: tuple[Resource, ...]


def _as_markup(text: str) -> str:
    """Plain chat text in the neutral markup QuoteText reads (only & < > are special)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def call_chat_sections(
    rows: Sequence[CallChatRow],
    labels: dict[str, str | None],
    texts: QuoteText,
    *,
    highlights_only: bool = False,
    hellos: int = 3,
    min_words: int = 20,
) -> CallChatSections:
    """Hellos, reflections and links from the chat, every author by their label and every name in a text
    rewritten by its owner's consent."""
    label: Label = labels.get
    rewrite: Rewrite = lambda t: texts.render(_as_markup(t))[0]  # noqa: E731
    picked_hellos = pick_hellos(rows, label, limit=hellos, rewrite=rewrite)
    hello_texts = {
        " ".join(r.text.split())
        for r in rows
        if " ".join(rewrite(r.text).split()) in {" ".join(h.text.split()) for h in picked_hellos}
    }
    if highlights_only:
        chosen = [r for r in rows if r.highlighted]
    else:
        long = {id(r) for r in rows if pick_reflections([r], label, min_words=min_words, skip=hello_texts)}
        chosen = [r for r in rows if r.highlighted or id(r) in long]
    chat = tuple(CallChatLine(name, rewrite(r.text)) for r in chosen if (name := label(r.author)) is not None)
    resources = collect_resources(rows, label, rewrite=rewrite)
    return CallChatSections(picked_hellos, chat, resources)


def merge_resources(first: Sequence[Resource], more: Sequence[Resource]) -> tuple[Resource, ...]:
    """Links from the groups, then the chat's; a link shared in both is listed once, with everyone who shared it."""
    out: dict[str, Resource] = {}
    for r in [*first, *more]:
        key = url_key(r.url)
        if key not in out:
            out[key] = r
            continue
        seen = out[key]
        shared = tuple(dict.fromkeys([*seen.shared_by, *r.shared_by]))
        out[key] = Resource(seen.url, seen.label or r.label, shared, seen.context or r.context)
    return tuple(out.values())


def call_attendance(member_ids: Iterable[int], chat_person_ids: Iterable[int]) -> int:
    """Distinct people seen in the groups or the chat (chat authors are people already, so ids suffice)."""
    return distinct_people([str(i) for i in [*member_ids, *chat_person_ids]])
