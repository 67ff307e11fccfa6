"""The state rules of a breakout and the names of its steps, without a database or a clock."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.breakout import BreakoutState, Due, Phase, channel_name, what_is_due
from bot.domain.timeline import Step, StepKind

T0 = dt.datetime(2026, 3, 4, 18, 0, tzinfo=dt.UTC)


def running(question: int = 0, *, left: float = 300.0, round: int = 0, count: int = 3) -> BreakoutState:
    return BreakoutState(Phase.RUNNING, question, count, round, T0, T0 + dt.timedelta(seconds=left), None)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("step", "key"),
    [
        (Step(StepKind.OPEN, 0), "q0:open"),
        (Step(StepKind.WARN, 1, 2.0, 3), "q1:warn2:r3"),
        (Step(StepKind.WARN, 1, 0.5), "q1:warn0.5:r0"),
        (Step(StepKind.CLOSE), "close"),
        (Step(StepKind.WELCOME), "welcome"),
        (Step(StepKind.EXTEND, 2, round=4), "q2:extend:r4"),
        (Step(StepKind.BROADCAST, token="0123abcd"), "broadcast:0123abcd"),
        (Step(StepKind.CHANNEL_CLOSED), "channel-closed"),
    ],
)
def test_every_step_key_keeps_its_stored_form_and_reads_back(step, key):
    # These keys are stored in posts and job ids by earlier versions: they must not change.
    assert step.key == key
    assert Step.parse(key) == step


@pytest.mark.parametrize("key", ["", "q:open", "qx:open", "q1:shout", "broadcast:", "x1:open"])
def test_a_key_that_is_not_a_step_is_refused(key):
    with pytest.raises(ValueError):
        Step.parse(key)


def test_pause_keeps_the_time_left_and_resume_gives_it_back():
    paused = running(left=300).paused(at(120))
    assert (paused.phase, paused.ends_at, paused.paused_left) == (Phase.PAUSED, None, 180.0)
    assert paused.seconds_left(at(10_000)) == 180.0  # the clock stands still while paused
    resumed = paused.resumed(at(1000))
    assert (resumed.phase, resumed.ends_at, resumed.paused_left) == (Phase.RUNNING, at(1180), None)
    assert resumed.opened_at == T0  # the question did not reopen


def test_pausing_an_overdue_question_leaves_nothing_rather_than_less():
    assert running(left=60).paused(at(90)).paused_left == 0.0
    assert running(left=60).seconds_left(at(90)) == 0.0


def test_extend_moves_the_end_or_adds_to_the_paused_time_and_starts_a_new_round():
    longer = running(left=300, round=1).extended(120)
    assert (longer.ends_at, longer.round) == (at(420), 2)
    paused = running(left=300).paused(at(100)).extended(60)
    assert (paused.paused_left, paused.round, paused.ends_at) == (260.0, 1, None)


def test_the_next_question_opens_now_and_a_paused_breakout_stays_paused():
    moved = running(0, left=10, round=2).advanced(at(5), 600)
    assert (moved.question, moved.round, moved.opened_at, moved.ends_at) == (1, 0, at(5), at(605))
    paused = running(0).paused(at(5)).advanced(at(7), 600)
    assert (paused.phase, paused.question, paused.paused_left, paused.ends_at) == (Phase.PAUSED, 1, 600, None)


def test_stopped_has_no_time_left():
    stopped = running().paused(at(1)).stopped()
    assert (stopped.phase, stopped.ends_at, stopped.paused_left, stopped.seconds_left(at(2))) == (
        Phase.STOPPED,
        None,
        None,
        None,
    )


def test_a_warning_fires_only_for_the_open_question_in_its_round_and_in_time():
    state = running(1, left=300, round=1)
    assert what_is_due(state, Step(StepKind.WARN, 1, 2, 1), at(200)) is Due.WARN
    assert what_is_due(state, Step(StepKind.WARN, 1, 2, 0), at(200)) is Due.NOTHING  # before the extension
    assert what_is_due(state, Step(StepKind.WARN, 0, 2, 1), at(200)) is Due.NOTHING  # an earlier question
    assert what_is_due(state, Step(StepKind.WARN, 1, 2, 1), at(300)) is Due.NOTHING  # fell due while down


def test_an_opening_that_comes_early_is_put_back_and_one_on_time_moves_on():
    state = running(0, left=300)
    assert what_is_due(state, Step(StepKind.OPEN, 1), at(100)) is Due.RESCHEDULE
    assert what_is_due(state, Step(StepKind.OPEN, 1), at(299.9)) is Due.OPEN_NEXT  # within the tolerance
    assert what_is_due(state, Step(StepKind.OPEN, 0), at(100)) is Due.REPOST_OPEN
    assert what_is_due(state, Step(StepKind.OPEN, 2), at(400)) is Due.NOTHING


def test_the_close_ends_only_the_last_question_and_only_when_due():
    assert what_is_due(running(2, left=300), Step(StepKind.CLOSE), at(100)) is Due.RESCHEDULE
    assert what_is_due(running(2, left=300), Step(StepKind.CLOSE), at(300)) is Due.CLOSE
    assert what_is_due(running(1, left=300), Step(StepKind.CLOSE), at(300)) is Due.NOTHING


def test_nothing_is_due_unless_running_and_posts_off_the_clock_never_are():
    paused = running(0).paused(at(1))
    for step in (Step(StepKind.OPEN, 1), Step(StepKind.CLOSE), Step(StepKind.WARN, 0, 2)):
        assert what_is_due(paused, step, at(1000)) is Due.NOTHING
        assert what_is_due(paused.stopped(), step, at(1000)) is Due.NOTHING
    for step in (Step(StepKind.WELCOME), Step(StepKind.EXTEND, 0), Step(StepKind.BROADCAST, token="a")):
        assert what_is_due(running(0), step, at(1000)) is Due.NOTHING


def test_channel_names_fit_slack_and_keep_the_group_number():
    assert channel_name("quick", 2) == "breakout-quick-2"
    long = channel_name("x" * 100, 12)
    assert len(long) <= 80 and long.endswith("-12")


def test_a_prepared_breakout_starts_on_question_one_and_nothing_falls_due_before():
    prepared = BreakoutState(Phase.PREPARED, 0, 3, 0, None, None, None)
    assert what_is_due(prepared, Step(StepKind.CLOSE), at(10_000)) is Due.NOTHING
    assert prepared.seconds_left(at(0)) is None and not prepared.can_pause
    started = prepared.started(at(60), 300.0)
    assert started.phase is Phase.RUNNING and started.question == 0 and started.opened_at == at(60)
    assert started.ends_at == at(360) and started.seconds_left(at(60)) == 300.0
    with pytest.raises(AssertionError):
        running().started(at(0), 300.0)
