"""The naming rules: how each person appears in a write-up, and how quotes speak of others.

Nothing here is stored: labels are worked out each time a summary is built, from the consent in force
at that moment, so a withdrawal changes the very next summary.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.domain.consent import Level

ANOTHER = "another participant"
# One-word names that are also everyday words: only their capitalised form counts as a name.
COMMON_WORDS = frozenset(
    """
will may hope faith grace mark bill rose joy april june summer dawn eve max amber ray sky art guy pat sue
rob don jack frank grant lily ivy violet holly hunter carter mason page bob dean drew gene bud rich sandy
penny ruby crystal pearl robin jay chase miles lane chance wade reed cole nick bell hall hill wood king
young long brown green white black gray grey moore little rice day price star ash bay brook glen heath
hart fox cook baker smith taylor walker wells banks mills ford lee case cash story best love care kind
""".split()
)
TITLES = {
    "dr",
    "dr.",
    "prof",
    "prof.",
    "professor",
    "mr",
    "mr.",
    "mrs",
    "mrs.",
    "ms",
    "ms.",
    "mx",
    "mx.",
    "sir",
    "dame",
}
BRACKETS = re.compile(r"\s*[\(\[][^)\]]*[\)\]]")


@dataclass(frozen=True)
class Identity:
    """What is known of one person, and what they agreed to."""

    key: str  # stable id of the person inside the product
    full_name: str
    first_name: str | None
    level: Level
    platform_ids: tuple[str, ...] = ()  # ids that mentions use, e.g. Slack's U123
    aliases: tuple[str, ...] = ()  # other names they go by (platform display name, real name behind a chosen one)


def clean_name(name: str) -> str:
    """Drop pronouns and affiliations in brackets: 'Dan Green (he/him) (NHS)' -> 'Dan Green'."""
    return " ".join(BRACKETS.sub("", name).split())


def name_words(name: str) -> list[str]:
    words = [w for w in re.split(r"[\s]+", clean_name(name)) if w]
    while words and words[0].lower() in TITLES and len(words) > 1:
        words = words[1:]
    return words


def initials(name: str) -> str:
    letters = []
    for word in name_words(name):
        for part in word.split("-"):
            for ch in part:
                if ch.isalpha():
                    letters.append(ch.upper())
                    break
    return "".join(letters) or "?"


def first_name_of(identity: Identity) -> str:
    if identity.first_name and identity.first_name.strip():
        return (
            clean_name(identity.first_name).split(" ")[0]
            if clean_name(identity.first_name)
            else identity.first_name.strip()
        )
    words = name_words(identity.full_name)
    return words[0] if words else "?"


def effective_level(level: Level, *, chatham_house: bool) -> Level:
    if chatham_house and level.names_the_person:
        return Level.ANONYMOUS
    return level


def assign_labels(identities: Sequence[Identity], *, chatham_house: bool = False) -> dict[str, str | None]:
    """Label every person; ``None`` means they are not quoted.

    Order matters only for anonymous numbering: pass people in order of first appearance so that
    'Participant 1' is the first anonymous voice of the write-up. Two people never share a label:
    equal names or initials get a number ('DG (1)', 'DG (2)') rather than more of the name.
    """
    raw: dict[str, str | None] = {}
    anonymous_count = 0
    for person in identities:
        level = effective_level(person.level, chatham_house=chatham_house)
        if level is Level.NOT_QUOTED:
            raw[person.key] = None
        elif level is Level.ANONYMOUS:
            anonymous_count += 1
            raw[person.key] = f"Participant {anonymous_count}"
        elif level is Level.INITIALS:
            raw[person.key] = initials(person.full_name)
        elif level is Level.FIRST_NAME:
            raw[person.key] = first_name_of(person)
        else:
            raw[person.key] = " ".join(name_words(person.full_name)) or first_name_of(person)

    holders: dict[str, list[str]] = defaultdict(list)
    for key, label in raw.items():
        if label is not None:
            holders[label.casefold()].append(key)
    labels = dict(raw)
    taken = {label.casefold() for label in raw.values() if label}
    for keys in holders.values():
        if len(keys) < 2:
            continue
        n = 0
        for key in keys:
            base = raw[key]
            while True:
                n += 1
                candidate = f"{base} ({n})"
                if candidate.casefold() not in taken:
                    break
            taken.add(candidate.casefold())
            labels[key] = candidate
    return labels


# Platform markup that quotes may carry. Slack's forms; adapters bring other platforms to these.
MENTION = re.compile(r"<@!?([A-Za-z0-9]+)(?:\|[^>]*)?>")
CHANNEL_LINK = re.compile(r"<#([A-Za-z0-9]+)(?:\|([^>]*))?>")
SPECIAL = re.compile(r"<!(channel|here|everyone)(?:\|[^>]*)?>")
SUBTEAM = re.compile(r"<!subteam\^[A-Za-z0-9]+(?:\|([^>]*))?>")
ROLE = re.compile(r"<@&([0-9]+)>")
LINK = re.compile(r"<((?:https?|mailto):[^|>\s]+)(?:\|([^>]*))?>")
BARE_URL = re.compile(r"https?://[^\s<>\"']*[^\s<>\"'.,;:!?)]")
MARKUP = re.compile(r"<[^<>\s][^<>]*>|" + BARE_URL.pattern)


def unescape(text: str) -> str:
    """Slack's three escapes, undone (the neutral markup escapes exactly these)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@dataclass(frozen=True)
class Link:
    url: str
    label: str | None


class QuoteText:
    """Turns a stored quote into readable text under the naming rules of one summary."""

    def __init__(
        self, identities: Iterable[Identity], labels: Mapping[str, str | None], *, chatham_house: bool = False
    ):
        self.chatham_house = chatham_house
        self.by_platform_id: dict[str, Identity] = {}
        people = list(identities)
        for person in people:
            for pid in person.platform_ids:
                self.by_platform_id[pid] = person
        self.labels = labels
        self._name_pattern, self._name_owner = self._build_name_index(people)

    def _visible_label(self, person: Identity | None) -> str:
        if person is None:
            return ANOTHER
        level = effective_level(person.level, chatham_house=self.chatham_house)
        label = self.labels.get(person.key)
        if not level.names_the_person or not label:
            return ANOTHER
        return label

    def _build_name_index(self, people: Sequence[Identity]) -> tuple[re.Pattern[str] | None, dict[str, list[Identity]]]:
        """Every form of every name (full, each word, aliases), matched case-insensitively.

        Chat is often typed in lower case ("thanks felize"), so case does not protect anyone;
        only one-word forms that are also ordinary words ("will", "hope", "green") must be capitalised
        to count, or every "I will" would be rewritten.
        """
        owners: dict[str, list[Identity]] = defaultdict(list)
        for person in people:
            forms: set[str] = set()
            for name in (person.full_name, person.first_name or "", *person.aliases):
                words = name_words(name)
                if len(words) > 1:
                    forms.add(" ".join(words))
                forms.update(w for w in words if len(w) >= 2)
            for form in forms:
                key = form.casefold()
                if person not in owners[key]:
                    owners[key].append(person)
        if not owners:
            return None, {}
        alternatives = sorted(owners, key=len, reverse=True)
        pattern = re.compile(
            r"(?<![\w#])(@?)(" + "|".join(re.escape(a) for a in alternatives) + r")(?![\w])", re.IGNORECASE
        )
        return pattern, owners

    def _replace_name(self, match: re.Match[str]) -> str:
        form = match.group(2)
        key = form.casefold()
        owners = self._name_owner.get(key, [])
        if not owners or (" " not in form and key in COMMON_WORDS and not form[:1].isupper()):
            return match.group(0)
        if all(self._reveals(person, key) for person in owners):
            return match.group(0)
        if len(owners) == 1:
            return self._visible_label(owners[0])
        return ANOTHER

    def _reveals(self, person: Identity, key: str) -> bool:
        """Whether the person's own label already shows this form of their name."""
        level = effective_level(person.level, chatham_house=self.chatham_house)
        if level is Level.FULL_NAME:
            return any(
                key == w.casefold() or key == " ".join(name_words(person.full_name)).casefold()
                for w in name_words(person.full_name)
            )
        if level is Level.FIRST_NAME:
            return key == first_name_of(person).casefold()
        return False

    def render(self, text: str) -> tuple[str, list[Link]]:
        """Readable text plus the links it holds. The result is plain text; renderers escape it.

        ``text`` is in the neutral markup (Slack's: ``&amp; &lt; &gt;`` escaped, ``<@U1>``, ``<#C1|name>``,
        ``<!here>``, ``<url|label>``). Names are rewritten only outside markup and URLs.
        """
        links: list[Link] = []
        out: list[str] = []
        pos = 0
        for m in MARKUP.finditer(text):
            out.append(self._plain(text[pos : m.start()]))
            out.append(self._markup(m.group(0), links))
            pos = m.end()
        out.append(self._plain(text[pos:]))
        return "".join(out), links

    def _plain(self, segment: str) -> str:
        segment = unescape(segment)
        if self._name_pattern is None or not segment:
            return segment
        return self._name_pattern.sub(self._replace_name, segment)

    def _markup(self, token: str, links: list[Link]) -> str:
        if m := MENTION.fullmatch(token):
            return self._visible_label(self.by_platform_id.get(m.group(1)))
        if ROLE.fullmatch(token):
            return "a group"
        if m := CHANNEL_LINK.fullmatch(token):
            return f"#{m.group(2)}" if m.group(2) else "a channel"
        if m := SPECIAL.fullmatch(token):
            return f"@{m.group(1)}"
        if m := SUBTEAM.fullmatch(token):
            return m.group(1) or "a group"
        if m := LINK.fullmatch(token):
            url, label = unescape(m.group(1)), m.group(2)
            if url.startswith("mailto:"):
                # An address is usually a name (first.last@...): never shown, whatever the consent.
                address = url[len("mailto:") :]
                return self._plain(label) if label and unescape(label) != address else "an email address"
            label = self._plain(label) if label and unescape(label) != url else None
            links.append(Link(url, label))
            return f"{label} ({url})" if label else url
        if BARE_URL.fullmatch(token):
            url = unescape(token)
            links.append(Link(url, None))
            return url
        return self._plain(token)


def scrub_person(text: str, *, names: Sequence[str], user_ids: Sequence[str]) -> str:
    """Someone else's words with a forgotten person taken out: their names become 'another participant'
    and their mentions lose the name Slack keeps beside the id (``<@U1|dana>`` -> ``<@U1>``, which
    renders as 'another participant' once nobody by that id is known)."""
    for uid in user_ids:
        text = re.sub(r"<@!?" + re.escape(uid) + r"\|[^>]*>", f"<@{uid}>", text)
    forms: set[str] = set()
    for name in names:
        words = name_words(name)
        if len(words) > 1:
            forms.add(" ".join(words))
        forms.update(w for w in words if len(w) >= 2)
    if not forms:
        return text
    pattern = re.compile(
        r"(?<![\w#])@?(" + "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)) + r")(?![\w])",
        re.IGNORECASE,
    )

    def replace(m: re.Match[str]) -> str:
        form = m.group(1)
        if " " not in form and form.casefold() in COMMON_WORDS and not form[:1].isupper():
            return m.group(0)
        return ANOTHER

    out, pos = [], 0
    for m in MARKUP.finditer(text):  # leave links and mentions alone
        out.append(pattern.sub(replace, text[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(pattern.sub(replace, text[pos:]))
    return "".join(out)
