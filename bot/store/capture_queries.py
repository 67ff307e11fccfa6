"""Capture's statements: one read that gathers every fact a new message needs, and one guarded INSERT.

A message from a known person in a running group's channel costs these two statements and the commit.
Nothing is cached between messages: every fact is read afresh in the one round trip, so a breakout
stopped, a channel reused or a person forgotten by another process is seen at once. The statements are
built once, here, so each message pays neither for building them nor for compiling them again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    exists,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, aliased

from bot.domain.timeline import OPEN_KEY_LIKE
from bot.store.models import (
    Breakout,
    ConsentRecord,
    DeletedMessage,
    Forgotten,
    Group,
    Membership,
    Person,
    Post,
    Quote,
    UTCDateTime,
)
from bot.store.personal import tombstone_key

# The first key of PostgreSQL's two-key advisory locks taken per message key. That key space does not
# overlap the one-key space the scheduler's leadership and the migrations lock in.
MESSAGE_LOCK_CLASS = 0x0B0C


@dataclass(frozen=True)
class MessageFacts:
    """What the database knows about a new message, its channel and its author, read in one statement."""

    existing_quote_id: int | None
    existing_breakout_id: int | None
    deleted: bool
    forgotten_at: dt.datetime | None
    breakout_id: int | None
    breakout_question: int | None
    breakout_started_at: dt.datetime | None
    group_id: int | None
    person_id: int | None
    full_name: str | None
    first_name: str | None
    display_name: str | None
    member_group_id: int | None
    member_role: str | None
    chose: bool  # chose how to be named in this breakout
    spoke_before: bool  # has a quote in this breakout already
    thread_post_question: int | None
    thread_parent_found: bool
    thread_parent_question: int | None
    opened_by_then: int | None  # the latest question opened in the group by the message's time
    opened_first: int | None  # the first question opened in the group at all
    breakout_state: str | None = None  # prepared breakouts have not begun: nothing is quoted yet

    def question(self, *, in_thread: bool) -> int | None:
        """A thread reply belongs to the question it answers; a top-level message to the one open then."""
        if in_thread:
            if self.thread_post_question is not None:
                return self.thread_post_question
            if self.thread_parent_found:
                return self.thread_parent_question
        if self.opened_by_then is not None:
            return self.opened_by_then
        if self.opened_first is not None:
            return self.opened_first
        return self.breakout_question


def _read_statement(*, lock: bool) -> Any:
    workspace = bindparam("workspace", type_=String)
    channel_id = bindparam("channel_id", type_=String)
    user_id = bindparam("user_id", type_=String)
    key = bindparam("message_key", type_=String)
    # The newest breakout not stopped that uses the channel, as its home or as a group's channel
    # (group channels are reused across sessions): as ``repository.breakout_for_channel``.
    breakout = (
        select(Breakout.id, Breakout.question_index, Breakout.started_at, Breakout.state)
        .outerjoin(Group, Group.breakout_id == Breakout.id)
        .where(
            Breakout.workspace == workspace,
            or_(Breakout.home_channel == channel_id, Group.channel_id == channel_id),
            Breakout.state != "stopped",
        )
        .order_by(Breakout.id.desc())
        .limit(1)
        .subquery("b")
    )
    existing = aliased(Quote, name="existing")
    parent = aliased(Quote, name="parent")
    anchor = select(literal_column("1").label("one")).subquery("anchor")
    opened = (
        Post.breakout_id == breakout.c.id,
        Post.group_number == Group.number,
        Post.step.like(OPEN_KEY_LIKE),
    )
    parent_key = bindparam("parent_key", type_=String)
    statement = select(
        existing.id,
        existing.breakout_id,
        exists().where(DeletedMessage.message_key == key).label("deleted"),
        select(func.max(Forgotten.forgotten_at))
        .where(
            Forgotten.workspace == workspace,
            Forgotten.user_id.in_([bindparam("tombstone", type_=String), user_id]),
        )
        .scalar_subquery()
        .label("forgotten_at"),
        breakout.c.id,
        breakout.c.question_index,
        breakout.c.started_at,
        Group.id,
        Person.id,
        Person.full_name,
        Person.first_name,
        Person.display_name,
        Membership.group_id,
        Membership.role,
        exists().where(ConsentRecord.breakout_id == breakout.c.id, ConsentRecord.person_id == Person.id).label("chose"),
        exists().where(Quote.breakout_id == breakout.c.id, Quote.person_id == Person.id).label("spoke_before"),
        select(Post.question_index)
        .where(
            Post.breakout_id == breakout.c.id,
            Post.message_id == bindparam("thread_id", type_=String),
            Post.question_index.is_not(None),
        )
        .limit(1)
        .scalar_subquery()
        .label("thread_post_question"),
        exists().where(parent.message_key == parent_key).label("thread_parent_found"),
        select(parent.question_index)
        .where(parent.message_key == parent_key)
        .limit(1)
        .scalar_subquery()
        .label("thread_parent_question"),
        select(func.max(func.coalesce(Post.question_index, 0)))
        .where(*opened, Post.posted_at <= bindparam("opened_by", type_=UTCDateTime))
        .scalar_subquery()
        .label("opened_by_then"),
        select(func.min(func.coalesce(Post.question_index, 0))).where(*opened).scalar_subquery().label("opened_first"),
        breakout.c.state,
    ).select_from(
        anchor.outerjoin(existing, existing.message_key == key)
        .outerjoin(breakout, true())
        .outerjoin(Group, and_(Group.breakout_id == breakout.c.id, Group.channel_id == channel_id))
        .outerjoin(Person, and_(Person.workspace == workspace, Person.user_id == user_id))
        .outerjoin(Membership, and_(Membership.breakout_id == breakout.c.id, Membership.person_id == Person.id))
    )
    if lock:
        # Held until the commit: a deletion of this message (which takes the same lock) waits for the
        # quote to be committed, or the quote's INSERT, a statement later, sees the deletion's mark.
        statement = statement.add_columns(
            func.pg_advisory_xact_lock(MESSAGE_LOCK_CLASS, func.hashtext(key)).label("locked")
        )
    return statement


_READ = {False: _read_statement(lock=False), True: _read_statement(lock=True)}

# The quote, unless the message was deleted meanwhile (then no row, and no id comes back). A second
# delivery of the same message fails on the unique key of ``message_key``.
_INSERT_QUOTE = (
    insert(Quote)
    .from_select(
        [
            Quote.breakout_id,
            Quote.group_id,
            Quote.person_id,
            Quote.question_index,
            Quote.message_key,
            Quote.text,
            Quote.sent_at,
            Quote.edited_at,
            Quote.highlighted,
            Quote.excluded,
        ],
        select(
            bindparam("q_breakout_id", type_=Integer),
            bindparam("q_group_id", type_=Integer),
            bindparam("q_person_id", type_=Integer),
            bindparam("q_question_index", type_=Integer),
            bindparam("q_message_key", type_=String),
            bindparam("q_text", type_=Text),
            bindparam("q_sent_at", type_=UTCDateTime),
            bindparam("q_edited_at", type_=UTCDateTime),
            false().cast(Boolean),
            false().cast(Boolean),
        ).where(~exists().where(DeletedMessage.message_key == bindparam("q_message_key", type_=String))),
    )
    .returning(Quote.id)
)


def _locks(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def read_message_facts(
    session: Session,
    *,
    workspace: str,
    channel_id: str,
    user_id: str,
    message_key: str,
    sent_at: dt.datetime,
    thread_id: str | None,
    parent_key: str | None,
) -> MessageFacts:
    """Everything capture decides on, in one round trip (on PostgreSQL, also the message's lock)."""
    row = (
        session.connection()
        .execute(
            _READ[_locks(session)],
            {
                "workspace": workspace,
                "channel_id": channel_id,
                "user_id": user_id,
                "tombstone": tombstone_key(user_id),
                "message_key": message_key,
                "thread_id": thread_id,
                "parent_key": parent_key,
                # As before: a message sent within a second of a question's post answers that question.
                "opened_by": sent_at + dt.timedelta(seconds=1),
            },
        )
        .first()
    )
    assert row is not None, "the read has one row whatever it finds"
    return MessageFacts(
        existing_quote_id=row[0],
        existing_breakout_id=row[1],
        deleted=bool(row[2]),
        forgotten_at=row[3],
        breakout_id=row[4],
        breakout_question=row[5],
        breakout_started_at=row[6],
        group_id=row[7],
        person_id=row[8],
        full_name=row[9],
        first_name=row[10],
        display_name=row[11],
        member_group_id=row[12],
        member_role=row[13],
        chose=bool(row[14]),
        spoke_before=bool(row[15]),
        thread_post_question=row[16],
        thread_parent_found=bool(row[17]),
        thread_parent_question=row[18],
        opened_by_then=row[19],
        opened_first=row[20],
        breakout_state=row[21],
    )


def lock_message(session: Session, *, message_key: str) -> None:
    """On PostgreSQL, the lock the capture of this message holds until its commit (a deletion takes it
    first). SQLite needs none: it lets one writer at a time, and the INSERT checks for the deletion."""
    if _locks(session):
        session.connection().execute(
            select(func.pg_advisory_xact_lock(MESSAGE_LOCK_CLASS, func.hashtext(bindparam("key", type_=String)))),
            {"key": message_key},
        )


def insert_quote(
    session: Session,
    *,
    breakout_id: int,
    group_id: int,
    person_id: int,
    question_index: int | None,
    message_key: str,
    text: str,
    sent_at: dt.datetime,
    edited_at: dt.datetime | None,
) -> int | None:
    """The new quote's id, or None when the message was deleted before the INSERT. Raises
    ``IntegrityError`` for a message already stored, or a person, group or breakout gone meanwhile."""
    return (
        session.connection()
        .execute(
            _INSERT_QUOTE,
            {
                "q_breakout_id": breakout_id,
                "q_group_id": group_id,
                "q_person_id": person_id,
                "q_question_index": question_index,
                "q_message_key": message_key,
                "q_text": text,
                "q_sent_at": sent_at,
                "q_edited_at": edited_at,
            },
        )
        .scalar()
    )


def add_person(
    session: Session,
    *,
    workspace: str,
    user_id: str,
    full_name: str,
    first_name: str | None,
    display_name: str | None,
) -> int:
    """A person seen for the first time. Raises ``IntegrityError`` if another process added them meanwhile."""
    return (
        session.connection()
        .execute(
            insert(Person)
            .values(
                workspace=workspace,
                user_id=user_id,
                full_name=full_name or user_id,
                first_name=first_name,
                display_name=display_name,
                is_bot=False,
            )
            .returning(Person.id)
        )
        .scalar_one()
    )


def rename_person(
    session: Session, *, person_id: int, full_name: str, first_name: str | None, display_name: str | None
) -> None:
    session.connection().execute(
        update(Person)
        .where(Person.id == person_id)
        .values(full_name=full_name, first_name=first_name, display_name=display_name)
    )


def existing_quote(session: Session, *, message_key: str) -> tuple[int, int] | None:
    """The id and breakout of the quote already stored for a message, if there is one."""
    row = session.execute(select(Quote.id, Quote.breakout_id).where(Quote.message_key == message_key)).first()
    return None if row is None else (row[0], row[1])


def rejoin(session: Session, *, breakout_id: int, person_id: int, group_id: int) -> None:
    """A forgotten person who speaks again in a group's channel takes part again, there."""
    session.connection().execute(
        insert(Membership).values(breakout_id=breakout_id, person_id=person_id, group_id=group_id, role="participant")
    )
