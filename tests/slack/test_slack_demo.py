"""`breakout-bot demo --platform slack`: the whole story on the sandbox, with the bot's real output."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.demo.slack import run_slack_demo

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"


@pytest.mark.parametrize("mode", ["socket", "http"])
def test_demo_prints_the_summary_the_bot_uploaded(tmp_path: Path, mode: str) -> None:
    settings = Settings.from_mapping({"DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
                                      "BREAKOUT_PROMPTS_DIR": str(PROMPTS), "BREAKOUT_TIME_SCALE": "0.005"})  # a question lasts 3 s
    lines: list[str] = []
    out = tmp_path / "summary.md"
    text = run_slack_demo(settings, out=out, mode=mode, echo=lines.append)
    assert out.read_text(encoding="utf-8") == text
    assert text.startswith("Conversations for Kindness") and "# Kindness in Education" in text
    assert "kindness feeds that will" in text  # Paul's edit
    assert "Schwartz rounds" not in text  # Devi deleted it
    assert "rank gets in the way" not in text  # Sam said not to quote him
    assert "**Bob Kettering:**" in text and "**Matthew:**" in text
    assert "Ask Matthew about the one-team idea" in text  # the mention, under Matthew's agreed name
    assert any(line.startswith("$ /summary") for line in lines)
