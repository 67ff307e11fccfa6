"""Two `breakout-bot run discord` processes on one PostgreSQL: one holds the gateway, the other waits.

Discord gives a server's events to one gateway session, so a second process must not connect while
the first lives; when the holder is killed with ``kill -9``, the standby connects and answers.
"""

from __future__ import annotations

import os
import time

import pytest

from bot.sandbox.discord import DiscordSandbox
from tests.conftest import PROMPTS, _postgres_url
from tests.fleet.processes import BotProcess

pytestmark = pytest.mark.skipif(not _postgres_url(), reason="a fleet needs PostgreSQL (BREAKOUT_TEST_DATABASE_URL)")


def test_one_process_holds_the_gateway_and_a_standby_takes_over_after_kill_9(pg_url: str, tmp_path: object) -> None:
    with DiscordSandbox() as sb:
        sb.add_guild()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "BREAKOUT_"))}
        env.update(
            {
                "DATABASE_URL": pg_url,
                "BREAKOUT_PROMPTS_DIR": str(PROMPTS),
                "DISCORD_TOKEN": sb.token,
                "DISCORD_API_URL": sb.rest_base,
                "LOG_LEVEL": "INFO",
            }
        )
        first = BotProcess(env, platform="discord")
        sb.wait_until(lambda: sb.identifies == 1, 60)
        second = BotProcess(env, platform="discord")
        try:
            sb.wait_until(lambda: second.said("waiting as a standby"), 60)
            time.sleep(1.0)
            assert sb.identifies == 1, "the standby must not open a second gateway session"
            first.kill()
            killed = time.monotonic()
            sb.wait_until(lambda: sb.identifies == 2, 30)
            assert time.monotonic() - killed < 15
            assert second.said("now holds the Discord gateway")
        finally:
            for p in (first, second):
                p.stop()
