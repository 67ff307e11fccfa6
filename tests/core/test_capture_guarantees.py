"""Capture never resurrects or reorders: deletions hold across restarts and processes, older edits
lose to newer ones, duplicate deletions at the same moment are kept once, and only a group's
members are quoted in its channel. On SQLite, and on PostgreSQL when it is configured."""

from __future__ import annotations

import datetime as dt
import random
import threading

import pytest
import sqlalchemy as sa

from bot.services.app import BreakoutApp
from bot.services.events import IncomingMessage, Kind
from tests.conftest import PROMPTS
from tests.core.harness import WORKSPACE, Call, prompts_copy

from .test_capture_and_consent import SLOW

T0 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def call(database_url, tmp_path):
    c = Call(database_url, prompts_copy(tmp_path, PROMPTS, {"slow": SLOW}), time_scale=0.02, people=6)
    c.facilitator_types("start slow")
    yield c
    c.close()


@pytest.fixture
def other(call):
    """A second process on the same database (its own engine, its own memory)."""
    app = BreakoutApp(call.settings, call.chat, rng=random.Random(9), clock_name=f"{call.clock_name}-other")
    yield app
    app.db.dispose()


def said(call: Call, first: str, message_id: str, text: str, *, edited_at: dt.datetime | None = None):
    return IncomingMessage(
        Kind.NEW,
        WORKSPACE,
        call.channel_of(first),
        message_id,
        author=call.person(first),
        text=text,
        at=dt.datetime.now(dt.UTC),
        edited_at=edited_at,
    )


def edit(call: Call, first: str, message_id: str, text: str, at: dt.datetime) -> IncomingMessage:
    return IncomingMessage(Kind.EDITED, WORKSPACE, call.channel_of(first), message_id, text=text, edited_at=at)


def deletion(call: Call, first: str, message_id: str) -> IncomingMessage:
    return IncomingMessage(Kind.DELETED, WORKSPACE, call.channel_of(first), message_id)


def stored(app: BreakoutApp) -> list[str]:
    with app.db.transaction() as s:
        return list(s.execute(sa.text("select text from quotes order by id")).scalars())


def deletions(app: BreakoutApp) -> int:
    with app.db.transaction() as s:
        return int(s.execute(sa.text("select count(*) from deleted_messages")).scalar() or 0)


def test_a_deletion_holds_on_every_process_and_after_restarts(call, other):
    # Deleted before its message arrived, on one process; the message comes to the other.
    call.app.capture.receive(deletion(call, "Paul", "1.1"))
    assert other.capture.receive(said(call, "Paul", "1.1", "Never stored")).quote_id is None
    # Stored, deleted on the other process; Slack's retry of the original reaches the first.
    assert call.app.capture.receive(said(call, "Matthew", "2.1", "Stored then deleted")).quote_id
    assert other.capture.receive(deletion(call, "Matthew", "2.1")).changed
    assert call.app.capture.receive(said(call, "Matthew", "2.1", "Stored then deleted")).quote_id is None
    call.restart()  # and after a restart of either process
    for app in (call.app, other):
        for mid, first, text in (("1.1", "Paul", "Never stored"), ("2.1", "Matthew", "Stored then deleted")):
            assert app.capture.receive(said(call, first, mid, text)).quote_id is None
    assert stored(call.app) == [] and deletions(call.app) == 2


@pytest.mark.parametrize("order", ["v3 then v2", "v2 then v3"])
def test_an_older_edit_never_wins(call, other, order):
    assert call.app.capture.receive(said(call, "Paul", "3.1", "v1")).quote_id
    v2 = edit(call, "Paul", "3.1", "v2", T0 + dt.timedelta(seconds=2))
    v3 = edit(call, "Paul", "3.1", "v3", T0 + dt.timedelta(seconds=3))
    first, second = (v3, v2) if order == "v3 then v2" else (v2, v3)
    call.app.capture.receive(first)
    other.capture.receive(second)  # a retry reaching another process
    call.app.capture.receive(v2)  # and again, later
    assert stored(call.app) == ["v3"]


def test_an_edit_that_overtook_its_message_keeps_its_time(call):
    # The edit (v3) arrived first and was taken as the message; the original and v2 arrive late.
    assert call.app.capture.receive(said(call, "Paul", "4.1", "v3", edited_at=T0 + dt.timedelta(seconds=3))).quote_id
    assert call.app.capture.receive(said(call, "Paul", "4.1", "v1")).duplicate
    call.app.capture.receive(edit(call, "Paul", "4.1", "v2", T0 + dt.timedelta(seconds=2)))
    assert stored(call.app) == ["v3"]
    call.app.capture.receive(edit(call, "Paul", "4.1", "v4", T0 + dt.timedelta(seconds=4)))
    assert stored(call.app) == ["v4"]


@pytest.mark.parametrize("quote_first", [True, False])
def test_duplicate_deletions_at_the_same_moment_do_not_fail(call, other, quote_first):
    if quote_first:
        assert call.app.capture.receive(said(call, "Paul", "5.1", "Soon gone")).quote_id
    apps = [call.app, other] * 4
    start = threading.Barrier(len(apps))
    errors: list[BaseException] = []

    def delete(app: BreakoutApp) -> None:
        start.wait()
        try:
            app.capture.receive(deletion(call, "Paul", "5.1"))
        except BaseException as exc:  # noqa: BLE001 - any failure is the finding
            errors.append(exc)

    threads = [threading.Thread(target=delete, args=(app,)) for app in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert deletions(call.app) == 1 and stored(call.app) == []
    assert other.capture.receive(said(call, "Paul", "5.1", "Soon gone")).quote_id is None


def test_only_a_groups_members_are_quoted_in_its_channel(call):
    capture = call.app.capture
    paul = call.person("Paul")
    theirs = call.channel_of("Paul")
    other_group = next(name for name in call.chat.channels if name != theirs and name.startswith("breakout-"))
    somebody_else = next(p for p in call.people if call.channel_of(p.first_name) == other_group)

    # A participant of another group writes here: not quoted, told kindly (once), privately.
    for n in range(3):
        result = capture.message_posted(
            workspace=WORKSPACE,
            channel_id=theirs,
            message_id=f"6.{n}",
            author=somebody_else,
            text="Hello from the wrong room",
            sent_at=T0,
        )
        assert result.quote_id is None and "not a member" in result.reason
    told = call.chat.private[somebody_else.user_id]
    assert len(told) == 1 and "not in that group" in told[0] and "Your own group is group" in told[0]
    # A stranger to the breakout (joined the public channel): not quoted, told, with no group to go to.
    stranger = paul.__class__("USTRANGER", "Stan Ranger", "Stan")
    assert (
        capture.message_posted(
            workspace=WORKSPACE, channel_id=theirs, message_id="7.1", author=stranger, text="Hi all", sent_at=T0
        ).quote_id
        is None
    )
    (note,) = call.chat.private["USTRANGER"]
    assert "not in that group" in note and "Your own group" not in note
    # The facilitator listens in every group: welcome there, not quoted, not told off.
    assert (
        capture.message_posted(
            workspace=WORKSPACE,
            channel_id=theirs,
            message_id="8.1",
            author=call.facilitator.person,
            text="Two minutes left",
            sent_at=T0,
        ).quote_id
        is None
    )
    assert call.chat.private["UFAC"] == []
    # The group's own members are quoted as ever.
    assert call.says("Paul", "Mine to say")[1].quote_id
    assert stored(call.app) == ["Mine to say"]
