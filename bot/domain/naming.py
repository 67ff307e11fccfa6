"""The naming rules: how each person appears in a write-up, and how quotes speak of others.

Nothing here is stored: labels are worked out each time a summary is built, from the consent in force
at that moment, so a withdrawal changes the very next summary.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote_plus, urlsplit

from bot.domain.consent import Level

ANOTHER = "another participant"
# What stands where a forgotten person's platform id was (a facilitator's, an organiser's, inside words).
FORGOTTEN = "forgotten"
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


# --- names inside addresses ---------------------------------------------------------------------------------
# An address can name someone as plainly as the words around it: /profile/jane-doe, ?user=JaneDoe,
# janedoe.example.org. Such a link is shown by its site alone when the name goes beyond that person's consent.

_ADDRESS_WORD = re.compile(r"[^\W_]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
# Link text that reads like an address (https://..., www..., nhs.uk/official): it could disguise the target.
_LOOKS_LIKE_ADDRESS = re.compile(
    r"(?i)\b[a-z][a-z0-9+.-]*://|\bwww\.|(?<![\w@.-])[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*\.[a-z]{2,24}\b"
)
_MIN_JOINED = 4  # 'jdoe', 'janedoe': shorter joins ('ali') are ordinary letters in addresses


def looks_like_address(text: str) -> bool:
    """Whether link text reads like an address, so showing it instead of the real one could mislead."""
    return bool(_LOOKS_LIKE_ADDRESS.search(text))


def address_words(url: str) -> list[str]:
    """The words an address is made of, as written: host, path, query and fragment, percent-escapes undone
    and camelCase split ('/people/JaneDoe?u=jane.doe' -> people, Jane, Doe, u, jane, doe). Not the scheme."""
    try:
        parts = urlsplit(url)
        text = " ".join((parts.netloc, parts.path, parts.query, parts.fragment))
    except ValueError:
        text = url
    return _ADDRESS_WORD.findall(_CAMEL.sub(" ", unquote_plus(text)))


def _words_of_form(form: str) -> tuple[str, ...]:
    return tuple(_fold(w) for w in _ADDRESS_WORD.findall(form))


class AddressNames:
    """Finds the forms of names (``name_forms`` keys, casefolded) that an address holds: as words in order
    ('jane-doe', 'Jane_Doe', 'JaneDoe'), or joined inside one word ('janedoe99', 'doejane', 'jdoe')."""

    def __init__(self, forms: Iterable[str]):
        self._starts: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
        self._joined: dict[str, set[str]] = defaultdict(set)
        for key in forms:
            words = _words_of_form(key)
            if not words:
                continue
            self._starts[words[0]].append((words, key))
            if len(words) > 1:
                for joined in ("".join(words), "".join(reversed(words)), words[0][0] + words[-1]):
                    if len(joined) >= _MIN_JOINED:
                        self._joined[joined].add(key)
        # Joined forms by their first letters, longest first: a word is read once, whatever the number of people.
        self._joined_by_start: dict[str, list[str]] = defaultdict(list)
        for joined in sorted(self._joined, key=len, reverse=True):
            self._joined_by_start[joined[:_MIN_JOINED]].append(joined)

    def _joined_in(self, word: str) -> Iterator[str]:
        """The joined forms inside one word, left to right, the longest at each place, never overlapping."""
        i, last = 0, len(word) - _MIN_JOINED
        while i <= last:
            for joined in self._joined_by_start.get(word[i : i + _MIN_JOINED], ()):
                if word.startswith(joined, i):
                    yield joined
                    i += len(joined)
                    break
            else:
                i += 1

    def find(self, url: str) -> dict[str, bool]:
        """Each form found, and whether it was written capitalised (an everyday word then reads as a name)."""
        words = address_words(url)
        folded = [_fold(w) for w in words]  # 'yildiz' in an address is 'Yıldız' too
        found: dict[str, bool] = {}
        for i, word in enumerate(folded):
            for sequence, key in self._starts.get(word, ()):
                if tuple(folded[i : i + len(sequence)]) == sequence:
                    found[key] = found.get(key, False) or words[i][:1].isupper()
            for joined in self._joined_in(word):
                for key in self._joined[joined]:
                    found[key] = True  # a joined name is never an everyday word
        return found


def counts_as_name(key: str, capitalised: bool, found: Mapping[str, bool], same_person: Callable[[str], bool]) -> bool:
    """An everyday word ('green', 'will') in an address is a name only when written capitalised or beside
    another form of the same person's name ('dan-green'), as in plain text it must be capitalised."""
    if " " in key or key not in COMMON_WORDS or capitalised:
        return True
    return any(other != key and same_person(other) for other in found)


def site_of(url: str, names_someone: Callable[[str], bool]) -> tuple[str, str | None]:
    """(the words to show, the address a link may still point to) for an address that names someone:
    its site ('example.org link', https://example.org), dropping subdomains that name them
    (jane.example.org -> example.org); 'a link' and no address when the site's own name does."""
    try:
        parts = urlsplit(url)
        host, scheme = (parts.hostname or ""), (parts.scheme or "https")
    except ValueError:
        return "a link", None
    labels = host.removeprefix("www.").split(".")
    while len(labels) >= 2:
        site = ".".join(labels)
        if not names_someone(f"//{site}"):
            return f"{site} link", f"{scheme}://{site}"
        labels = labels[1:]
    return "a link", None


def name_forms(name: str) -> set[str]:
    """The forms of one name that count when found in text: the whole name and each word of two letters or more."""
    words = name_words(name)
    forms = {" ".join(words)} if len(words) > 1 else set()
    forms.update(w for w in words if len(w) >= 2)
    return forms


# --- names inside text --------------------------------------------------------------------------------------
_WORD = re.compile(r"\w+")
# Letters that case-insensitive matching takes for 'i' although their casefold is not 'i' (Turkish dotted
# capital and dotless i): folded to 'i' first, so a word index finds every name the regex would match.
_FOLD_FIRST = str.maketrans({"\u0130": "i", "\u0131": "i"})
_PATTERN_CACHE = 4096


# In ASCII, a word character is a letter, a digit or '_': everything else becomes a space, and a split
# gives the same words as the regex, a few times faster.
_ASCII_NON_WORD = bytes(c if chr(c).isalnum() or chr(c) == "_" else 32 for c in range(128)) + b" " * 128


def _fold(text: str) -> str:
    return text.lower() if text.isascii() else text.translate(_FOLD_FIRST).casefold()


def _words(text: str) -> list[str]:
    """The runs of word characters (``\\w+``) in the text, casefolded as the regex's ignoring of case needs."""
    if text.isascii():
        return text.lower().encode("ascii").translate(_ASCII_NON_WORD).decode("ascii").split()
    return _WORD.findall(text.translate(_FOLD_FIRST).casefold())


@functools.lru_cache(maxsize=_PATTERN_CACHE)
def _names_pattern(forms: tuple[str, ...]) -> re.Pattern[str]:
    """Any of these forms of names, whole, not inside a longer word or a #channel; an @ before it goes with
    it. Kept compiled: the same names come back quote after quote, and summary after summary."""
    return re.compile(r"(?<![\w#])(@?)(" + "|".join(map(re.escape, forms)) + r")(?![\w])", re.IGNORECASE)


class NameIndex:
    """Finds the forms of names in text at a cost that grows with the text, not with the number of people.

    One regex over every form of every person in a workspace costs time in proportion to the number of
    forms at each character of every quote. Here each form is filed under its words (casefolded); a form
    can only match where its words stand side by side among the text's words, so the text's runs of words
    are looked up, and the regex is built from only the forms found there (in the same order, longest
    first): it finds exactly what the regex over all forms would find."""

    def __init__(self, forms: Sequence[str]):
        """``forms``: casefolded, in the order the regex tries them (longest first)."""
        self._rank = {form: i for i, form in enumerate(forms)}
        self._by_words: dict[tuple[str, ...], list[str]] = defaultdict(list)
        self._always: list[str] = []  # forms that start with no letter or digit: tried in every text
        for form in forms:
            words = tuple(_words(form))
            if words and _WORD.match(_fold(form)):
                self._by_words[words].append(form)
            else:
                self._always.append(form)
        self._first_words = {words[0] for words in self._by_words}
        self._lengths = sorted({len(words) for words in self._by_words})

    def pattern_for(self, text: str) -> re.Pattern[str] | None:
        """The regex of the forms whose words are in ``text``; ``None`` when no name can be there."""
        words = _words(text)
        if not self._always and self._first_words.isdisjoint(words):
            return None  # most quotes name nobody: one set operation says so
        found = set(self._always)
        for i, word in enumerate(words):
            if word not in self._first_words:
                continue
            for length in self._lengths:
                if i + length > len(words):
                    break
                if forms := self._by_words.get(tuple(words[i : i + length])):
                    found.update(forms)
        if not found:
            return None
        return _names_pattern(tuple(sorted(found, key=self._rank.__getitem__)))


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
        self._addresses = AddressNames(self._name_owner)
        self._beyond: dict[str, bool] = {}  # address -> whether it names someone beyond their consent
        self._keys_by_fold: dict[str, list[str]] = defaultdict(list)
        for key in self._name_owner:
            self._keys_by_fold[_fold(key)].append(key)

    def _visible_label(self, person: Identity | None) -> str:
        if person is None:
            return ANOTHER
        level = effective_level(person.level, chatham_house=self.chatham_house)
        label = self.labels.get(person.key)
        if not level.names_the_person or not label:
            return ANOTHER
        return label

    def _build_name_index(self, people: Sequence[Identity]) -> tuple[NameIndex | None, dict[str, list[Identity]]]:
        """Every form of every name (full, each word, aliases), matched case-insensitively.

        Chat is often typed in lower case ("thanks felize"), so case does not protect anyone;
        only one-word forms that are also ordinary words ("will", "hope", "green") must be capitalised
        to count, or every "I will" would be rewritten.
        """
        owners: dict[str, list[Identity]] = defaultdict(list)
        seen: set[tuple[str, Identity]] = set()  # a set, not a scan of the owners: thousands share 'Sam'
        for person in people:
            forms: set[str] = set()
            for name in (person.full_name, person.first_name or "", *person.aliases):
                forms |= name_forms(name)
            for form in forms:
                key = form.casefold()
                if (key, person) not in seen:
                    seen.add((key, person))
                    owners[key].append(person)
        if not owners:
            return None, {}
        return NameIndex(sorted(owners, key=len, reverse=True)), owners

    def _replace_name(self, match: re.Match[str]) -> str:
        form = match.group(2)
        key = form.casefold()
        # Ignoring case, the regex takes 'YILDIZ' for 'yıldız', whose casefolds differ: the forms are then
        # found by their folding, so such a name is never left as written for want of an owner.
        keys = [key] if key in self._name_owner else self._keys_by_fold.get(_fold(key), [])
        owned = [(person, k) for k in keys for person in self._name_owner[k]]
        if not owned or (" " not in form and key in COMMON_WORDS and not form[:1].isupper()):
            return match.group(0)
        if all(self._reveals(person, k) for person, k in owned):
            return match.group(0)
        owners = list(dict.fromkeys(person for person, _ in owned))
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

    def _names_beyond_consent(self, url: str) -> bool:
        """Whether the address holds a form of someone's name that their label does not already show.
        Worked out once per address: the same links come back quote after quote."""
        beyond = self._beyond.get(url)
        if beyond is None:
            beyond = self._beyond[url] = self._address_names_beyond_consent(url)
        return beyond

    def _address_names_beyond_consent(self, url: str) -> bool:
        found = self._addresses.find(url)
        for key, capitalised in found.items():
            owners = self._name_owner.get(key, [])

            def same_person(other: str, owners: list[Identity] = owners) -> bool:
                return any(p in owners for p in self._name_owner.get(other, []))

            if not counts_as_name(key, capitalised, found, same_person):
                continue
            if not all(self._reveals(person, key) for person in owners):
                return True
        return False

    def shown_link(self, url: str, label: str | None = None) -> Link | None:
        """The link as the write-up may list it: the real address, or only its site when the address names
        someone beyond their consent, or nothing when the site's own name does. Link text that reads like
        an address is dropped, so what is shown is always where it leads."""
        if not self._names_beyond_consent(url):
            if label is not None and (label == url or looks_like_address(label)):
                label = None
            return Link(url, label)
        _, target = site_of(url, self._names_beyond_consent)
        return Link(target, None) if target else None

    def _address(self, url: str, label: str | None, links: list[Link]) -> str:
        """A link inside a quote: '<label> (<address>)', the address being the site alone when needed."""
        if self._names_beyond_consent(url):
            shown, target = site_of(url, self._names_beyond_consent)
            if target:
                links.append(Link(target, None))
        else:
            shown = url
            links.append(Link(url, label))
        return f"{label} ({shown})" if label else shown

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
        pattern = self._name_pattern.pattern_for(segment)
        return segment if pattern is None else pattern.sub(self._replace_name, segment)

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
            text = unescape(label) if label else ""
            # Link text that reads like an address could disguise where a link leads (or, for mail, be the
            # address itself): only the real address is shown.
            if not text or text == url or looks_like_address(text):
                label = None
            if url.startswith("mailto:"):
                # An address is usually a name (first.last@...): never shown, whatever the consent.
                return self._plain(label) if label else "an email address"
            return self._address(url, self._plain(label) if label else None, links)
        if BARE_URL.fullmatch(token):
            return self._address(unescape(token), None, links)
        return self._plain(token)


def scrub_person(text: str, *, names: Sequence[str], user_ids: Sequence[str]) -> str:
    """Someone else's words (in the neutral markup) with a forgotten person taken out: their names become
    'another participant', and so do their mentions (``<@U1>``, ``<@!1>``, ``<@U1|dana>``); a link whose
    address names them is kept as its site alone ('example.org link'); their id anywhere else becomes
    'forgotten'. Nothing of them is left to find, not even the id a mention carried."""
    forms: set[str] = set()
    for name in names:
        forms |= name_forms(name)
    ids = {uid for uid in user_ids if uid}
    pattern = (
        re.compile(
            r"(?<![\w#])@?(" + "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)) + r")(?![\w])",
            re.IGNORECASE,
        )
        if forms
        else None
    )
    addresses = AddressNames({f.casefold() for f in forms})

    def names_them(url: str) -> bool:
        found = addresses.find(url)
        return any(counts_as_name(key, cap, found, lambda _other: True) for key, cap in found.items())

    def replace(m: re.Match[str]) -> str:
        form = m.group(1)
        if " " not in form and form.casefold() in COMMON_WORDS and not form[:1].isupper():
            return m.group(0)
        return ANOTHER

    def plain(segment: str) -> str:
        return pattern.sub(replace, segment) if pattern is not None else segment

    def markup(token: str) -> str:
        if (m := MENTION.fullmatch(token)) and m.group(1) in ids:
            return ANOTHER
        if m := LINK.fullmatch(token):
            url, label = unescape(m.group(1)), m.group(2)
            if not url.startswith("mailto:") and names_them(url):
                shown, _ = site_of(url, names_them)
                return f"{plain(label)} ({shown})" if label else shown
            return token if not label else token.replace(f"|{label}>", f"|{plain(label)}>")
        if BARE_URL.fullmatch(token) and names_them(unescape(token)):
            return site_of(unescape(token), names_them)[0]
        return token

    out, pos = [], 0
    for m in MARKUP.finditer(text):
        out.append(plain(text[pos : m.start()]))
        out.append(markup(m.group(0)))
        pos = m.end()
    out.append(plain(text[pos:]))
    scrubbed = "".join(out)
    for uid in ids:
        scrubbed = re.sub(r"(?<![A-Za-z0-9])" + re.escape(uid) + r"(?![A-Za-z0-9])", FORGOTTEN, scrubbed)
    return scrubbed
