"""`/breakout prepare` on Slack, and a start that spends the fewest Web API calls.

The real bot (slack-bolt) against the sandbox with Slack's rate tiers on: prepare makes the channels and
invites the people; the start after it only posts.
"""

from __future__ import annotations

import collections

import pytest

CHANNEL_WORK = (
    "conversations.create",
    "conversations.invite",
    "conversations.list",
    "conversations.join",
    "conversations.unarchive",
    "conversations.members",
    "users.info",
    "users.list",
)


def methods_since(sb, before: int) -> collections.Counter:
    return collections.Counter(c.method for c in sb.calls()[before:])


def test_prepare_then_start_only_posts(call_factory) -> None:
    call = call_factory()
    sb = call.sb
    prepared = call.answer(call.breakout("prepare kindness-in-education groups=3"))
    assert prepared.startswith("Prepared Kindness in Education (breakout 1): 3 groups"), prepared
    assert "3 of 3 channels ready" in prepared and "/breakout start kindness-in-education" in prepared
    groups = call.group_channels()
    assert [c.name for c in groups] == [f"breakout-kindness-in-education-{n}" for n in (1, 2, 3)]
    participants = {p.id for p in call.people} | {call.olu.id}
    members = [set(c.members) - {sb.bot.id, call.fiona.id} for c in groups]
    assert set().union(*members) == participants and sum(map(len, members)) == len(participants)
    assert all(sb.bot_messages(c) == [] for c in groups)  # nothing is said before the call

    status = call.answer(call.breakout("status"))
    assert "is prepared, not started: 3 of 3 group channels ready" in status, status
    refused = call.answer(call.breakout("next"))
    assert "prepared but not started" in refused and "/breakout start kindness-in-education" in refused, refused
    again = call.answer(call.breakout("prepare kindness-in-education groups=2"))
    assert "already prepared in this channel" in again, again

    early = call.people[0]
    early.post(call.channel_of(early), "Hello, is anyone here yet?")  # before the start: not a quote
    sb.wait_until(lambda: all(d.acked.is_set() for d in sb.events()), message="every event acknowledged")

    before = len(sb.calls())
    started = call.answer(call.breakout("start kindness-in-education"))
    assert started.startswith("Started Kindness in Education (breakout 1): 3 groups"), started
    spent = methods_since(sb, before)
    assert not any(spent[m] for m in CHANNEL_WORK), spent  # the start only posts
    assert spent["chat.postMessage"] == 6, spent
    for c in groups:
        welcome, question = call.posts(c)
        assert welcome["blocks"][0]["text"]["text"] == "Kindness in Education"
        assert question["blocks"][0]["text"]["text"] == "Question 1 of 2"
    status = call.answer(call.breakout("status"))
    assert "question 1 of 2" in status and "0 quotes so far" in status, status


def test_start_of_another_plan_over_a_prepared_one_is_refused(call_factory) -> None:
    call = call_factory()
    call.answer(call.breakout("prepare kindness-in-education groups=2"))
    answer = call.answer(call.breakout("start team-retro-chatham-house"))
    assert "prepared in this channel for the plan kindness-in-education" in answer, answer
    assert all(call.sb.bot_messages(c) == [] for c in call.group_channels())


def test_stop_of_a_prepared_breakout_tidies_its_channels_and_a_rerun_reuses_them(call_factory) -> None:
    call = call_factory()
    sb = call.sb
    call.answer(call.breakout("prepare team-retro-chatham-house groups=3"))  # archives its channels at the end
    groups = call.group_channels()
    assert len(groups) == 3 and not any(c.is_archived for c in groups)
    dropped = call.answer(call.breakout("stop"))
    assert dropped.startswith("Dropped the prepared"), dropped
    assert all(c.is_archived for c in groups)
    assert all(sb.bot_messages(c) == [] for c in groups)  # no "time is up" for a breakout nobody saw

    # The next run of the plan reuses the archived channels: no new channel, no refused create.
    before = len(sb.calls())
    call.answer(call.breakout("prepare team-retro-chatham-house groups=3"))
    spent = methods_since(sb, before)
    assert spent["conversations.create"] == 0 and spent["conversations.unarchive"] == 3, spent
    assert spent["conversations.list"] <= 1, spent
    assert not any(c.is_archived for c in groups) and len(call.group_channels()) == 3
    started = call.answer(call.breakout("start team-retro-chatham-house"))
    assert started.startswith("Started"), started


def test_a_big_start_without_prepare_lists_once_and_reads_people_in_one_call(call_factory) -> None:
    call = call_factory(people=40)
    sb = call.sb
    started = call.answer(call.breakout("start kindness-in-education groups=10"), timeout=60)
    assert started.startswith("Started Kindness in Education (breakout 1): 10 groups"), started
    spent = methods_since(sb, 0)
    assert spent["conversations.list"] == 1, spent  # one listing shared by every group's worker
    assert spent["users.list"] == 1 and spent["users.info"] <= 2, spent  # not one users.info a person
    assert spent["conversations.create"] == 10 and spent["conversations.invite"] == 10, spent
    # Only the call's channel is asked for its members: a channel the bot just made holds only the bot.
    assert spent["conversations.members"] == 1, spent
    assert len(call.group_channels()) == 10
    assert all(len(call.posts(c, header="Question 1 of")) == 1 for c in call.group_channels())
    assert not sb.throttled(), sb.throttled()


@pytest.mark.slack_time_scale(0.02)  # a Slack minute in 1.2 s
def test_fifty_new_channels_beyond_tier_2_all_open(call_factory) -> None:
    # Slack makes 20 channels at once and then one every 3 s: the groups' workers take turns, so
    # each throttled create waits once and none runs out of retries.
    call = call_factory(people=100)
    sb = call.sb
    started = call.answer(call.breakout("prepare kindness-in-education groups=50"), timeout=90)
    assert "50 of 50 channels ready" in started, started
    assert len(sb.calls("conversations.create")) - len(sb.throttled("conversations.create")) == 50
    assert 0 < len(sb.throttled("conversations.create")) <= 40, len(sb.throttled("conversations.create"))
    assert not sb.throttled("conversations.list") and not sb.throttled("users.info")
    people = [set(c.members) - {sb.bot.id, call.fiona.id} for c in call.group_channels()]
    assert len(people) == 50 and sum(map(len, people)) == len(call.people) + 1  # Olu too
    assert all(len(p) >= 2 for p in people)
