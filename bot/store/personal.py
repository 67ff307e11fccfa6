"""Where a person's id, name and words can be stored, and the two walks over them: forget and export.

This is the data map (GDPR Art. 30's record of what is held): every text column of the models is either
listed in ``PERSONAL`` with what it can hold, or in ``NOT_PERSONAL`` with why it can't hold a person.
"Forget me" (Art. 17) and "my data" (Art. 15 and 20) both walk this map, so they can't drift apart, and
tests/core/test_personal_data.py fails when a column of the models is in neither.

Rows with a foreign key to ``people`` belong to that person: forget deletes them, export hands them over
whole. A personal column of any other row is scrubbed by forget (an id becomes ``FORGOTTEN``; words lose the
person's names, mentions and id) and, by export, handed over whole when the row belongs to nobody (a
breakout they started) or only counted when it belongs to someone else (their words are theirs).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import Column, ColumnElement, Select, Table, delete, or_, select, update
from sqlalchemy.orm import Session

from bot.domain.naming import FORGOTTEN, scrub_person
from bot.store.models import Base, Breakout, ChatEntry, Forgotten, Person

SCRUBBED = "scrubbed"  # forget's count of values in other rows that it rewrote


class Holds(StrEnum):
    """What a column can hold of a person."""

    ID = "id"  # a platform user id, whole
    NAME = "name"  # a name, whole
    WORDS = "words"  # free text: someone's words, which may name or mention anyone


PERSONAL: dict[str, Holds] = {
    "people.user_id": Holds.ID,
    "people.full_name": Holds.NAME,
    "people.first_name": Holds.NAME,
    "people.display_name": Holds.NAME,
    "people.preferred_name": Holds.NAME,
    "breakouts.started_by": Holds.ID,
    "groups.channel_error": Holds.WORDS,  # the platform's error text, which may quote an id
    "consents.wording": Holds.WORDS,  # an organiser's record names the organiser by id
    "quotes.text": Holds.WORDS,
    "posts.error": Holds.WORDS,
    "chat_imports.filename": Holds.WORDS,  # the organiser named the file
    "chat_imports.imported_by": Holds.ID,
    "chat_messages.author": Holds.NAME,
    "chat_messages.text": Holds.WORDS,
    "chat_messages.reply_to": Holds.WORDS,  # a snippet of the message answered: someone else's words
}

NOT_PERSONAL: dict[str, str] = {
    "people.workspace": "the Slack workspace or Discord server, shared by everyone in it",
    "breakouts.workspace": "the Slack workspace or Discord server",
    "breakouts.home_channel": "a channel id",
    "breakouts.call_channel_id": "the call's voice channel id",
    "breakouts.active_key": "workspace and channel of a running breakout",
    "breakouts.plan_slug": "the plan's file name",
    "breakouts.plan": "the organiser's plan as written in prompts/: questions, timing, message texts",
    "breakouts.title": "the plan's title",
    "breakouts.series": "the plan's series",
    "breakouts.state": "running, paused or stopped",
    "groups.name": "a channel name made from the plan and the group's number",
    "groups.channel_id": "a channel id",
    "memberships.role": "participant or facilitator (the row is the person's and goes with them)",
    "consents.level": "a naming level (the row is the person's and goes with them)",
    "consents.via": "button, command, prompt or organiser",
    "quotes.message_key": "workspace, channel and message ids",
    "forgotten_people.workspace": "the Slack workspace or Discord server",
    "forgotten_people.user_id": "a one-way hash of the forgotten person's id (tombstone_key), never the id",
    "deleted_messages.message_key": "workspace, channel and message ids",
    "handled_requests.id": "a workspace id and a request's opaque trigger_id (no user id), kept 10 minutes",
    "posts.step": "a step of the timeline",
    "posts.channel_id": "a channel id",
    "posts.message_id": "a message id",
    "posts.state": "claimed, sent or failed",
    "chat_imports.format": "the chat export's format",
    "chat_imports.language": "the chat export's language",
}


def tombstone_key(user_id: str) -> str:
    """What ``forgotten_people`` keeps of a forgotten person: enough to recognise their id again, not the id."""
    return hashlib.sha256(user_id.encode("utf-8")).hexdigest()


def owned_tables() -> list[tuple[Table, Column[Any]]]:
    """Every table whose rows belong to one person, with the column that says whose."""
    out = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == Person.__tablename__ for fk in column.foreign_keys):
                out.append((table, column))
    return out


def personal_columns() -> Iterator[tuple[Table, Column[Any], Holds]]:
    for key, holds in PERSONAL.items():
        table_name, column_name = key.split(".")
        table = Base.metadata.tables[table_name]
        yield table, table.columns[column_name], holds


def breakout_column(table: Table) -> Column[Any] | None:
    """The column that says which breakout a row belongs to: a personal column is searched within breakouts."""
    if table.name == Breakout.__tablename__:
        return table.columns["id"]
    return table.columns.get("breakout_id")


class Trace:
    """One person as the store knows them: their row, ids and names, and the breakouts they were part of."""

    def __init__(self, session: Session, *, workspace: str, user_id: str):
        self.session = session
        self.workspace, self.user_id = workspace, user_id
        self.person = session.scalar(select(Person).where(Person.workspace == workspace, Person.user_id == user_id))
        person = self.person
        known = (person.full_name, person.first_name, person.display_name, person.preferred_name) if person else ()
        self.names: list[str] = [n for n in known if n]
        self.workspace_breakouts = select(Breakout.id).where(Breakout.workspace == workspace).scalar_subquery()
        self.breakouts: set[int] = set()
        if self.person is not None:
            for table, column in owned_tables():
                where = breakout_column(table)
                if where is not None:
                    self.breakouts |= set(session.scalars(select(where).where(column == self.person.id)))
        for table, column, holds in personal_columns():
            where = breakout_column(table)
            if holds is Holds.ID and where is not None:
                self.breakouts |= set(session.scalars(select(where).where(*self._ids_in(table, column))))

    def _ids_in(self, table: Table, column: Column[Any]) -> list[ColumnElement[bool]]:
        where = breakout_column(table)
        scope = [where.in_(self.workspace_breakouts)] if where is not None else []
        return [column == self.user_id, *scope]

    def scrub(self, text: str) -> str:
        return scrub_person(text, names=self.names, user_ids=[self.user_id])

    def mentions(self) -> Iterator[Mention]:
        """Every value in a row of someone else (or of nobody) that holds this person, with what forget
        leaves there: walks every personal column, then the chat replies that quote this person's words."""
        for table, column, holds in personal_columns():
            if table.name != Person.__tablename__:
                yield from self._mentions_in(table, column, holds)
        yield from self._replies_quoting_them()

    def _mentions_in(self, table: Table, column: Column[Any], holds: Holds) -> Iterator[Mention]:
        where = breakout_column(table)
        assert where is not None, f"{table.name}.{column.name} holds people but belongs to no breakout"
        if holds is Holds.ID:
            query = select(table).where(*self._ids_in(table, column))
        else:
            # Names are not unique, so they are looked for only where this person took part; an id is, so
            # a mention of it is looked for in every breakout of the workspace.
            conditions: list[ColumnElement[bool]] = [
                column.contains(self.user_id, autoescape=True) & where.in_(self.workspace_breakouts)
            ]
            if self.breakouts:
                conditions.append(where.in_(self.breakouts))
            query = select(table).where(column.is_not(None), or_(*conditions))
        query = self._not_their_own(table, query)
        (pk,) = table.primary_key.columns
        for row in self.session.execute(query):
            value = row._mapping[column]
            if holds is Holds.ID:
                yield Mention(table, column, row._mapping[pk], row, FORGOTTEN)
            elif holds is Holds.NAME:
                if any(value.strip().casefold() == n.strip().casefold() for n in self.names):
                    yield Mention(table, column, row._mapping[pk], row, FORGOTTEN)
            elif (scrubbed := self.scrub(value)) != value:
                yield Mention(table, column, row._mapping[pk], row, scrubbed)

    def _replies_quoting_them(self) -> Iterator[Mention]:
        """Others' chat replies keep a snippet of the message they answer ('Replying to "..."'): when that
        message is this person's, the snippet is their words, so it goes."""
        if self.person is None:
            return
        own = list(self.session.scalars(select(ChatEntry).where(ChatEntry.person_id == self.person.id)))
        if not own:
            return
        texts = [e.text for e in own]
        chat = Base.metadata.tables[ChatEntry.__tablename__]
        replies = self.session.execute(
            select(chat).where(
                chat.c.breakout_id.in_({e.breakout_id for e in own}),
                chat.c.person_id != self.person.id,
                chat.c.reply_to.is_not(None),
            )
        )
        for reply in replies:
            snippet = (reply.reply_to or "").strip().strip('"\u201c\u201d').rstrip("\u2026.").strip()
            if snippet and any(snippet in text for text in texts):
                yield Mention(chat, chat.c.reply_to, reply.id, reply, None)

    def _not_their_own(self, table: Table, query: Select[Any]) -> Select[Any]:
        """Their own rows are deleted (or handed over) whole, so they are not mentions."""
        for owner_table, owner in owned_tables():
            if owner_table is table and self.person is not None:
                query = query.where(owner != self.person.id)
        return query


class Mention(NamedTuple):
    table: Table
    column: Column[Any]
    key: Any  # the row's primary key
    row: Any
    replacement: str | None  # what forget leaves in the column


def forget(session: Session, *, workspace: str, user_id: str, forgotten_at: dt.datetime) -> dict[str, int]:
    """Delete every row that is this person's and take them out of every other row; remember only that
    someone with this (hashed) id asked to be forgotten, so their old messages are never captured again.

    Returns the rows deleted per table (``people`` among them), and under ``SCRUBBED`` how many values of
    other rows were rewritten."""
    trace = Trace(session, workspace=workspace, user_id=user_id)
    # Later walks win: a reply quoting their words goes whole even where their name was also scrubbed.
    changes = {(m.table, m.column.name, m.key): m.replacement for m in trace.mentions()}
    counts: dict[str, int] = {}
    if trace.person is not None:
        for table, column in owned_tables():
            result = session.execute(delete(table).where(column == trace.person.id))
            counts[table.name] = counts.get(table.name, 0) + (getattr(result, "rowcount", 0) or 0)
    for (table, column_name, key), replacement in changes.items():
        (pk,) = table.primary_key.columns
        session.execute(update(table).where(pk == key).values({column_name: replacement}))
    counts[SCRUBBED] = len(changes)
    _remember(session, workspace=workspace, user_id=user_id, when=forgotten_at)
    if trace.person is not None:
        session.delete(trace.person)
        counts[Person.__tablename__] = 1
    session.flush()
    return counts


def _remember(session: Session, *, workspace: str, user_id: str, when: dt.datetime) -> None:
    keys = [tombstone_key(user_id), user_id]  # older tombstones kept the id itself: replaced by the hash
    rows = list(session.scalars(select(Forgotten).where(Forgotten.workspace == workspace, Forgotten.user_id.in_(keys))))
    for row in rows[1:]:
        session.delete(row)
    if rows:
        rows[0].user_id, rows[0].forgotten_at = keys[0], when
    else:
        session.add(Forgotten(workspace=workspace, user_id=keys[0], forgotten_at=when))


def forgotten_since(session: Session, *, workspace: str, user_id: str) -> dt.datetime | None:
    """When this person asked to be forgotten, if they did."""
    return session.scalar(
        select(Forgotten.forgotten_at).where(
            Forgotten.workspace == workspace, Forgotten.user_id.in_([tombstone_key(user_id), user_id])
        )
    )


def export(session: Session, *, workspace: str, user_id: str) -> dict[str, Any]:
    """Every row that is this person's, whole; every row of nobody that names them, whole; and how many
    rows of other people hold them (those are the other people's words, so only counted)."""
    trace = Trace(session, workspace=workspace, user_id=user_id)
    held: dict[str, list[dict[str, Any]]] = {}
    if trace.person is not None:
        people = Base.metadata.tables[Person.__tablename__]
        held[people.name] = [_plain_row(session.execute(select(people).where(people.c.id == trace.person.id)).one())]
        for table, column in owned_tables():
            rows = session.execute(select(table).where(column == trace.person.id).order_by(*table.primary_key))
            held.setdefault(table.name, []).extend(_plain_row(r) for r in rows)
    others: dict[str, int] = {}
    owned = {table.name for table, _ in owned_tables()}
    seen: set[tuple[str, Any]] = set()
    for m in trace.mentions():
        if (m.table.name, m.key) in seen:
            continue
        seen.add((m.table.name, m.key))
        if m.table.name in owned:
            others[m.table.name] = others.get(m.table.name, 0) + 1
        else:
            held.setdefault(m.table.name, []).append(_plain_row(m.row))
    return {
        "workspace": workspace,
        "user_id": user_id,
        "held": {name: rows for name, rows in held.items() if rows},
        "named_in_other_peoples_rows": others,
        "asked_to_be_forgotten_at": _plain(forgotten_since(session, workspace=workspace, user_id=user_id)),
    }


def _plain_row(row: Any) -> dict[str, Any]:
    return {name: _plain(value) for name, value in row._asdict().items()}


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return value
