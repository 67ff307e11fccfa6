"""Queries about the video call's own chat (an imported Zoom export). Each takes the caller's session.

The tables keep their first names (``chat_imports``, ``chat_messages``; models ``ChatImport`` and
``ChatEntry``); here and above they are "the call chat", to tell them from the chat platforms.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.domain.pack import CallChatRow
from bot.store.models import ChatEntry, ChatImport, ConsentRecord, Person

#: What an organiser set on a message (highlighted, excluded), by its author and words: a re-import keeps it.
Marks = dict[tuple[int, str], tuple[bool, bool]]


def current_import(session: Session, *, breakout_id: int) -> ChatImport | None:
    return session.scalar(select(ChatImport).where(ChatImport.breakout_id == breakout_id))


def has_call_chat(session: Session, *, breakout_id: int) -> bool:
    return session.scalar(select(ChatImport.id).where(ChatImport.breakout_id == breakout_id)) is not None


def remove_import(session: Session, chat_import: ChatImport) -> Marks:
    """Delete an import and its messages; the organiser's marks on them come back for the next one."""
    marks: Marks = {}
    for e in session.scalars(select(ChatEntry).where(ChatEntry.import_id == chat_import.id)):
        marks[(e.person_id, e.text)] = (e.highlighted, e.excluded)
    session.execute(delete(ChatEntry).where(ChatEntry.import_id == chat_import.id))
    session.delete(chat_import)
    session.flush()
    return marks


def entries(session: Session, *, breakout_id: int) -> list[ChatEntry]:
    """Every stored message of the breakout's call chat, in the file's order."""
    return list(
        session.scalars(select(ChatEntry).where(ChatEntry.breakout_id == breakout_id).order_by(ChatEntry.position))
    )


def entry_on_line(session: Session, *, breakout_id: int, line: int) -> ChatEntry | None:
    return session.scalar(select(ChatEntry).where(ChatEntry.breakout_id == breakout_id, ChatEntry.line == line))


def author_names(session: Session, *, breakout_id: int) -> list[str]:
    """The authors as the file spells them, once each."""
    return list(session.scalars(select(ChatEntry.author).where(ChatEntry.breakout_id == breakout_id).distinct()))


def authors(session: Session, *, breakout_id: int) -> set[int]:
    """Everyone who wrote in the call's chat (person ids), messages left out of the write-up included."""
    return set(session.scalars(select(ChatEntry.person_id).where(ChatEntry.breakout_id == breakout_id).distinct()))


def rows_in_write_up(session: Session, *, breakout_id: int) -> list[CallChatRow]:
    """The chat messages still in the write-up, in the order they were sent."""
    rows = session.scalars(
        select(ChatEntry)
        .where(ChatEntry.breakout_id == breakout_id, ChatEntry.excluded.is_(False))
        .order_by(ChatEntry.position)
    )
    return [CallChatRow(str(e.person_id), e.text, e.sent_at, e.line, e.highlighted, e.person_id) for e in rows]


def consent_records(session: Session, *, breakout_id: int, person_id: int) -> list[ConsentRecord]:
    return list(
        session.scalars(
            select(ConsentRecord).where(ConsentRecord.breakout_id == breakout_id, ConsentRecord.person_id == person_id)
        )
    )


def drop_unheard(session: Session, *, breakout_id: int, chat_workspace: str) -> None:
    """Chat-only people (of ``chat_workspace``) exist only because of a chat: once no imported chat holds a
    message of theirs, their name and naming choices go too. Their choice for this breakout goes as soon
    as this breakout's chat no longer has them."""
    heard = select(ChatEntry.person_id).where(ChatEntry.person_id == Person.id)
    gone = list(session.scalars(select(Person.id).where(Person.workspace == chat_workspace, ~heard.exists())))
    if gone:
        session.execute(delete(ConsentRecord).where(ConsentRecord.person_id.in_(gone)))
        session.execute(delete(Person).where(Person.id.in_(gone)))
    here = select(ChatEntry.id).where(ChatEntry.breakout_id == breakout_id, ChatEntry.person_id == Person.id)
    absent = select(Person.id).where(Person.workspace == chat_workspace, ~here.exists())
    session.execute(
        delete(ConsentRecord).where(ConsentRecord.breakout_id == breakout_id, ConsentRecord.person_id.in_(absent))
    )
