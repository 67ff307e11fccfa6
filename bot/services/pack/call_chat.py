"""The video call's own chat: importing it, naming its authors, and curating it for the write-up.

The bot never saw the call's chat; an organiser hands over Zoom's export. Import is all-or-nothing: the
file is read and checked completely before the database is touched, and stored in one transaction that
replaces any earlier import for the breakout. Direct messages never get this far (the parser drops them).
Consent stays in ``consents`` and is applied at build time, like every other quote.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.domain.consent import Level
from bot.domain.naming import clean_name
from bot.domain.zoom_chat import DEFAULT_MAX_BYTES, ZoomChatError, parse_zoom_chat, size_text
from bot.services.access import require_organiser
from bot.services.context import Actor, Core
from bot.services.errors import BadArguments, NotAllowed, NotFound
from bot.services.locator import Purpose, locate_breakout_id
from bot.services.pack.authors import ORGANISER_VIA, authors_as_people, chat_workspace, is_chat_only, name_key
from bot.store import call_chat as queries
from bot.store import repository as repo
from bot.store.models import Breakout, ChatEntry, ChatImport, ConsentRecord, Person

NOTHING_IMPORTED = "Nothing was imported."
#: How many chat authors a "nobody called X" answer lists.
AUTHORS_SHOWN = 20


class CallChatRefused(BadArguments):
    """The file is not a chat export we can read; nothing was imported."""


@dataclass(frozen=True)
class CallChatFile:
    """A chat export a person handed over, not fetched yet: its name and size as the platform lists them,
    and how to fetch its bytes. ``fetch`` is called only once the permission and size checks pass."""

    name: str
    size: int
    fetch: Callable[[], bytes | str]

    @classmethod
    def holding(cls, name: str, data: bytes | str) -> CallChatFile:
        """A file whose bytes are in hand already (the command line, tests)."""
        size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else len(data)
        return cls(name, size, lambda: data)


@dataclass(frozen=True)
class CallChatImported:
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

    def describe(self, *, in_chat: bool = False) -> str:
        """What was imported, for the organiser; ``in_chat`` adds what it means for ``/summary``."""
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
        if in_chat:
            parts.append("/summary now includes the chat.")
        return " ".join(parts)


@dataclass(frozen=True)
class CallChatAuthor:
    name: str
    messages: int
    level: Level
    chosen_by: str | None  # "themselves", "organiser", or None: the plan's default
    member: bool


class CallChat:
    def __init__(self, core: Core, *, max_bytes: int = DEFAULT_MAX_BYTES):
        self.core = core
        self.max_bytes = max_bytes

    # --- import ----------------------------------------------------------------------------------

    def import_chat(
        self,
        actor: Actor,
        *,
        find_file: Callable[[], CallChatFile],
        breakout_id: int | None = None,
        channel_id: str | None = None,
        attendance: int | None = None,
    ) -> CallChatImported:
        """``/summary import`` on any platform: organisers only, into the breakout meant here.

        ``find_file`` is the platform's part: it finds the file the organiser handed over (raising
        ``BadArguments`` with what to do when there is none) and is asked only after the permission check,
        so a refused person costs the platform nothing."""
        require_organiser(actor, "import the call's chat")
        target = self._find(actor, breakout_id=breakout_id, channel_id=channel_id)
        return self.import_file(target, find_file(), imported_by=actor.person.user_id, attendance=attendance)

    def import_file(
        self, breakout_id: int, file: CallChatFile, *, imported_by: str, attendance: int | None = None
    ) -> CallChatImported:
        """The size is checked from what the platform says before a byte is fetched, and again after."""
        if file.size > self.max_bytes:
            raise self._too_big(file.name, file.size)
        data = file.fetch()
        if isinstance(data, bytes) and len(data) > self.max_bytes:  # the platform under-stated its size
            raise self._too_big(file.name)
        return self.import_into(breakout_id, data, filename=file.name, imported_by=imported_by, attendance=attendance)

    def _too_big(self, filename: str, size: int | None = None) -> CallChatRefused:
        stated = f"is {size_text(size)}, larger than" if size is not None else "is larger than"
        return CallChatRefused(
            f"{filename}: the file {stated} the {size_text(self.max_bytes)} limit for a chat export. {NOTHING_IMPORTED}"
        )

    def import_into(
        self, breakout_id: int, data: bytes | str, *, filename: str, imported_by: str, attendance: int | None = None
    ) -> CallChatImported:
        """``imported_by`` is who did it as an id (a platform user id, or 'command line'), never a name:
        the organiser's name is personal data like anyone else's."""
        if attendance is not None and attendance < 0:
            raise BadArguments("Attendance is a number of people: 0 or more.")
        try:
            chat = parse_zoom_chat(data, max_bytes=self.max_bytes)
        except ZoomChatError as error:
            raise CallChatRefused(f"{filename}: {error}. {NOTHING_IMPORTED}") from None
        if not chat.messages:
            raise CallChatRefused(
                f"{filename}: there are no messages to everyone in this chat"
                f"{' (only direct messages, which are never imported)' if chat.direct_messages_dropped else ''}. "
                + NOTHING_IMPORTED
            )
        with self.core.db.transaction() as s:
            breakout = self._breakout(s, breakout_id)
            default_level = Level(breakout.plan["naming"]["default"])
            old = queries.current_import(s, breakout_id=breakout_id)
            marks = queries.remove_import(s, old) if old is not None else {}
            people, members = authors_as_people(s, breakout, [m.author for m in chat.messages])
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
                highlighted, excluded = marks.get((person_id, m.text), (False, False))
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
            queries.drop_unheard(s, breakout_id=breakout.id, chat_workspace=chat_workspace(breakout.workspace))
        return CallChatImported(
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

    # --- naming ----------------------------------------------------------------------------------

    def authors(self, breakout_id: int) -> list[CallChatAuthor]:
        with self.core.db.transaction() as s:
            breakout = self._breakout(s, breakout_id)
            default = Level(breakout.plan["naming"]["default"])
            consents = repo.latest_consents(s, breakout_id=breakout_id)
            member_ids = {p.id for _, p in repo.members(s, breakout_id=breakout_id)}
            counts: dict[int, int] = {}
            for e in queries.entries(s, breakout_id=breakout_id):
                counts[e.person_id] = counts.get(e.person_id, 0) + 1
            out = []
            for person_id, n in counts.items():
                person = s.get(Person, person_id)
                assert person is not None  # a chat message's author is deleted with it
                record = consents.get(person_id)
                chosen = None if record is None else (ORGANISER_VIA if record.via == ORGANISER_VIA else "themselves")
                out.append(
                    CallChatAuthor(
                        person.preferred_name or person.full_name,
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
            candidates = {
                e.person_id: e.author for e in queries.entries(s, breakout_id=breakout_id) if name_key(e.author) == key
            }
            if not candidates:
                known = sorted({clean_name(a) for a in queries.author_names(s, breakout_id=breakout_id)})
                hint = (
                    f" Chat authors: {', '.join(known[:AUTHORS_SHOWN])}{'…' if len(known) > AUTHORS_SHOWN else ''}."
                    if known
                    else " No chat is imported yet: breakout-bot import-chat first."
                )
                raise NotFound(f"Nobody called '{name}' wrote in breakout {breakout_id}'s chat.{hint}")
            (person_id,) = candidates
            name = candidates[person_id]  # as the chat spells it, not as typed here
            own = [
                r
                for r in queries.consent_records(s, breakout_id=breakout_id, person_id=person_id)
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
            ids = {e.person_id for e in queries.entries(s, breakout_id=breakout_id) if name_key(e.author) == key}
            if not ids:
                raise NotFound(f"Nobody called '{name}' wrote in breakout {breakout_id}'s chat.")
            person = s.get(Person, next(iter(ids)))
            assert person is not None
            if not is_chat_only(person):
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
            entry = queries.entry_on_line(s, breakout_id=breakout_id, line=line)
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
            return queries.entries(s, breakout_id=breakout_id)

    # --- which breakout ----------------------------------------------------------------------------

    def _breakout(self, s: Session, breakout_id: int) -> Breakout:
        breakout = s.get(Breakout, breakout_id)
        if breakout is None:
            raise NotFound(f"There is no breakout {breakout_id}. See: breakout-bot breakouts")
        return breakout

    def _find(self, actor: Actor, *, breakout_id: int | None, channel_id: str | None) -> int:
        """The chat belongs with the write-up, so the breakout meant is the one ``/summary`` would pick."""
        return locate_breakout_id(
            self.core, actor, purpose=Purpose.SUMMARY, breakout_id=breakout_id, channel_id=channel_id
        )


def describe_level(level: Level) -> str:
    return {
        Level.FULL_NAME: "their full name",
        Level.FIRST_NAME: "their first name",
        Level.INITIALS: "their initials",
        Level.ANONYMOUS: "an anonymous participant",
        Level.NOT_QUOTED: "nobody: their words are left out",
    }[level]
