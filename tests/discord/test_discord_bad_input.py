"""Bad input on Discord: an invalid plan answers with its problems; a path is no plan name."""

from __future__ import annotations

import re

from bot.sandbox.discord import DiscordSandbox
from tests.conftest import PROMPTS
from tests.core.harness import prompts_copy
from tests.core.test_bad_input import NASTY

from .harness import SLOW, DiscordCall


def test_an_invalid_plan_answers_with_its_problems(sandbox: DiscordSandbox, database_url: str, tmp_path) -> None:
    prompts = prompts_copy(tmp_path, PROMPTS, {
        "negative": SLOW.replace("minutes: 120\n", "minutes: -5\n", 1),
        "bomb": NASTY["alias bomb"],
        "slow": SLOW,
    })
    call = DiscordCall(sandbox, database_url, prompts)
    try:
        reply = call.fiona.run_command(call.chat, "breakout start", plan="negative").wait(messages=1, timeout=15)
        text = re.sub(r"\\(.)", r"\1", reply.text)  # Discord's Markdown escapes, undone
        assert reply.ephemeral and text.startswith("The plan 'negative' has 1 problem, so nothing was started."), text
        assert "needs minutes as a positive number (got -5)" in text and "hint: for example minutes: 10" in text, text
        assert re.search(r"line \d+: question 1", text), text
        for name in ("bomb", "../../etc/passwd", "x" * 90):
            reply = call.fiona.run_command(call.chat, "breakout start", plan=name).wait(messages=1, timeout=15)
            text = re.sub(r"\\(.)", r"\1", reply.text)
            assert "Something went wrong" not in text and text.startswith(("The plan 'bomb'", "There is no plan")), text
        assert call.group_channels() == []
    finally:
        call.close()
