"""Privacy by construction: every column that can hold a person is in the data map, forget-me leaves nothing
of them in any row of any table, and /breakout my-data hands over what forget-me would take (and no more)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from bot.domain.consent import Level
from bot.services.commands import parse_breakout
from bot.services.context import Actor
from bot.services.pack import CallChatFile
from bot.services.port import PersonInfo
from bot.store.database import Database
from bot.store.models import Base
from bot.store.personal import NOT_PERSONAL, PERSONAL, Holds, breakout_column, export
from tests.conftest import PROMPTS
from tests.core.harness import WORKSPACE, Call, prompts_copy

SLOW = """
title: {title}
questions:
  - text: First question?
    minutes: 120
groups:
  count: 2
naming:
  default: anonymous
"""

ZEB = PersonInfo("UZEBQ42", "Zebedee Quillfeather", "Zebedee", "Zebby")
ZEB_WORDS = ("xylophone", "marmalade", "periwinkle")  # only ever in Zebedee's own words
ZEB_NAMES = ("zebedee", "quillfeather", "zebby", "zeb quill")


def chat_file() -> str:
    return (
        "18:00:05 From Odile Brightwater to Everyone:\n\tHello everyone, joining from Lyon!\n"
        "18:01:00 From Zebedee Quillfeather to Everyone:\n\tperiwinkle thoughts on kindness in the ward\n"
        '18:02:00 From Odile Brightwater to Everyone:\n\tReplying to "periwinkle thoughts on..."\n\t\n'
        "\tThanks Zebedee, well said\n"
    )


def test_every_text_column_is_in_the_data_map():
    """A new column that can hold a person's id, name or words fails here until forget-me and my-data know it."""
    columns = {f"{t.name}.{c.name}": (t, c) for t in Base.metadata.sorted_tables for c in t.columns}
    text_columns = {key for key, (_, c) in columns.items() if isinstance(c.type, sa.String | sa.JSON)}
    unmapped = sorted(key for key in text_columns if key not in PERSONAL and key not in NOT_PERSONAL)
    assert not unmapped, f"say what these hold in bot/store/personal.py (PERSONAL or NOT_PERSONAL): {unmapped}"
    assert not set(PERSONAL) & set(NOT_PERSONAL)
    assert set(PERSONAL) | set(NOT_PERSONAL) <= set(columns), "the data map names a column the models don't have"
    assert all(why.strip() for why in NOT_PERSONAL.values())
    assert {"breakouts.started_by", "chat_imports.imported_by", "consents.wording", "quotes.text"} <= set(PERSONAL)
    for key, holds in PERSONAL.items():
        table, _ = columns[key]
        # Outside a person's own row, a personal column must be findable by breakout (forget-me searches there).
        assert table.name == "people" or breakout_column(table) is not None, key
        assert isinstance(holds, Holds)


@pytest.fixture
def call(database_url, tmp_path):
    plans = {slug: SLOW.format(title=slug.title()) for slug in ("first", "second", "third")}
    c = Call(database_url, prompts_copy(tmp_path, PROMPTS, plans), time_scale=0.02, people=4)
    yield c
    c.close()


def group_channel(call: Call, slug: str, user_id: str) -> str:
    return next(n for n, m in call.chat.channels.items() if n.startswith(f"breakout-{slug}-") and user_id in m)


def say(call: Call, slug: str, who: PersonInfo, text: str, message_id: str) -> None:
    result = call.app.capture.message_posted(
        workspace=WORKSPACE,
        channel_id=group_channel(call, slug, who.user_id),
        message_id=message_id,
        author=who,
        text=text,
        sent_at=dt.datetime.now(dt.UTC),
    )
    assert result.quote_id is not None, result.reason


def seed_zebedee_everywhere(call: Call) -> dict[str, int]:
    """Zebedee takes part, chooses, renames himself, is mentioned every way, starts a breakout, imports a chat
    and records a chat author's choice; a third breakout he never joined mentions him by id."""
    others = list(call.people)
    paul, matthew = others[3], others[0]
    zeb = Actor(WORKSPACE, ZEB, is_facilitator=True, is_organiser=True)
    call.people = [*others, ZEB]
    call.facilitator_types("start first", channel="home-1")
    first = call.app.summaries.find(call.organiser, channel_id="home-1")
    call.app.consents.choose(zeb, level=Level.FULL_NAME, via="command", breakout_id=first)
    call.app.consents.choose(zeb, level=Level.FIRST_NAME, via="button", breakout_id=first)
    call.app.consents.set_name(zeb, name="Zeb Quill")
    say(call, "first", ZEB, "The xylophone of marmalade kindness.", "z.1")
    say(
        call,
        "first",
        paul,
        "I agree with Zebedee Quillfeather and <@UZEBQ42|zebby>. "
        "See <https://example.org/people/zebedee-quillfeather|his page> and https://zebby.example.org/cv",
        "p.1",
    )
    say(call, "first", matthew, "Discord style: <@!UZEBQ42> and <@UZEBQ42> agreed with Zeb Quill.", "m.1")
    chat = CallChatFile.holding("zebedee-quillfeather-chat.txt", chat_file())
    call.app.call_chat.import_chat(zeb, find_file=lambda: chat, breakout_id=first)
    call.app.call_chat.name_author(zeb, name="Odile Brightwater", level=Level.INITIALS, breakout_id=first)

    call.app.run_breakout_command(
        zeb, parse_breakout("start second"), channel_id="home-2", participants=lambda: (others, [ZEB])
    )
    call.app.run_breakout_command(
        call.facilitator,
        parse_breakout("start third"),
        channel_id="home-3",
        participants=lambda: (others, [call.facilitator.person]),
    )
    say(call, "third", paul, "Ask <@UZEBQ42>, or see https://example.org/u/UZEBQ42", "p.3")
    return {"first": first}


def stored_text(call: Call) -> list[tuple[str, str, str]]:
    """Every text value of every row of every table in the database, the scheduler's too."""
    out = []
    with call.app.db.engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f'select * from "{table}"')):
                for column, value in row._mapping.items():
                    if isinstance(value, bytes):
                        value = value.decode("latin-1")
                    elif isinstance(value, dict | list):
                        value = json.dumps(value)
                    if isinstance(value, str):
                        out.append((table, column, value))
    return out


def traces_of_zebedee(call: Call) -> list[tuple[str, str, str]]:
    needles = (ZEB.user_id.casefold(), *ZEB_NAMES, *ZEB_WORDS)
    return [(t, c, v) for t, c, v in stored_text(call) if any(n in v.casefold() for n in needles)]


def test_forget_me_leaves_nothing_of_the_person_in_any_row_of_any_table(call):
    seed_zebedee_everywhere(call)
    before = traces_of_zebedee(call)
    places = {(t, c) for t, c, _ in before}
    assert {
        ("people", "user_id"),
        ("breakouts", "started_by"),
        ("chat_imports", "imported_by"),
        ("consents", "wording"),
        ("quotes", "text"),
        ("chat_messages", "reply_to"),
    } <= places

    reply = call.types(Actor(WORKSPACE, ZEB), "forget-me")
    assert "1 quote(s), 2 naming choice(s)" in reply and "other record(s)" in reply

    assert traces_of_zebedee(call) == []
    with call.app.db.transaction() as s:
        quotes = dict(s.execute(sa.text("select message_key, text from quotes")).all())
        started_by = set(s.execute(sa.text("select started_by from breakouts")).scalars())
        wording = s.execute(sa.text("select wording from consents where via = 'organiser'")).scalar_one()
    by_end = {key.rsplit(":", 1)[1]: text for key, text in quotes.items()}
    assert by_end["p.1"] == (
        "I agree with another participant and another participant. See his page (example.org link) and example.org link"
    )
    assert (
        by_end["m.1"] == "Discord style: another participant and another participant agreed with another participant."
    )
    assert by_end["p.3"] == "Ask another participant, or see https://example.org/u/forgotten"
    assert "forgotten" in started_by and wording.startswith("Recorded by forgotten ")
    # Whatever they said before is still never captured again.
    again = call.app.capture.message_posted(
        workspace=WORKSPACE,
        channel_id=group_channel(call, "third", call.people[0].user_id),
        message_id="z.1",
        author=ZEB,
        text="The xylophone again",
        sent_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5),
    )
    assert again.quote_id is None


def test_my_data_hands_over_what_forget_me_would_take_and_nobody_elses(call):
    seed_zebedee_everywhere(call)
    data = call.app.consents.my_data(Actor(WORKSPACE, ZEB))
    document = json.loads(data.content)
    held = document["held"]
    assert document["user_id"] == ZEB.user_id and data.filename.endswith(".json")
    assert [q["text"] for q in held["quotes"]] == ["The xylophone of marmalade kindness."]
    assert [c["level"] for c in held["consents"]] == ["full_name", "first_name"]
    assert held["people"][0]["preferred_name"] == "Zeb Quill"
    assert [m["text"] for m in held["chat_messages"]] == ["periwinkle thoughts on kindness in the ward"]
    assert [b["title"] for b in held["breakouts"]] == ["Second"]  # the one he started
    assert [i["imported_by"] for i in held["chat_imports"]] == [ZEB.user_id]
    # Other people's words that name him are theirs: counted, never copied.
    assert document["named_in_other_peoples_rows"] == {"consents": 1, "quotes": 3, "chat_messages": 1}
    text = data.content.decode("utf-8")
    for other in call.people:
        if other.user_id != ZEB.user_id:
            assert other.user_id not in text and other.full_name not in text
    for words in ("I agree with", "Discord style", "Odile", "Brightwater", "well said", "Ask "):
        assert words not in text
    assert f"{data.rows} record(s)" in call.types(Actor(WORKSPACE, ZEB), "my-data")
    assert call.chat.files[ZEB.user_id][-1] == (data.filename, call.chat.files[ZEB.user_id][-1][1])
    sent = json.loads(call.chat.files[ZEB.user_id][-1][1])
    assert sent["held"]["quotes"] == held["quotes"]

    call.types(Actor(WORKSPACE, ZEB), "forget-me")
    assert call.types(Actor(WORKSPACE, ZEB), "my-data") == "Nothing is stored about you."


def test_my_data_for_someone_never_seen(database_url):
    db = Database(database_url)
    try:
        with db.transaction() as s:
            found = export(s, workspace=WORKSPACE, user_id="UNOBODY")
        assert found["held"] == {} and found["named_in_other_peoples_rows"] == {}
    finally:
        db.dispose()


def test_someone_known_only_as_who_started_a_breakout(call):
    """No quote, no choice, no person row: only the id a breakout keeps of who started it."""
    quentin = Actor(WORKSPACE, PersonInfo("UQUENTIN", "Quentin Marlowe", "Quentin"), is_facilitator=True)
    call.app.run_breakout_command(
        quentin, parse_breakout("start first"), channel_id="home-q", participants=lambda: (call.people, [])
    )
    data = call.app.consents.my_data(quentin)
    assert data.rows == 1 and [b["started_by"] for b in json.loads(data.content)["held"]["breakouts"]] == ["UQUENTIN"]
    assert call.types(quentin, "forget-me") == "Your id is taken out of 1 record(s); nothing else was stored about you."
    assert not [found for found in stored_text(call) if "uquentin" in found[2].casefold()]
    assert call.types(quentin, "my-data") == "Nothing is stored about you."
