"""Demo sessions: a whole breakout with simulated people, on each platform's sandbox.

Every platform's demo tells the same story (``bot.demo.script``) and keeps its breakout in the
settings' database, so ``breakout-bot summary N`` reaches it afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.config import Settings

PLATFORMS = ("slack", "discord", "local")
SLACK_MODES = ("socket", "http")


def default_platform() -> str:
    """The Slack sandbox when slack-bolt is installed (it always is from setup.sh), else the in-memory one."""
    try:
        import bot.demo.slack  # noqa: F401
    except ImportError:
        return "local"
    return "slack"


def run_demo(
    settings: Settings, *, platform: str, out: Path, mode: str = "socket", echo: Callable[[str], None] = print
) -> str:
    """Run the story on one platform; returns the summary's Markdown (also written to ``out``)."""
    if platform == "local":
        from bot.demo.local import run_local_demo

        return run_local_demo(settings, out=out, echo=echo)
    if platform == "slack":
        from bot.demo.slack import run_slack_demo

        return run_slack_demo(settings, out=out, mode=mode, echo=echo)
    if platform == "discord":
        from bot.demo.discord import run_discord_demo

        return run_discord_demo(settings, out=out, echo=echo)
    raise ValueError(f"no demo for platform {platform!r}; choose one of {', '.join(PLATFORMS)}")
