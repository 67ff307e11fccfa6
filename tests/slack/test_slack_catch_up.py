"""What is said while the bot is away is read back; edits keep their order; only members are quoted.

The real bot (slack-bolt, Socket Mode) against the sandbox. The sandbox here gives up on an event
at once when no app is connected (no retries, a short wait): an outage longer than Slack's retries.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.sandbox.slack import SlackSandbox

from .test_slack_breakout import quotes_of


@pytest.fixture
def sb() -> Iterator[SlackSandbox]:
    with SlackSandbox(ack_timeout=0.5, connect_wait=0.2, max_retries=0) as sandbox:
        yield sandbox


def members(call, channel) -> list:
    return [p for p in call.people if p.id in channel.members]


def settled(call) -> None:
    """Every event delivered so far is either acknowledged or given up on."""
    call.sb.wait_until(lambda: all(d.done.is_set() for d in call.sb.events()), timeout=15, message="deliveries done")


def caught_up(call, runs: int = 1) -> None:
    catch_up = call.bot.catch_up
    call.sb.wait_until(lambda: catch_up.runs >= runs and catch_up.idle.is_set(), timeout=30, message="read-back")


def test_replies_edits_and_deletions_while_the_bot_was_down_are_read_back(call_factory) -> None:
    call = call_factory(mode="socket")
    call.answer(call.breakout("start kindness-in-education groups=3"))
    caught_up(call)  # the first connection's read-back (nothing to find yet)
    channel = call.channel_of(call.people[0])
    first, second, *_ = members(call, channel)
    edited = first.post(channel, "Said before, edited while away: recieve")
    deleted = second.post(channel, "Said before, deleted while away")
    first.post(channel, "Said before and left alone")
    parent = second.post(channel, "A thread's start, deleted while away")
    first.reply(channel, parent, "An answer in that thread, which stays")
    call.sb.wait_until(lambda: len(quotes_of(call)) == 5, timeout=10, message="five quotes")

    call.stop_bot()
    before = len(call.sb.events())
    first.edit(channel, edited, "Said before, edited while away: receive")
    second.delete(channel, deleted)
    second.delete(channel, parent)  # leaves a tombstone: its thread stays
    question = call.question_ts(channel, 1)
    second.reply(channel, question, "A reply in the question's thread while away")
    first.post(channel, "New while away")
    new_then_edited = second.post(channel, "New while away, then edited: v1")
    second.edit(channel, new_then_edited, "New while away, then edited: v2")
    settled(call)
    lost = [d for d in call.sb.events()[before:] if not d.acked.is_set()]
    assert len(lost) == len(call.sb.events()[before:]) >= 6  # Slack gave up on every one of them

    call.start_bot()
    caught_up(call)
    assert sorted(quotes_of(call)) == sorted(
        [
            "Said before, edited while away: receive",
            "Said before and left alone",
            "A reply in the question's thread while away",
            "New while away",
            "New while away, then edited: v2",
            "An answer in that thread, which stays",
        ]
    )
    assert call.sb.calls("conversations.replies")  # the question's thread was read too
    # A reconnect reads back again and changes nothing: everything is stored once.
    runs = call.bot.catch_up.runs
    call.sb.drop_socket_connections()
    caught_up(call, runs + 1)
    assert len(quotes_of(call)) == 6


def test_a_deleted_thread_start_is_removed_not_rewritten_as_its_tombstone(call_factory) -> None:
    call = call_factory(mode="socket")
    call.answer(call.breakout("start kindness-in-education groups=3"))
    channel = call.channel_of(call.people[0])
    first, second, *_ = members(call, channel)
    parent = first.post(channel, "Start of a thread")
    second.reply(channel, parent, "An answer")
    call.sb.wait_until(lambda: len(quotes_of(call)) == 2, timeout=10, message="two quotes")
    first.delete(channel, parent)  # Slack sends message_changed with a tombstone, not message_deleted
    call.sb.wait_until(lambda: quotes_of(call) == ["An answer"], timeout=10, message="the thread's start removed")


def test_a_hundred_replies_during_an_outage_are_all_read_back_page_by_page(call_factory) -> None:
    call = call_factory(mode="socket")
    call.sb.history_limit = 15  # as Slack allows apps outside its Marketplace
    call.answer(call.breakout("start kindness-in-education groups=3"))
    caught_up(call)
    call.stop_bot()
    before = len(call.sb.events())
    expected = []
    for n in range(100):
        channel = call.group_channels()[n % 3]
        person = members(call, channel)[n % 2]
        text = f"Reply {n} while the bot was away"
        if n % 2 == 0:  # half in the question's thread: 17 a thread, more than a page
            person.reply(channel, call.question_ts(channel, 1), text)
        else:
            person.post(channel, text)
        expected.append(text)
    settled(call)
    assert sum(1 for d in call.sb.events()[before:] if not d.acked.is_set()) == 100  # all lost

    call.start_bot()
    caught_up(call)
    assert sorted(quotes_of(call)) == sorted(expected)  # each once, none lost
    assert all(int(c.args.get("limit") or 0) <= 200 for c in call.sb.calls("conversations.history"))
    assert len(call.sb.calls("conversations.history")) >= 3 * 2  # 25+ messages a channel, 15 a page
    assert len(call.sb.calls("conversations.replies")) >= 3 * 2


def test_an_older_edit_delivered_again_after_a_newer_one_loses(call_factory) -> None:
    call = call_factory(mode="socket")
    call.answer(call.breakout("start kindness-in-education groups=3"))
    person = call.people[0]
    channel = call.channel_of(person)
    ts = person.post(channel, "v1")
    person.edit(channel, ts, "v2")
    person.edit(channel, ts, "v3")
    call.sb.wait_until(lambda: quotes_of(call) == ["v3"], timeout=10, message="edit 3 stored")
    (v2,) = [d for d in call.sb.events() if (d.payload["event"].get("message") or {}).get("text") == "v2"]
    assert call.sb.redeliver(v2).wait(5)  # Slack's retry of edit 2, after edit 3
    assert quotes_of(call) == ["v3"]


def test_only_the_groups_members_are_quoted_and_others_are_told_kindly(call_factory) -> None:
    call = call_factory(mode="socket")
    call.answer(call.breakout("start kindness-in-education groups=3"))
    one, two = call.group_channels()[:2]
    own = members(call, two)[0]
    visitor = members(call, one)[0]  # a participant of group 1 ...
    own.invite(visitor, two)  # ... is brought into group 2's (private) channel by one of its members
    stranger = call.sb.add_user("Stan Ranger", display_name="Stan")  # not in the breakout at all
    own.invite(stranger, two)
    visitor.post(two, "Hello from group 1")
    visitor.post(two, "Still here")
    stranger.post(two, "Hi, what is this?")
    own.post(two, "Ours to say")
    call.sb.wait_until(lambda: quotes_of(call) == ["Ours to say"], timeout=10, message="the member's quote")
    settled(call)
    for who in (visitor, stranger):
        call.sb.wait_until(
            lambda who=who: any("not in that group" in e["text"] for e in who.ephemerals(two)),
            timeout=10,
            message=f"{who.name} told",
        )
        notes = [e["text"] for e in who.ephemerals(two) if "not in that group" in e["text"]]
        assert len(notes) == 1, (who.name, who.ephemerals())  # told once, privately, not per message
    assert quotes_of(call) == ["Ours to say"]
    assert "Your own group is group 1" in next(e["text"] for e in visitor.ephemerals(two) if "group" in e["text"])


def test_an_edit_carries_slacks_edit_time_and_a_tombstone_is_a_deletion() -> None:
    from bot.adapters.slack import translate
    from bot.services.events import Kind
    from bot.services.port import PersonInfo

    def people(user_id: str) -> PersonInfo:
        return PersonInfo(user_id, user_id)

    # The shape of Slack's own test payload (bolt-python): the message's ts only on previous_message.
    changed = {
        "type": "message",
        "subtype": "message_changed",
        "message": {
            "type": "message",
            "text": "updated",
            "user": "U111",
            "edited": {"user": "U111", "ts": "1665102362.000000"},
        },
        "previous_message": {"type": "message", "text": "original", "user": "U111", "ts": "1665102338.901939"},
        "channel": "C111",
        "event_ts": "1665102362.013600",
    }
    edit = translate.message_event(changed, workspace="slack:T111", people=people)
    assert edit is not None and edit.kind is Kind.EDITED and edit.message_id == "1665102338.901939"
    assert edit.edited_at is not None and edit.edited_at.timestamp() == 1665102362.0  # edited.ts, not event_ts
    tombstone = dict(
        changed,
        message={
            "subtype": "tombstone",
            "text": "This message was deleted.",
            "user": "USLACKBOT",
            "ts": "1665102338.901939",
            "thread_ts": "1665102338.901939",
        },
    )
    gone = translate.message_event(tombstone, workspace="slack:T111", people=people)
    assert gone is not None and gone.kind is Kind.DELETED and gone.message_id == "1665102338.901939"
    read_back = {
        "type": "message",
        "user": "U111",
        "text": "updated",
        "ts": "1665102338.901939",
        "edited": {"user": "U111", "ts": "1665102362.000000"},
    }
    message = translate.said(read_back, workspace="slack:T111", channel_id="C111", people=people)
    assert message is not None and message.kind is Kind.NEW and message.edited_at == edit.edited_at
