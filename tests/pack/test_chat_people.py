"""Who a chat import makes into people, who may name them, and what of the organiser it keeps."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.domain.consent import Level
from bot.services.errors import NotAllowed
from bot.services.pack import CallChatFile
from bot.store.models import ChatImport, ConsentRecord, Person
from tests.conftest import PROMPTS
from tests.core.harness import Call, prompts_copy


@pytest.fixture
def call(database_url, tmp_path):
    c = Call(database_url, prompts_copy(tmp_path, PROMPTS), time_scale=1.0, people=6)
    c.facilitator_types("start kindness-in-education groups=1")
    yield c
    c.close()


def chat_only(call) -> list[str]:
    with call.app.db.transaction() as s:
        return sorted(p.full_name for p in s.scalars(select(Person).where(Person.workspace.like("%/zoom"))))


def test_the_organiser_cannot_choose_a_members_naming(call):
    breakout = call.status().breakout_id
    call.says("Felize", "My private group remark that I never agreed to have named.")
    chat = "10:00:01 From Felize Marquez to Everyone : hello from Madrid everyone, glad to be here\n"
    call.app.call_chat.import_into(breakout, chat, filename="chat.txt", imported_by="UORG")
    with pytest.raises(NotAllowed, match="/breakout consent"):
        call.app.call_chat.record_naming(breakout, name="Felize Marquez", level=Level.FULL_NAME, recorded_by="UORG")
    with pytest.raises(NotAllowed, match="/breakout consent"):
        call.app.call_chat.name_author(call.organiser, name="Felize Marquez", level=Level.FULL_NAME, breakout_id=breakout)
    with call.app.db.transaction() as s:
        assert s.scalars(select(ConsentRecord).where(ConsentRecord.via == "organiser")).all() == []
    assert "Felize Marquez" not in call.summary()


def test_a_reimport_forgets_chat_only_people_no_chat_holds(call):
    breakout = call.status().breakout_id
    chat = call.app.call_chat
    chat.import_into(breakout, "10:00:01 From Zed Quill to Everyone : hello from Oslo\n"
                               "10:00:02 From Ann Lee to Everyone : hello from Rome\n", filename="a.txt", imported_by="UORG")
    chat.record_naming(breakout, name="Zed Quill", level=Level.FULL_NAME, recorded_by="UORG")
    chat.record_naming(breakout, name="Ann Lee", level=Level.INITIALS, recorded_by="UORG")
    line = chat.messages(breakout)[1].line
    chat.mark(breakout, line=line, highlight=True)
    assert chat_only(call) == ["Ann Lee", "Zed Quill"]

    chat.import_into(breakout, "10:00:02 From Ann Lee to Everyone : hello from Rome\n", filename="b.txt",
                     imported_by="UORG")
    assert chat_only(call) == ["Ann Lee"]
    with call.app.db.transaction() as s:
        assert [r.level for r in s.scalars(select(ConsentRecord))] == ["initials"]  # Ann's stays, Zed's went
    assert [m.highlighted for m in chat.messages(breakout)] == [True]  # the organiser's mark carried over
    assert {a.name: a.level for a in chat.authors(breakout)} == {"Ann Lee": Level.INITIALS}


def test_a_chat_only_person_still_in_another_breakouts_chat_stays(call):
    first = call.status().breakout_id
    chat = call.app.call_chat
    chat.import_into(first, "10:00:01 From Zed Quill to Everyone : hello from Oslo\n", filename="a.txt",
                     imported_by="UORG")
    call.facilitator_types("stop")
    call.facilitator_types("start kindness-in-education groups=1")
    second = call.status().breakout_id
    assert second != first
    chat.import_into(second, "10:00:01 From Zed Quill to Everyone : hello again\n", filename="b.txt", imported_by="UORG")
    chat.record_naming(second, name="Zed Quill", level=Level.FIRST_NAME, recorded_by="UORG")
    chat.import_into(first, "10:00:02 From Ann Lee to Everyone : hello from Rome\n", filename="c.txt", imported_by="UORG")
    assert chat_only(call) == ["Ann Lee", "Zed Quill"]
    assert {a.name: a.level for a in chat.authors(second)} == {"Zed Quill": Level.FIRST_NAME}
    assert "Forgot Zed Quill" in chat.forget_author(second, name="Zed Quill")


def test_the_organiser_is_kept_by_platform_id_not_by_name(call):
    breakout = call.status().breakout_id
    chat = call.app.call_chat
    chat.import_chat(call.organiser, breakout_id=breakout,
                     find_file=lambda: CallChatFile.holding("a.txt", "10:00:01 From Zed Quill to Everyone : hello from Oslo\n"))
    chat.name_author(call.organiser, name="Zed Quill", level=Level.INITIALS, breakout_id=breakout)
    with call.app.db.transaction() as s:
        imported = s.scalars(select(ChatImport)).one()
        record = s.scalars(select(ConsentRecord).where(ConsentRecord.via == "organiser")).one()
        assert imported.imported_by == call.organiser.person.user_id
        assert call.organiser.person.user_id in record.wording
        for stored in (imported.imported_by, record.wording):
            assert "Olu" not in stored and "Adeyemi" not in stored
