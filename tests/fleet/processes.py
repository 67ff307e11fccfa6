"""Real bot processes for the fleet tests and benchmarks/fleet.py: `python -m bot run slack` on a sandbox."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from bot.sandbox.slack import SlackSandbox

REPO = Path(__file__).resolve().parents[2]


def bot_env(sb: SlackSandbox, database_url: str, prompts: Path, *, time_scale: float) -> dict[str, str]:
    """The environment of a Socket Mode bot process on the sandbox (nothing else of ours leaks in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "BREAKOUT_"))}
    env.update(
        {
            "DATABASE_URL": database_url,
            "BREAKOUT_PROMPTS_DIR": str(prompts),
            "BREAKOUT_TIME_SCALE": str(time_scale),
            "SLACK_BOT_TOKEN": sb.bot_token,
            "SLACK_APP_TOKEN": sb.app_token,
            "SLACK_API_URL": sb.api_url,
            "SLACK_MODE": "socket",
            "LOG_LEVEL": "INFO",
        }
    )
    return env


class BotProcess:
    """One `python -m bot run slack` (or another platform), its log read in the background."""

    def __init__(self, env: dict[str, str], platform: str = "slack") -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", platform],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)

    def said(self, words: str) -> bool:
        return any(words in line for line in self.log)

    @property
    def fires(self) -> bool:
        """Whether this process has taken the clock (it logs so when it does)."""
        return any("now fires the clock" in line for line in self.log)

    def cpu_seconds(self) -> float:
        """User + system CPU time so far (Linux /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
