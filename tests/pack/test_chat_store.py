"""The chat tables: the migration goes up and down cleanly, and 'forget me' reaches chat-only people."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect

from bot.domain.consent import Level
from bot.services.errors import NotAllowed, NotFound
from bot.store.database import Database, alembic_config
from tests.conftest import PROMPTS
from tests.core.harness import Call, prompts_copy

CHAT = (
    "18:00:05 From Mira Okafor to Everyone:\n\tHello everyone, joining from Lagos!\n"
    "18:00:40 From Matthew Okafor to Everyone:\n\tHi from the group, in the chat too\n"
    "18:01:00 From Mira Okafor to Everyone:\n\t" + " ".join(["A long reflection about kindness in teaching"] * 4) + "\n"
)


def test_migration_0002_up_down_up(database_url):
    db = Database(database_url)
    try:
        tables = set(inspect(db.engine).get_table_names())
        assert {"chat_imports", "chat_messages"} <= tables
        config = alembic_config(db.engine)
        command.downgrade(config, "0001")
        assert not {"chat_imports", "chat_messages"} & set(inspect(db.engine).get_table_names())
        command.upgrade(config, "head")
        assert {"chat_imports", "chat_messages"} <= set(inspect(db.engine).get_table_names())
    finally:
        db.dispose()


@pytest.fixture
def call(database_url, tmp_path):
    c = Call(database_url, prompts_copy(tmp_path, PROMPTS), time_scale=1.0, people=3)
    c.facilitator_types("start kindness-in-education")
    yield c
    c.close()


def test_forgetting_someone_who_was_only_in_the_chat(call):
    breakout = call.status().breakout_id
    chat = call.app.call_chat
    chat.import_into(breakout, CHAT, filename="chat.txt", imported_by="test")
    chat.record_naming(breakout, name="Mira Okafor", level=Level.INITIALS, recorded_by="test")
    assert [c.label for c in call.app.summaries.build(breakout).chat] == ["MO"]
    # Matthew is in the groups: the chat's Matthew Okafor is him, and only he can forget himself.
    authors = {a.name: a for a in chat.authors(breakout)}
    assert authors["Matthew Okafor"].member and not authors["Mira Okafor"].member
    with pytest.raises(NotAllowed, match="forget-me"):
        chat.forget_author(breakout, name="Matthew Okafor")
    assert "1 naming choice" in chat.forget_author(breakout, name="Mira Okafor")
    summary = call.app.summaries.build(breakout)
    assert summary.chat == ()
    assert [h.text for h in summary.hellos] == ["Hi from the group, in the chat too"]  # Matthew's, not Mira's
    assert [m.author for m in chat.messages(breakout)] == ["Matthew Okafor"]
    with pytest.raises(NotFound):
        chat.forget_author(breakout, name="Mira Okafor")


def test_two_members_of_one_name_are_never_guessed(call, tmp_path):
    breakout = call.status().breakout_id
    # Two members called Matthew Okafor would make the chat's one ambiguous: it stays a chat-only person.
    from bot.store import repository as repo

    with call.app.db.transaction() as s:
        people = [p for _, p in repo.members(s, breakout_id=breakout)]
        people[1].preferred_name = "Matthew Okafor"
    call.app.call_chat.import_into(breakout, CHAT, filename="chat.txt", imported_by="test")
    authors = {a.name: a for a in call.app.call_chat.authors(breakout)}
    assert not authors["Matthew Okafor"].member


def test_brackets_go_before_initials_are_made(call):
    breakout = call.status().breakout_id
    chat = call.app.call_chat
    text = ("18:00:05 From Ana Ruiz [Kind Trust] (she/her) to Everyone:\n\t"
            + " ".join(["Kindness is a practice we can teach, and we should measure it honestly"] * 2) + "\n")
    chat.import_into(breakout, text, filename="chat.txt", imported_by="test")
    assert "Ana Ruiz will appear as their initials" in chat.record_naming(
        breakout, name="ana ruiz", level=Level.INITIALS, recorded_by="test")
    assert [c.label for c in call.app.summaries.build(breakout).chat] == ["AR"]
    chat.record_naming(breakout, name="Ana Ruiz (she/her)", level=Level.FULL_NAME, recorded_by="test")
    assert [c.label for c in call.app.summaries.build(breakout).chat] == ["Ana Ruiz"]


def test_forgetting_someone_removes_their_words_quoted_in_others_replies(call):
    breakout = call.status().breakout_id
    chat = call.app.call_chat
    text = CHAT + ("18:02:00 From Matthew Okafor to Everyone:\n\tReplying to \"Hello everyone, joining from...\"\n\n"
                   "\tWelcome Mira!\n")
    chat.import_into(breakout, text, filename="chat.txt", imported_by="test")
    reply = next(m for m in chat.messages(breakout) if m.text == "Welcome Mira!")
    assert reply.reply_to and reply.reply_to.startswith("Hello everyone")
    chat.forget_author(breakout, name="Mira Okafor")
    reply = next(m for m in chat.messages(breakout) if m.text.startswith("Welcome"))
    assert reply.reply_to is None
    assert reply.text == "Welcome another participant!"  # her name goes from others' words too
