"""Capture costs at most three round trips to the database per message (one read, one INSERT, the
commit), and stays right when a deletion lands between the INSERT and its commit. Counted with
SQLAlchemy's engine events on this thread (the breakout's clock runs on others). On SQLite, and on
PostgreSQL when it is configured."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from bot.services.capture import Captured
from tests.conftest import PROMPTS
from tests.core.harness import WORKSPACE, Call, prompts_copy

from .test_capture_and_consent import SLOW


@pytest.fixture
def call(database_url, tmp_path):
    c = Call(database_url, prompts_copy(tmp_path, PROMPTS, {"slow": SLOW}), time_scale=0.02, people=6)
    c.facilitator_types("start slow")
    yield c
    c.close()


@dataclasses.dataclass
class RoundTrips:
    statements: list[str] = dataclasses.field(default_factory=list)
    commits: int = 0

    @property
    def total(self) -> int:
        return len(self.statements) + self.commits


@contextmanager
def counted(engine: sa.Engine) -> Iterator[RoundTrips]:
    """The statements and commits this thread sends while the block runs."""
    seen = RoundTrips()
    me = threading.get_ident()

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.get_ident() == me:
            seen.statements.append(statement.split(None, 1)[0].upper())

    def on_commit(_conn: Any) -> None:
        if threading.get_ident() == me:
            seen.commits += 1

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_commit)


def say(call: Call, first: str, message_id: str, text: str, **author_changes: str) -> Captured:
    author = dataclasses.replace(call.person(first), **author_changes)
    return call.app.capture.message_posted(
        workspace=WORKSPACE,
        channel_id=call.channel_of(first),
        message_id=message_id,
        author=author,
        text=text,
        sent_at=dt.datetime.now(dt.UTC),
    )


def quotes(call: Call) -> list[str]:
    with call.app.db.transaction() as s:
        return list(s.execute(sa.text("select text from quotes order by id")).scalars())


def test_a_message_from_a_known_person_costs_one_read_one_insert_and_the_commit(call):
    engine = call.app.db.engine
    with counted(engine) as first:
        captured = say(call, "Matthew", "1.1", "My first thought")
    assert captured.quote_id is not None and captured.ask_consent
    with counted(engine) as second:
        again = say(call, "Matthew", "1.2", "And a second one")
    assert again.quote_id is not None and not again.ask_consent and not again.duplicate
    assert second.statements == ["SELECT", "INSERT"] and second.commits == 1
    # Asking for consent happens on the platform, not in the database: the first message costs the same.
    assert first.total <= 3 and second.total <= 3
    assert quotes(call) == ["My first thought", "And a second one"]


def test_a_duplicate_delivery_costs_one_read_and_is_reported(call):
    stored = say(call, "Matthew", "2.1", "Said once")
    with counted(call.app.db.engine) as trips:
        again = say(call, "Matthew", "2.1", "Said once")
    assert again.duplicate and again.quote_id == stored.quote_id
    assert trips.statements == ["SELECT"] and trips.total <= 2
    assert quotes(call) == ["Said once"]


def test_a_renamed_person_costs_one_statement_more_and_keeps_the_new_name(call):
    say(call, "Paul", "3.1", "Before the rename")
    with counted(call.app.db.engine) as trips:
        captured = say(call, "Paul", "3.2", "After the rename", display_name="Pablo")
    assert captured.quote_id is not None
    assert trips.statements == ["SELECT", "UPDATE", "INSERT"] and trips.commits == 1
    with call.app.db.transaction() as s:
        names = s.execute(sa.text("select full_name, display_name from people where user_id = :u"), {"u": "U003"}).one()
    assert tuple(names) == ("Paul Brennan", "Pablo")


def test_a_deletion_between_the_insert_and_its_commit_still_removes_the_quote(call):
    """The deletion's own look for the quote cannot see one not yet committed: it must wait for the
    commit (PostgreSQL: the message's advisory lock; SQLite: the one writer), then remove it."""
    engine = call.app.db.engine
    me = threading.get_ident()
    deleter: list[threading.Thread] = []
    removed: list[bool] = []

    def delete() -> None:
        removed.append(
            call.app.capture.message_deleted(
                workspace=WORKSPACE, channel_id=call.channel_of("Saskia"), message_id="4.1"
            )
        )

    def before_commit(_conn: Any) -> None:
        if threading.get_ident() == me and not deleter:
            deleter.append(threading.Thread(target=delete))
            deleter[0].start()
            time.sleep(0.3)  # time for a deletion that does not wait to run its course

    event.listen(engine, "commit", before_commit)
    try:
        say(call, "Saskia", "4.1", "Deleted as it was stored")
    finally:
        event.remove(engine, "commit", before_commit)
    deleter[0].join(30)
    assert removed == [True]
    assert quotes(call) == []
    # And the message delivered again is never stored.
    assert say(call, "Saskia", "4.1", "Deleted as it was stored").quote_id is None
    assert quotes(call) == []


def test_a_deletion_committed_before_the_insert_stores_nothing(call):
    """The read saw no deletion, but one committed before the INSERT: the INSERT itself checks."""
    engine = call.app.db.engine
    me = threading.get_ident()
    done: list[bool] = []

    def before_insert(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.get_ident() == me and statement.lstrip().upper().startswith("INSERT INTO QUOTES") and not done:
            done.append(True)
            # Another process handles the deletion now. On PostgreSQL it waits for this capture's commit
            # (the message's lock), so it runs on its own thread; on SQLite it finishes first.
            thread = threading.Thread(
                target=call.app.capture.message_deleted,
                kwargs={"workspace": WORKSPACE, "channel_id": call.channel_of("Bob"), "message_id": "5.1"},
            )
            thread.start()
            thread.join(0.5 if engine.dialect.name == "postgresql" else 30)
            threads.append(thread)

    threads: list[threading.Thread] = []
    event.listen(engine, "before_cursor_execute", before_insert)
    try:
        say(call, "Bob", "5.1", "Deleted before the insert")
    finally:
        event.remove(engine, "before_cursor_execute", before_insert)
    for thread in threads:
        thread.join(30)
    assert done and quotes(call) == []
