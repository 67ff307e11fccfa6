"""How long a Discord breakout start takes on the sandbox, and how many requests it costs.

    .venv/bin/python benchmarks/discord_fanout.py [--groups 4 13 25] [--voice] [--limits]

Prints figures; asserts nothing (speed is measured here, not in the tests). ``--limits`` turns on
Discord-like rate-limit buckets, shrunk 10x in time, to see how much waiting they add.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import tempfile
import time
from pathlib import Path

from bot.adapters.discord.client import REQUIRED_PERMISSIONS
from bot.adapters.discord.runner import build
from bot.config import Settings, default_prompts_dir

from bot.sandbox.discord.runner import ClientThread
from bot.sandbox.discord.server import DiscordSandbox

PLAN = """
title: Bench
questions:
  - text: What went well?
    minutes: 120
groups:
  size: 4
naming:
  default: anonymous
channels:
  voice: {voice}
"""

LIMITS = {"POST /channels/{channel_id}/messages": (5, 0.5), "POST /guilds/{guild_id}/channels": (10, 1.0),
          "PATCH /guilds/{guild_id}/members/{user_id}": (10, 1.0)}


def one(groups: int, *, voice: bool, limits: bool) -> tuple[float, int, collections.Counter[str], int]:
    tmp = Path(tempfile.mkdtemp(prefix="discord-bench-"))
    prompts = tmp / "prompts"
    shutil.copytree(default_prompts_dir(), prompts)
    (prompts / "plans" / "bench.yaml").write_text(PLAN.format(voice=str(voice).lower()), encoding="utf-8")
    with DiscordSandbox(rate_limits=LIMITS if limits else None) as sb:
        previous = sb.point_discord_py()
        guild = sb.add_guild("Bench", bot_permissions=REQUIRED_PERMISSIONS.value)
        host = sb.add_member(guild, "host", is_admin=True)
        chat = sb.add_text_channel(guild, "call")
        call = sb.add_voice_channel(guild, "Call")
        host.join_voice(call)
        for i in range(groups * 4):
            sb.add_member(guild, f"p{i}").join_voice(call)
        settings = Settings.from_mapping({"DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}", "BREAKOUT_PROMPTS_DIR": str(prompts),
                                          "DISCORD_TOKEN": sb.token, "DISCORD_API_URL": sb.rest_base})
        runtime = build(settings, guild_ready_timeout=0.05)
        thread = ClientThread(runtime.bot, sb.token).start()
        try:
            thread.call(runtime.bot.tree.sync())
            sb.wait_until(lambda: runtime.bot.core_started, 30)
            before = len(sb.rest_log)
            started = time.perf_counter()
            host.run_command(chat, "breakout start", plan="bench").wait(timeout=300, messages=1)
            elapsed = time.perf_counter() - started
            calls = sb.rest_log[before:]
            return elapsed, len(calls), collections.Counter(f"{c.method} {c.route}" for c in calls), len(sb.unexpected_429s)
        finally:
            thread.stop()
            runtime.app.shutdown()
            from bot.sandbox.discord.pointing import point_discord_py_at

            point_discord_py_at(*previous)
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, nargs="+", default=[4, 13, 25])
    parser.add_argument("--voice", action="store_true", help="a voice room per group, and the moves")
    parser.add_argument("--limits", action="store_true", help="Discord-like rate-limit buckets (10x faster)")
    args = parser.parse_args()
    print(f"{'groups':>6} {'people':>6} {'seconds':>8} {'requests':>8} {'429s':>5}  by route")
    for groups in args.groups:
        elapsed, total, routes, unexpected = one(groups, voice=args.voice, limits=args.limits)
        detail = ", ".join(f"{route} x{n}" for route, n in routes.most_common())
        print(f"{groups:>6} {groups * 4:>6} {elapsed:>8.2f} {total:>8} {unexpected:>5}  {detail}")


if __name__ == "__main__":
    main()
