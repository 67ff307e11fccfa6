"""Bad input on Slack: broken plan files, odd plan names and unreadable headers get clear answers."""

from __future__ import annotations

import time

from bot.sandbox.slack.delivery import SLASH_COMMANDS
from tests.core.harness import QUICK_PLAN, prompts_copy
from tests.core.test_bad_input import NASTY
from tests.slack.conftest import PROMPTS


def test_broken_plans_only_affect_themselves(call_factory, tmp_path) -> None:
    prompts = prompts_copy(
        tmp_path,
        PROMPTS,
        {
            "negative": QUICK_PLAN.replace("minutes: 1\n", "minutes: -5\n", 1),
            "syntax": "title: x\nquestions:\n  - text: [unclosed\n",
            "bomb": NASTY["alias bomb"],
            "deep": NASTY["deep nesting"],
        },
    )
    call = call_factory(extra={"BREAKOUT_PROMPTS_DIR": str(prompts)})
    for text in ("help", "", "frobnicate"):
        started = time.monotonic()
        result = call.fiona.run_command(call.home, "/breakout", text)
        assert result.acked and time.monotonic() - started < 3, text
        assert "Usage: /breakout" in result.ack_text and "kindness-in-education" in result.ack_text, result.ack_text
        assert "bomb" not in result.ack_text  # the list shows the plans that can start

    answer = call.answer(call.breakout("start negative groups=2"))
    assert answer.startswith("The plan 'negative' has 1 problem, so nothing was started."), answer
    assert "line 6: question 1 needs minutes as a positive number (got -5)" in answer, answer
    assert "hint: for example minutes: 10" in answer, answer
    assert "Something went wrong" not in answer
    assert "The plan 'bomb' has 1 problem" in call.answer(call.breakout("start bomb"))
    for name in ("../../etc/passwd", "/etc/hostname", "x" * 300):
        assert call.answer(call.breakout(f"start {name}")).startswith("There is no plan called")
    assert not call.sb.calls("conversations.create")
    assert call.answer(call.breakout("start kindness-in-education groups=2")).startswith("Started Kindness")


def test_a_timestamp_that_is_not_a_number_is_refused_as_unsigned(call_factory) -> None:
    call = call_factory(mode="http")
    payload = {
        "command": "/breakout",
        "text": "status",
        "user_id": call.fiona.id,
        "channel_id": call.home.id,
        "team_id": call.sb.team_id,
    }
    for timestamp in ("soon", "1e9", "", "9" * 5000, "12a", "-1"):
        status, _ = call.sb.send_raw(SLASH_COMMANDS, payload, headers={"X-Slack-Request-Timestamp": timestamp})
        assert status == 401, (timestamp, status)
    assert call.fiona.run_command(call.home, "/breakout", "help").acked  # and the bot carries on
