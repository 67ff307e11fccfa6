"""How long a Slack breakout start takes under Slack's rate tiers, and how many calls it costs.

    .venv/bin/python benchmarks/slack_fanout.py [--groups 13 50 100] [--size 5] [--time-scale 0.1] [--no-tiers]

For each size: the real bot (socket mode) on the Slack sandbox with Slack's published tiers enforced
(bot/sandbox/slack/tiers.py) on a clock running ``--time-scale`` times Slack's speed; the facilitator
types ``/breakout start PLAN size=N`` and the clock stops when question 1 is in every group. Prints
the calls per method, the 429s, and the modelled Slack time (wall time / time scale). The bot's own
work is scaled up with it (1 s of wall time is 10 Slack seconds at 0.1), so the run with
``--no-tiers`` is printed beside it as that share. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import collections
import logging
import random
import tempfile
import time
from pathlib import Path

import yaml

from bot.adapters.slack.client import RetryAfterHandler, make_web_client
from bot.adapters.slack.runner import SlackBot
from bot.config import Settings
from bot.sandbox.slack import SlackSandbox

REPO = Path(__file__).resolve().parents[1]
PLAN = "kindness-in-education"


def has_question_1(sb: SlackSandbox, channel: object) -> bool:
    for m in sb.bot_messages(channel, threads=False):
        for b in m.get("blocks") or []:
            if b.get("type") == "header" and str(b["text"]["text"]).startswith("Question 1 of"):
                return True
    return False


def one(groups: int, size: int, *, time_scale: float, tiers: bool) -> dict[str, object]:
    """One start of `groups` groups of `size`; the figures of that run."""
    tmp = Path(tempfile.mkdtemp(prefix="slack-fanout-"))
    with SlackSandbox(time_scale=time_scale, rate_tiers=tiers, ack_timeout=3.0) as sb:
        manifest = yaml.safe_load((REPO / "deploy" / "slack-manifest.yaml").read_text(encoding="utf-8"))
        sb.subscriptions = set(manifest["settings"]["event_subscriptions"]["bot_events"])
        fiona = sb.add_user("Fiona Mensah", display_name="Fiona", is_admin=True)
        people = [sb.add_user(f"Person{i} Guest{i}", display_name=f"Person{i}") for i in range(groups * size)]
        home = sb.add_channel("community-call", [fiona, *people])
        settings = Settings.from_mapping(
            {
                "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
                "BREAKOUT_PROMPTS_DIR": str(REPO / "prompts"),
                "SLACK_BOT_TOKEN": sb.bot_token,
                "SLACK_APP_TOKEN": sb.app_token,
                "SLACK_SIGNING_SECRET": sb.signing_secret,
                "SLACK_API_URL": sb.api_url,
                "SLACK_MODE": "socket",
            }
        )
        client = make_web_client(settings, backoff_factor=0.01)
        for handler in client.retry_handlers:
            if isinstance(handler, RetryAfterHandler):
                handler.sleep = sb.sleep  # Retry-After is in Slack seconds; this Slack runs faster
        bot = SlackBot(settings, client=client, ping_interval=0.5, rng=random.Random(4), clock_name=f"bench-{groups}")
        bot.start()
        try:
            sb.wait_until(lambda: sb.socket_mode.connections, timeout=10, message="the bot's connection")
            before = len(sb.calls())
            started = time.perf_counter()
            result = fiona.run_command(home, "/breakout", f"start {PLAN} size={size}")
            assert result.acked, result

            def done() -> bool:
                channels = [c for c in sb.workspace.channels.values() if c.name.startswith("breakout-")]
                return len(channels) >= groups and all(has_question_1(sb, c) for c in channels)

            sb.wait_until(done, timeout=600, message="question 1 in every group")
            wall = time.perf_counter() - started
            calls = sb.calls()[before:]
            # Let the command finish (its answer to the facilitator) before the bot is stopped.
            interim = ("Starting ", "Setting up the breakout")
            sb.wait_until(
                lambda: result.responses and not result.responses[-1].text.startswith(interim),
                timeout=120,
                message="the start's final answer",
            )
            time.sleep(0.2)
            return {
                "wall": wall,
                "slack": wall / time_scale,
                "calls": collections.Counter(c.method for c in calls),
                "throttled": sum(1 for c in calls if c.fault == "tier"),
                "groups": len([c for c in sb.workspace.channels.values() if c.name.startswith("breakout-")]),
            }
        finally:
            if bot._handler is not None:
                bot._handler.client.auto_reconnect_enabled = False
            sb.drop_socket_connections(graceful=True)
            bot.stop(wait=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, nargs="+", default=[13, 50, 100])
    parser.add_argument("--size", type=int, default=5, help="people per group (the plan's size=N)")
    parser.add_argument("--time-scale", type=float, default=0.1, help="Slack's clock speed (0.1: a minute is 6 s)")
    parser.add_argument("--no-tiers", action="store_true", help="only the run without rate tiers")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(
        f"time scale {args.time_scale} (a Slack minute lasts {60 * args.time_scale:g} s); plan {PLAN}, size={args.size}"
    )
    print(
        f"{'groups':>6} {'people':>6} {'tiers':>5} {'wall s':>7} {'Slack s':>8} {'calls':>6} {'429s':>5}  calls by method"
    )
    for groups in args.groups:
        for tiers in [False] if args.no_tiers else [True, False]:
            r = one(groups, args.size, time_scale=args.time_scale, tiers=tiers)
            calls: collections.Counter[str] = r["calls"]  # type: ignore[assignment]
            detail = ", ".join(f"{m} {n}" for m, n in sorted(calls.items()))
            slack = f"{r['slack']:>8.1f}" if tiers else f"{'-':>8}"
            print(
                f"{groups:>6} {groups * args.size:>6} {'on' if tiers else 'off':>5} {r['wall']:>7.2f} {slack} "
                f"{sum(calls.values()):>6} {r['throttled']:>5}  {detail}",
                flush=True,
            )


if __name__ == "__main__":
    main()
