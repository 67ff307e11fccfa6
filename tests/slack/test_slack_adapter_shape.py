"""The Slack adapter in bolt's shape: payloads become neutral events, deletions are remembered by the
database alone, and the core's hints are worded the Slack way."""

from __future__ import annotations

import pytest

from bot.adapters.slack import translate
from bot.adapters.slack.errors import HiddenChannel, sentence
from bot.services.errors import BadArguments, NotFound, PickAPlan, Role, Usage, only
from bot.services.events import Kind, Meaning
from bot.services.port import PersonInfo

MODES = ["socket", "http"]


def quotes_of(call) -> list[str]:
    summary = call.bot.core.summaries.build(1)
    return [q.text for section in summary.questions for q in section.quotes]


@pytest.mark.parametrize("mode", MODES)
def test_a_deleted_message_delivered_again_after_a_restart_is_not_captured(call_factory, mode: str) -> None:
    call = call_factory(mode=mode)
    call.answer(call.breakout("start kindness-in-education groups=3"))
    matthew = call.people[0]
    channel = call.channel_of(matthew)
    ts = matthew.post(channel, "I will take this back.")
    first = call.sb.events()[-1]
    assert first.wait(5)
    assert quotes_of(call) == ["I will take this back."]
    matthew.delete(channel, ts)
    assert call.sb.events()[-1].wait(5)
    assert quotes_of(call) == []
    call.stop_bot()
    call.start_bot()  # a new process: nothing in memory
    again = call.sb.redeliver(first)  # Slack retries the original message event
    assert again.wait(5)
    assert quotes_of(call) == []


def test_the_cores_hints_in_slacks_words() -> None:
    pdf = BadArguments("PDF needs headless Chromium.", hint=Usage("summary", "format", ("html", "docx", "md")))
    assert sentence(pdf) == "PDF needs headless Chromium. Try /summary format=html, format=docx or format=md."
    assert sentence(only(Role.ORGANISER, "pull the write-up")) == (
        "Only organisers can pull the write-up. If you should be one, ask a workspace admin to add you."
    )
    assert sentence(only(Role.FACILITATOR, "start a breakout")).endswith("ask an organiser to add you.")
    # Without the plans at hand there is nothing to add; with them (see test_slack_breakout) they are listed.
    assert sentence(NotFound("There is no plan called 'x'.", hint=PickAPlan())) == "There is no plan called 'x'."
    hidden = sentence(HiddenChannel("Slack says the channel does not exist (channel_not_found)"))
    assert hidden.startswith("Slack refused:") and "/invite @breakout-bot" in hidden


def _people(user_id: str) -> PersonInfo:
    return PersonInfo(user_id, f"Person {user_id}")


def test_slack_payloads_become_neutral_events() -> None:
    where = {"workspace": "slack:T1", "people": _people}
    new = translate.message_event(
        {"type": "message", "channel": "C1", "user": "U1", "ts": "1.1", "text": "hi"}, **where
    )
    assert new is not None and new.kind is Kind.NEW and new.author == _people("U1") and new.thread_id is None
    reply = translate.message_event(
        {"type": "message", "channel": "C1", "user": "U1", "ts": "2.1", "thread_ts": "1.0", "text": "re"}, **where
    )
    assert reply is not None and reply.kind is Kind.REPLY and reply.thread_id == "1.0"
    edited = translate.message_event(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": "C1",
            "message": {"user": "U1", "ts": "1.1", "text": "hello", "edited": {"ts": "3.0"}},
        },
        **where,
    )
    assert edited is not None and edited.kind is Kind.EDITED and edited.text == "hello" and edited.message_id == "1.1"
    deleted = translate.message_event(
        {"type": "message", "subtype": "message_deleted", "channel": "C1", "deleted_ts": "1.1"}, **where
    )
    assert deleted is not None and deleted.kind is Kind.DELETED and deleted.message_id == "1.1"
    # Not a person's words: never handed to the core.
    for subtype in ("channel_join", "channel_topic", "bot_message", "pinned_item"):
        event = {"type": "message", "subtype": subtype, "channel": "C1", "user": "U1", "ts": "4.1", "text": "x"}
        assert translate.message_event(event, **where) is None, subtype
    assert (
        translate.message_event({"channel": "C1", "bot_id": "B1", "user": "U9", "ts": "5.1", "text": "x"}, **where)
        is None
    )
    shared = {"type": "message", "subtype": "file_share", "channel": "C1", "user": "U1", "ts": "6.1", "text": "see"}
    assert translate.message_event(shared, **where) is not None
    # Reactions by their meaning.
    assert translate.meaning_of("star::skin-tone-2") is Meaning.HIGHLIGHT
    assert translate.meaning_of("no_entry_sign") is Meaning.LEAVE_OUT
    assert translate.meaning_of("thumbsup") is None
