"""Importing the video call's own chat, naming its authors, and the pack sections built from it.

The bot never saw the call's chat; an organiser hands over Zoom's export. Import is all-or-nothing: the
file is read and checked completely before the database is touched, and stored in one transaction that
replaces any earlier import for the breakout. Direct messages never get this far (the parser drops them).

Each chat author becomes a Person: the breakout member of the same name when exactly one matches (their
own naming choice then covers their chat messages too), else a chat-only person who gets the plan's
default naming until the organiser records their choice (members choose only for themselves), and who
is deleted, with their choices, once no imported chat holds a message of theirs. Consent stays in
``consents`` and is applied at build time, like every other quote.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.domain.consent import Level
from bot.domain.naming import QuoteText, clean_name
from bot.domain.pack import collect_resources, distinct_people, pick_hellos, pick_reflections, url_key
from bot.domain.summary import ChatLine, Resource
from bot.domain.zoom_chat import DEFAULT_MAX_BYTES, ZoomChatError, parse_zoom_chat
from bot.services.context import Actor, Core
from bot.services.errors import BadArguments, NotAllowed, NotFound
from bot.services.lifecycle import require_organiser
from bot.store import repository as repo
from bot.store.models import Breakout, ChatEntry, ChatImport, ConsentRecord, Person

CHAT_SUFFIX = "/zoom"
ORGANISER_VIA = "organiser"


class ChatFileRefused(BadArguments):
    """The file is not a chat export we can read; nothing was imported."""


def chat_workspace(workspace: str) -> str:
    return (workspace + CHAT_SUFFIX)[:64]


def name_key(name: str) -> str:
    return " ".join(clean_name(name).split()).casefold() or " ".join(name.split()).casefold()


def chat_user_id(key: str) -> str:
    return "zoom:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True)
class ChatImported:
    breakout_id: int
    filename: str
    format: str
    language: str
    messages: int
    authors: int
    members: int  # authors who are also people of the breakout's groups
    direct_dropped: int
    reactions: int
    replaced: bool
    default_level: Level

    def describe(self) -> str:
        parts = [
            f"Imported {self.messages} chat message{'s' if self.messages != 1 else ''} from "
            f"{self.authors} {'person' if self.authors == 1 else 'people'} ({self.format} Zoom export"
            f"{', ' + self.language if self.language != 'en' else ''}) into breakout {self.breakout_id}."
        ]
        if self.replaced:
            parts.append("This replaces the chat imported before.")
        if self.direct_dropped:
            parts.append(
                f"{self.direct_dropped} direct message{'s were' if self.direct_dropped != 1 else ' was'} "
                "left out, as always."
            )
        others = self.authors - self.members
        if self.members:
            parts.append(f"{self.members} of them took part in the groups, so their own naming choice applies.")
        if others:
            parts.append(
                f"{others} chat-only {'person gets' if others == 1 else 'people get'} the plan's default "
                f"naming ({self.default_level.value.replace('_', '-')}) until you record their choice "
                f'(breakout-bot chat-naming {self.breakout_id} "NAME" LEVEL).'
            )
        return " ".join(parts)


@dataclass(frozen=True)
class ChatAuthor:
    name: str
    messages: int
    level: Level
    chosen_by: str | None  # "themselves", "organiser", or None: the plan's default
    member: bool


@dataclass(frozen=True)
class ChatRow:
    """A stored chat message as the summary builder needs it; ``author`` is the person's key."""

    author: str
    text: str
    sent_at: dt.time
    line: int
    highlighted: bool
    person_id: int


class ChatImports:
    def __init__(self, core: Core, *, max_bytes: int = DEFAULT_MAX_BYTES):
        self.core = core
        self.max_bytes = max_bytes

    # --- import ----------------------------------------------------------------------------------

    def import_chat(
        self,
        actor: Actor,
        *,
        data: bytes | str,
        filename: str,
        breakout_id: int | None = None,
        channel_id: str | None = None,
        attendance: int | None = None,
    ) -> ChatImported:
        """``/summary import`` with a file: organisers only, into the breakout meant here."""
        require_organiser(actor, "import the call's chat")
        target = self._find(actor, breakout_id=breakout_id, channel_id=channel_id)
        return self.import_into(
            target, data, filename=filename, imported_by=actor.person.user_id, attendance=attendance
        )

    def import_into(
        self, breakout_id: int, data: bytes | str, *, filename: str, imported_by: str, attendance: int | None = None
    ) -> ChatImported:
        """``imported_by`` is who did it as an id (a platform user id, or 'command line'), never a name:
        the organiser's name is personal data like anyone else's."""
        if attendance is not None and attendance < 0:
            raise BadArguments("Attendance is a number of people: 0 or more.")
        try:
            chat = parse_zoom_chat(data, max_bytes=self.max_bytes)
        except ZoomChatError as error:
            raise ChatFileRefused(f"{filename}: {error}. Nothing was imported.") from None
        if not chat.messages:
            raise ChatFileRefused(
                f"{filename}: there are no messages to everyone in this chat"
                f"{' (only direct messages, which are never imported)' if chat.direct_messages_dropped else ''}. "
                "Nothing was imported."
            )
        with self.core.db.transaction() as s:
            breakout = s.get(Breakout, breakout_id)
            if breakout is None:
                raise NotFound(f"There is no breakout {breakout_id}. See: breakout-bot breakouts")
            default_level = Level(breakout.plan["naming"]["default"])
            old = s.scalar(select(ChatImport).where(ChatImport.breakout_id == breakout_id))
            carried: dict[tuple[int, str], tuple[bool, bool]] = {}
            if old is not None:
                for e in s.scalars(select(ChatEntry).where(ChatEntry.import_id == old.id)):
                    carried[(e.person_id, e.text)] = (e.highlighted, e.excluded)
                s.execute(delete(ChatEntry).where(ChatEntry.import_id == old.id))
                s.delete(old)
                s.flush()
            people, members = self._authors_as_people(s, breakout, [m.author for m in chat.messages])
            record = ChatImport(
                breakout_id=breakout_id,
                filename=filename[:200],
                format=chat.format,
                language=chat.language,
                message_count=len(chat.messages),
                direct_dropped=chat.direct_messages_dropped,
                reactions=chat.reactions,
                imported_by=imported_by[:200],
                imported_at=self.core.now(),
            )
            s.add(record)
            s.flush()
            for position, m in enumerate(chat.messages, start=1):
                person_id = people[name_key(m.author)]
                highlighted, excluded = carried.get((person_id, m.text), (False, False))
                s.add(
                    ChatEntry(
                        import_id=record.id,
                        breakout_id=breakout_id,
                        person_id=person_id,
                        position=position,
                        line=m.line,
                        sent_at=m.sent_at,
                        author=m.author[:200],
                        text=m.text,
                        reply_to=m.reply_to,
                        reactions=m.reactions,
                        highlighted=highlighted,
                        excluded=excluded,
                    )
                )
            if attendance is not None:
                breakout.attendance = attendance
            s.flush()
            self._drop_unheard(s, breakout)
        return ChatImported(
            breakout_id,
            filename,
            chat.format,
            chat.language,
            len(chat.messages),
            len(people),
            len(members),
            chat.direct_messages_dropped,
            chat.reactions,
            old is not None,
            default_level,
        )

    def _drop_unheard(self, s: Session, breakout: Breakout) -> None:
        """Chat-only people exist only because of a chat: once no imported chat holds a message of theirs
        (a re-import of another file, a wrong file replaced), their name and naming choices go too.
        Their choice for this breakout goes as soon as this breakout's chat no longer has them."""
        workspace = chat_workspace(breakout.workspace)
        heard = select(ChatEntry.person_id).where(ChatEntry.person_id == Person.id)
        gone = list(s.scalars(select(Person.id).where(Person.workspace == workspace, ~heard.exists())))
        if gone:
            s.execute(delete(ConsentRecord).where(ConsentRecord.person_id.in_(gone)))
            s.execute(delete(Person).where(Person.id.in_(gone)))
        here = select(ChatEntry.id).where(ChatEntry.breakout_id == breakout.id, ChatEntry.person_id == Person.id)
        absent = select(Person.id).where(Person.workspace == workspace, ~here.exists())
        s.execute(
            delete(ConsentRecord).where(ConsentRecord.breakout_id == breakout.id, ConsentRecord.person_id.in_(absent))
        )

    def _authors_as_people(
        self, s: Session, breakout: Breakout, authors: Sequence[str]
    ) -> tuple[dict[str, int], set[int]]:
        """Each distinct author's person id; and which of them are members of the breakout."""
        by_name: dict[str, list[Person]] = {}
        for _, person in repo.members(s, breakout_id=breakout.id):
            for name in {person.preferred_name, person.full_name}:
                if name and name_key(name):
                    owners = by_name.setdefault(name_key(name), [])
                    if person not in owners:
                        owners.append(person)
        people: dict[str, int] = {}
        members: set[int] = set()
        for author in authors:
            key = name_key(author)
            if key in people:
                continue
            owners = by_name.get(key, [])
            if len(owners) == 1:  # two members of one name: never guess which one wrote it
                people[key] = owners[0].id
                members.add(owners[0].id)
                continue
            name = clean_name(author) or author.strip()
            person = repo.upsert_person(
                s,
                workspace=chat_workspace(breakout.workspace),
                user_id=chat_user_id(key),
                full_name=name[:200],
                first_name=name.split()[0] if name.split() else None,
                display_name=author.strip()[:100],
            )
            people[key] = person.id
        return people, members

    # --- naming ----------------------------------------------------------------------------------

    def authors(self, breakout_id: int) -> list[ChatAuthor]:
        with self.core.db.transaction() as s:
            breakout = self._breakout(s, breakout_id)
            default = Level(breakout.plan["naming"]["default"])
            consents = repo.latest_consents(s, breakout_id=breakout_id)
            member_ids = {p.id for _, p in repo.members(s, breakout_id=breakout_id)}
            counts: dict[int, int] = {}
            for e in s.scalars(
                select(ChatEntry).where(ChatEntry.breakout_id == breakout_id).order_by(ChatEntry.position)
            ):
                counts[e.person_id] = counts.get(e.person_id, 0) + 1
            out = []
            for person_id, n in counts.items():
                person = s.get(Person, person_id)
                record = consents.get(person_id)
                chosen = None if record is None else (ORGANISER_VIA if record.via == ORGANISER_VIA else "themselves")
                out.append(
                    ChatAuthor(
                        person.preferred_name or person.full_name,  # type: ignore[union-attr]
                        n,
                        Level(record.level) if record else default,
                        chosen,
                        person_id in member_ids,
                    )
                )
            return out

    def name_author(
        self, actor: Actor, *, name: str, level: Level, breakout_id: int | None = None, channel_id: str | None = None
    ) -> str:
        """An organiser records how a chat author agreed to be named (they told the organiser, not the bot)."""
        require_organiser(actor, "record a chat author's naming choice")
        target = self._find(actor, breakout_id=breakout_id, channel_id=channel_id)
        return self.record_naming(target, name=name, level=level, recorded_by=actor.person.user_id)

    def record_naming(self, breakout_id: int, *, name: str, level: Level, recorded_by: str) -> str:
        """Only for chat-only people: a member of the groups makes their own choice, which covers their chat
        messages too. ``recorded_by`` is an id (platform user id, or 'command line'), never a name."""
        key = name_key(name)
        with self.core.db.transaction() as s:
            breakout = self._breakout(s, breakout_id)
            candidates = {}
            for e in s.scalars(select(ChatEntry).where(ChatEntry.breakout_id == breakout_id)):
                if name_key(e.author) == key:
                    candidates[e.person_id] = e.author
            if not candidates:
                known = sorted(
                    {
                        clean_name(a)
                        for a in s.scalars(select(ChatEntry.author).where(ChatEntry.breakout_id == breakout_id))
                    }
                )
                hint = (
                    f" Chat authors: {', '.join(known[:20])}{'…' if len(known) > 20 else ''}."
                    if known
                    else " No chat is imported yet: breakout-bot import-chat first."
                )
                raise NotFound(f"Nobody called '{name}' wrote in breakout {breakout_id}'s chat.{hint}")
            (person_id,) = candidates
            name = candidates[person_id]  # as the chat spells it, not as typed here
            own = [
                r
                for r in s.scalars(
                    select(ConsentRecord).where(
                        ConsentRecord.breakout_id == breakout_id, ConsentRecord.person_id == person_id
                    )
                )
                if r.via != ORGANISER_VIA
            ]
            if own:
                raise NotAllowed(
                    f"{clean_name(name)} chose their naming themselves in the breakout, and only they "
                    "can change it (with /breakout consent)."
                )
            person = s.get(Person, person_id)
            if person is None or person.workspace != chat_workspace(breakout.workspace):
                raise NotAllowed(
                    f"{clean_name(name)} took part in the groups, so their naming is theirs to choose: "
                    "they can set it with /breakout consent. Until they do, the plan's default applies. "
                    "Only people who were in the call's chat alone can have their choice recorded here."
                )
            s.add(
                ConsentRecord(
                    breakout_id=breakout_id,
                    person_id=person_id,
                    level=level.value,
                    wording=f"Recorded by {recorded_by[:150]} for a chat author of '{breakout.title}': {level.value}",
                    via=ORGANISER_VIA,
                    given_at=self.core.now(),
                )
            )
        return f"{clean_name(name)} will appear as {describe_level(level)} in breakout {breakout_id}'s write-up."

    def forget_author(self, breakout_id: int, *, name: str) -> str:
        """'Forget me' for someone who was only in the call's chat (they can't type /breakout forget-me):
        every chat message, naming choice and record of them goes, in every breakout."""
        key = name_key(name)
        with self.core.db.transaction() as s:
            self._breakout(s, breakout_id)
            ids = {
                e.person_id
                for e in s.scalars(select(ChatEntry).where(ChatEntry.breakout_id == breakout_id))
                if name_key(e.author) == key
            }
            if not ids:
                raise NotFound(f"Nobody called '{name}' wrote in breakout {breakout_id}'s chat.")
            person = s.get(Person, next(iter(ids)))
            assert person is not None
            if not person.workspace.endswith(CHAT_SUFFIX):
                raise NotAllowed(
                    f"{clean_name(name)} took part in the groups: they can delete everything stored "
                    "about them with /breakout forget-me, or choose not-quoted."
                )
            counts = repo.forget_person(s, person)
        return (
            f"Forgot {clean_name(name)}: {counts.get('chat_messages', 0)} chat message(s) and "
            f"{counts.get('consents', 0)} naming choice(s) deleted, and their name."
        )

    # --- attendance and curation of the chat ----------------------------------------------------------

    def set_attendance(self, breakout_id: int, count: int | None) -> str:
        if count is not None and count < 0:
            raise BadArguments("Attendance is a number of people: 0 or more.")
        with self.core.db.transaction() as s:
            self._breakout(s, breakout_id).attendance = count
        return (
            f"Breakout {breakout_id}: the write-up will say {count} people joined the call."
            if count is not None
            else f"Breakout {breakout_id}: attendance will be counted from the groups and the chat."
        )

    def mark(self, breakout_id: int, *, line: int, highlight: bool | None = None, exclude: bool | None = None) -> str:
        """Highlight, exclude or restore one chat message, by the line it starts on in the file."""
        with self.core.db.transaction() as s:
            self._breakout(s, breakout_id)
            entry = s.scalar(select(ChatEntry).where(ChatEntry.breakout_id == breakout_id, ChatEntry.line == line))
            if entry is None:
                raise NotFound(
                    f"No chat message of breakout {breakout_id} starts on line {line} of the file "
                    "(see: breakout-bot chat BREAKOUT list)."
                )
            if highlight is not None:
                entry.highlighted = highlight
            if exclude is not None:
                entry.excluded = exclude
            state = "left out of" if entry.excluded else ("highlighted in" if entry.highlighted else "back in")
            return f"Line {line} ({clean_name(entry.author)}: {entry.text[:40]!r}) is {state} the write-up."

    def messages(self, breakout_id: int) -> list[ChatEntry]:
        with self.core.db.transaction() as s:
            self._breakout(s, breakout_id)
            return list(
                s.scalars(select(ChatEntry).where(ChatEntry.breakout_id == breakout_id).order_by(ChatEntry.position))
            )

    # --- helpers -----------------------------------------------------------------------------------

    def _breakout(self, s: Session, breakout_id: int) -> Breakout:
        breakout = s.get(Breakout, breakout_id)
        if breakout is None:
            raise NotFound(f"There is no breakout {breakout_id}. See: breakout-bot breakouts")
        return breakout

    def _find(self, actor: Actor, *, breakout_id: int | None, channel_id: str | None) -> int:
        from bot.services.summarise import Summaries

        return Summaries(self.core).find(actor, breakout_id=breakout_id, channel_id=channel_id)


def describe_level(level: Level) -> str:
    return {
        Level.FULL_NAME: "their full name",
        Level.FIRST_NAME: "their first name",
        Level.INITIALS: "their initials",
        Level.ANONYMOUS: "an anonymous participant",
        Level.NOT_QUOTED: "nobody: their words are left out",
    }[level]


# --- the pack sections, for the summary builder ------------------------------------------------------------


def load_chat(s: Session, breakout_id: int) -> list[ChatRow]:
    """The chat messages still in the write-up, in the order they were sent."""
    rows = s.scalars(
        select(ChatEntry)
        .where(ChatEntry.breakout_id == breakout_id, ChatEntry.excluded.is_(False))
        .order_by(ChatEntry.position)
    )
    return [ChatRow(str(e.person_id), e.text, e.sent_at, e.line, e.highlighted, e.person_id) for e in rows]


@dataclass(frozen=True)
class ChatSections:
    hellos: tuple[ChatLine, ...]
    chat: tuple[ChatLine, ...]
    resources: tuple[Resource, ...]


def _as_markup(text: str) -> str:
    """Plain chat text in the neutral markup QuoteText reads (only & < > are special)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def chat_sections(
    rows: Sequence[ChatRow],
    labels: dict[str, str | None],
    texts: QuoteText,
    *,
    highlights_only: bool = False,
    hellos: int = 3,
    min_words: int = 20,
) -> ChatSections:
    """Hellos, reflections and links from the chat, every author by their label and every name in a text
    rewritten by its owner's consent."""
    label: Callable[[str], str | None] = labels.get
    rewrite: Callable[[str], str] = lambda t: texts.render(_as_markup(t))[0]  # noqa: E731
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
    chat = tuple(ChatLine(name, rewrite(r.text)) for r in chosen if (name := label(r.author)) is not None)
    resources = collect_resources(rows, label, rewrite=rewrite)
    return ChatSections(picked_hellos, chat, resources)


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


def chat_people(s: Session, breakout_id: int) -> set[int]:
    """Everyone who wrote in the call's chat, messages left out of the write-up included."""
    return set(s.scalars(select(ChatEntry.person_id).where(ChatEntry.breakout_id == breakout_id).distinct()))


def has_chat(s: Session, breakout_id: int) -> bool:
    return s.scalar(select(ChatImport.id).where(ChatImport.breakout_id == breakout_id)) is not None


def chat_attendance(member_ids: Sequence[int], chat_person_ids: Sequence[int]) -> int:
    """Distinct people seen in the groups or the chat (chat authors are people already, so ids suffice)."""
    return distinct_people([str(i) for i in [*member_ids, *chat_person_ids]])
