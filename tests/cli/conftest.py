"""The command line as a newcomer meets it: a clean working folder, no credentials, no .env."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROMPTS = REPO / "prompts"
SETTINGS_NAMES = ("DATABASE_URL", "BREAKOUT_", "SLACK_", "DISCORD_", "LOG_LEVEL")


def clean_environment() -> dict[str, str]:
    """The process environment without any of the bot's settings, and with the checkout's prompts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_NAMES)}
    env["BREAKOUT_PROMPTS_DIR"] = str(PROMPTS)
    env["PYTHONPATH"] = str(REPO)
    return env


@pytest.fixture
def newcomer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """main() run in an empty folder with none of the bot's settings: the working folder is returned."""
    for name in list(os.environ):
        if name.startswith(SETTINGS_NAMES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BREAKOUT_PROMPTS_DIR", str(PROMPTS))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    root = logging.getLogger()
    level = root.level
    try:
        yield work
    finally:
        root.setLevel(level)  # ``run`` quiets the root logger for the demo's transcript


def breakout_bot(args: Sequence[str], *, cwd: Path, **popen: object) -> subprocess.Popen[str]:
    """``python -m bot ARGS`` in its own process, as a person would run it."""
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=clean_environment(),
        text=True,
        stdout=popen.pop("stdout", subprocess.PIPE),
        stderr=subprocess.PIPE,
        **popen,
    )
