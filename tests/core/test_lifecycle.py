"""The whole breakout through the services on a real database, with the time scale shrunk."""

from __future__ import annotations

import pytest

from bot.services.errors import BadArguments, IllegalMove, NotAllowed, NotFound
from tests.conftest import PROMPTS
from tests.core.harness import QUICK_PLAN, SLOW_PLAN, Call, prompts_copy, wait_until

QUICK = QUICK_PLAN
SLOW = SLOW_PLAN


@pytest.fixture
def call(database_url, tmp_path):
    c = Call(database_url, prompts_copy(tmp_path, PROMPTS, {"quick": QUICK, "slow": SLOW}), time_scale=0.02, people=7)
    yield c
    c.close()


def test_whole_breakout_runs_on_its_timeline(call):
    reply = call.facilitator_types("start quick")
    assert ("2 groups" in reply and "(4, 3 people)" in reply) or "(3, 4 people)" in reply
    groups = sorted(call.chat.channels)
    assert groups == ["breakout-quick-1", "breakout-quick-2"]
    everyone = set().union(*call.chat.channels.values())
    assert {p.user_id for p in call.people} <= everyone
    for g in groups:  # welcome with consent buttons, then question 1 at once
        kinds = [m.kind for m in call.posts_in(g)]
        assert kinds[:2] == ["welcome", "question"]
        assert call.posts_in(g, "welcome")[0].buttons[-1] == "Don't quote me"
        assert "What went well?" in call.posts_in(g, "question")[0].text

    call.says("Matthew", "We listened to each other.")
    # Question 1 lasts 1.2 s at this scale; the warning comes 0.6 s before the end.
    wait_until(lambda: all(len(call.posts_in(g, "warning")) == 1 for g in groups), what="the first warning")
    wait_until(lambda: all(len(call.posts_in(g, "question")) == 2 for g in groups), what="question 2")
    call.says("Matthew", "More time for questions.")
    wait_until(lambda: all(call.posts_in(g, "close") for g in groups), what="the close")
    assert call.status().state == "stopped"
    for g in groups:
        kinds = [m.kind for m in call.posts_in(g)]
        assert kinds == ["welcome", "question", "warning", "question", "warning", "close"], kinds

    summary = call.summary()
    assert "What went well?" in summary and "What would you change?" in summary
    first, second = summary.split("### 2.")
    assert "We listened to each other." in first and "More time for questions." in second
    assert "Participant 1" in summary and "Matthew" not in summary  # never chose: the anonymous default


def test_status_extend_next_pause_resume_broadcast_stop(call):
    call.facilitator_types("start slow groups=2")
    status = call.status()
    assert (status.question_number, status.question_count, status.state) == (1, 2, "running")
    assert len(status.groups) == 2 and status.participants == 7
    left = status.seconds_left
    assert left is not None and 140 < left <= 144  # 120 minutes scaled by 0.02

    assert "now has" in call.facilitator_types("extend 10")
    assert call.status().seconds_left > left + 10
    for g in call.chat.channels:
        assert "added 10 minutes" in call.posts_in(g, "broadcast")[-1].text

    assert "Paused" in call.facilitator_types("pause")
    paused = call.status()
    assert paused.state == "paused"
    with pytest.raises(IllegalMove):
        call.facilitator_types("pause")
    assert "Resumed" in call.facilitator_types("resume")
    assert call.status().state == "running"

    assert "Sent to 2 of 2 groups" in call.facilitator_types("broadcast Please wrap up <!channel>")
    assert all(call.posts_in(g, "broadcast")[-1].text == "Please wrap up <!channel>" for g in call.chat.channels)

    assert "question 2 of 2" in call.facilitator_types("next")
    assert call.status().question_number == 2
    assert "ended" in call.facilitator_types("next")
    assert call.status().state == "stopped"
    for g in call.chat.channels:
        assert [m.kind for m in call.posts_in(g)].count("close") == 1


def test_illegal_moves_and_bad_arguments_say_what_to_do(call):
    with pytest.raises(NotFound, match="No breakout is running"):
        call.facilitator_types("status")
    with pytest.raises(NotFound, match="no plan called 'nope'.*quick"):
        call.facilitator_types("start nope")
    with pytest.raises(NotAllowed, match="Only facilitators"):
        call.types(call.actor("Matthew"), "start quick")
    call.facilitator_types("start slow")
    with pytest.raises(IllegalMove, match="already running in this channel"):
        call.facilitator_types("start quick")
    with pytest.raises(NotAllowed):
        call.types(call.actor("Paul"), "stop")
    call.facilitator_types("stop")
    with pytest.raises(IllegalMove, match="already ended"):
        call.facilitator_types("extend 5")
    with pytest.raises(BadArguments, match="Usage"):
        call.facilitator_types("extnd 5")
    with pytest.raises(BadArguments, match="not a whole number"):
        call.facilitator_types("start quick groups=three")
    # A new breakout may start where the last one ended.
    assert "Started" in call.facilitator_types("start quick")


def test_a_restart_mid_breakout_fires_the_remaining_steps_once_each(database_url, tmp_path):
    prompts = prompts_copy(tmp_path, PROMPTS, {"quick": QUICK})
    call = Call(database_url, prompts, time_scale=0.02, people=6)
    try:
        call.facilitator_types("start quick")
        groups = sorted(call.chat.channels)
        call.app.shutdown()  # the process dies during question 1; its jobs stay in the job store
        down_for = 1.6  # long enough that question 1's warning and question 2's opening came due
        import time
        time.sleep(down_for)
        assert all(len(call.posts_in(g, "question")) == 1 for g in groups)
        call.restart()
        wait_until(lambda: all(call.posts_in(g, "close") for g in groups), timeout=20, what="the close after restart")
        for g in groups:
            kinds = [m.kind for m in call.posts_in(g)]
            # Question 1's warning fell due while down and its question's time is up: not posted late.
            assert kinds == ["welcome", "question", "question", "warning", "close"], kinds
    finally:
        call.close()


def test_a_crash_between_committing_and_posting_is_recovered(database_url, tmp_path):
    """Recovery posts what is missing and nothing twice (the post's idempotency key)."""
    from bot.services.port import ChatError

    prompts = prompts_copy(tmp_path, PROMPTS, {"slow": SLOW})
    call = Call(database_url, prompts, time_scale=0.02, people=6)
    real_post = call.chat.post
    calls = {"n": 0}

    def flaky_post(*, channel_id, message):
        calls["n"] += 1
        if channel_id.endswith("-2") and message.kind.value == "question":
            raise ChatError("channel_not_found")
        return real_post(channel_id=channel_id, message=message)

    call.chat.post = flaky_post  # type: ignore[method-assign]
    try:
        reply = call.facilitator_types("start slow")
        assert "group 2: channel_not_found" in reply
        assert len(call.posts_in("breakout-slow-1", "question")) == 1
        assert call.posts_in("breakout-slow-2", "question") == []
        call.chat.post = real_post  # type: ignore[method-assign]
        call.restart()
        wait_until(lambda: len(call.posts_in("breakout-slow-2", "question")) == 1, what="recovered question")
        assert len(call.posts_in("breakout-slow-1", "question")) == 1
        assert len(call.posts_in("breakout-slow-1", "welcome")) == 1
    finally:
        call.close()


def test_a_step_already_on_its_way_when_the_end_moved_does_not_advance(call):
    call.facilitator_types("start slow")
    breakout = call.status().breakout_id
    call.facilitator_types("extend 10")
    call.app.lifecycle.fire(breakout, "q1:open")  # the old job, handed to a worker before the extension
    call.app.lifecycle.fire(breakout, "close")
    status = call.status()
    assert (status.question_number, status.state) == (1, "running")
    assert {key for key, _ in call.app.clock.pending(breakout)} >= {"q1:open"}


def test_two_broadcasts_at_once_are_both_posted(call):
    import threading

    call.facilitator_types("start slow")
    replies = []
    threads = [threading.Thread(target=lambda t=t: replies.append(call.facilitator_types(f"broadcast {t}")))
               for t in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert replies == ["Sent to 3 of 3 groups."] * 2 or all("Sent to" in r for r in replies)
    for g in call.chat.channels:
        assert sorted(m.text for m in call.posts_in(g, "broadcast")) == ["first", "second"]


def test_odd_breakout_numbers_are_bad_arguments_not_crashes(call):
    for text in ("status ²", "status 99999999999999999999", "stop #x"):
        with pytest.raises(BadArguments, match="Usage"):
            call.facilitator_types(text)


def test_another_platforms_bot_on_the_same_database_leaves_our_breakouts_alone(database_url, tmp_path):
    from bot.adapters.local import LocalChat

    prompts = prompts_copy(tmp_path, PROMPTS, {"quick": QUICK})
    ours = Call(database_url, prompts, time_scale=0.02, people=6, clock_name="ours")
    ours.facilitator_types("start quick")
    groups = sorted(ours.chat.channels)
    ours.app.shutdown()
    theirs = Call(database_url, prompts, time_scale=0.02, people=6, clock_name="theirs",
                  chat=LocalChat(platform="elsewhere"))
    try:
        import time

        time.sleep(1.5)  # our question 2 and warnings come due while only the other bot runs
        assert theirs.chat.messages == {}
        assert all(len(ours.posts_in(g, "question")) == 1 for g in groups)
    finally:
        theirs.close()
    ours.restart()
    try:
        wait_until(lambda: all(ours.posts_in(g, "close") for g in groups), timeout=20, what="our close")
        assert all(len(ours.posts_in(g, "question")) == 2 for g in groups)
    finally:
        ours.close()


def test_a_stop_cut_short_is_finished_after_a_restart(database_url, tmp_path):
    from bot.services.port import ChatError

    prompts = prompts_copy(tmp_path, PROMPTS, {"slow": SLOW})
    call = Call(database_url, prompts, time_scale=0.02, people=6)
    closed: list[str] = []
    real_post = call.chat.post

    def dying_post(*, channel_id, message):
        if message.kind.value == "close" and channel_id.endswith("-2"):
            raise ChatError("the process died here")
        return real_post(channel_id=channel_id, message=message)

    def close_channel(*, channel_id, request, archive):
        if channel_id.endswith("-2"):
            raise ChatError("the process died here")
        closed.append(channel_id)

    call.chat.post = dying_post  # type: ignore[method-assign]
    call.chat.close_group_channel = close_channel  # type: ignore[method-assign]
    try:
        call.facilitator_types("start slow groups=2")
        assert "group 2" in call.facilitator_types("stop")
        assert call.posts_in("breakout-slow-2", "close") == [] and closed == ["breakout-slow-1"]
        call.chat.post = real_post  # type: ignore[method-assign]
        call.chat.close_group_channel = lambda *, channel_id, request, archive: closed.append(channel_id)  # type: ignore[method-assign]
        call.restart()
        assert closed == ["breakout-slow-1", "breakout-slow-2"]  # each tidied once
        assert [len(call.posts_in(g, "close")) for g in ("breakout-slow-1", "breakout-slow-2")] == [1, 1]
    finally:
        call.close()


def test_a_warning_whose_job_was_running_when_the_process_died_is_still_posted(database_url, tmp_path):
    """The clock drops a job as it starts it; a crash while the step runs leaves it in no store."""
    from bot.domain.timeline import Step, StepKind

    prompts = prompts_copy(tmp_path, PROMPTS, {"quick": QUICK})
    call = Call(database_url, prompts, time_scale=0.05, people=6)  # a question lasts 3 s, its warning at 1.5 s
    try:
        call.facilitator_types("start quick")
        groups = sorted(call.chat.channels)
        breakout_id = call.status().breakout_id
        warnings = [key for key, _ in call.app.clock.pending(breakout_id) if Step.parse(key).kind is StepKind.WARN]
        assert warnings, "question 1 has a warning on the clock"
        for key in warnings:  # as if the firing process had started the warning and died
            call.app.clock.cancel(breakout_id, slot=Step.parse(key).job_slot)
        call.restart()
        wait_until(lambda: all(call.posts_in(g, "warning") for g in groups), timeout=10, what="the warning")
        wait_until(lambda: all(call.posts_in(g, "close") for g in groups), timeout=20, what="the close")
        for g in groups:
            kinds = [m.kind for m in call.posts_in(g)]
            assert kinds == ["welcome", "question", "warning", "question", "warning", "close"], kinds
    finally:
        call.close()
