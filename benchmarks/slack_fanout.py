"""How long a Slack breakout start takes under Slack's rate tiers, and how many calls it costs.

    .venv/bin/python benchmarks/slack_fanout.py [--groups 13 50 100] [--size 5] [--time-scale 0.1] [--no-tiers]

For each size: the real bot (socket mode) on the Slack sandbox with Slack's published tiers enforced
(bot/sandbox/slack/tiers.py) on a clock running ``--time-scale`` times Slack's speed; the facilitator
types ``/breakout start PLAN size=N`` and the clock stops when question 1 is in every group. Then the
same with ``/breakout prepare PLAN size=N`` typed first (its own time and calls on the "prepare" row;
the "start" row after it is what the call waits for), in a fresh workspace so the tiers start full.
Prints the calls per method, the 429s, and the modelled Slack time (wall time / time scale). The
bot's own work is scaled up with it (1 s of wall time is 10 Slack seconds at 0.1), so the same run
without tiers is printed above it as that share, and "est. s" puts the two together: the time the
tiers added, in Slack seconds, plus the bot's own work at its real speed. On a loaded machine the
bot's own share swings from run to run. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import collections
import logging
import random
import tempfile
import time
from pathlib import Path
from typing import Any

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


def one(groups: int, size: int, *, time_scale: float, tiers: bool, prepare: bool) -> list[dict[str, object]]:
    """One start of `groups` groups of `size` (after a prepare if `prepare`); the figures of each command."""
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
            rows: list[dict[str, object]] = []
            if prepare:
                rows.append(timed(sb, fiona, home, f"prepare {PLAN} size={size}", None, time_scale, "prepare"))
            rows.append(timed(sb, fiona, home, f"start {PLAN} size={size}", groups, time_scale, "start"))
            return rows
        finally:
            if bot._handler is not None:
                bot._handler.client.auto_reconnect_enabled = False
            sb.drop_socket_connections(graceful=True)
            bot.stop(wait=False)


def timed(
    sb: SlackSandbox, fiona: Any, home: Any, text: str, groups: int | None, time_scale: float, label: str
) -> dict[str, object]:
    """Type ``/breakout TEXT``; the clock stops at question 1 in every one of ``groups`` groups (or, with
    None, at the command's final answer)."""
    before = len(sb.calls())
    started = time.perf_counter()
    result = fiona.run_command(home, "/breakout", text)
    assert result.acked, result
    interim = ("Starting ", "Setting up the breakout")

    def answered() -> bool:
        return bool(result.responses) and not result.responses[-1].text.startswith(interim)

    def posted() -> bool:
        channels = [c for c in sb.workspace.channels.values() if c.name.startswith("breakout-")]
        return len(channels) >= (groups or 0) and all(has_question_1(sb, c) for c in channels)

    sb.wait_until(posted if groups else answered, timeout=1200, message=f"/breakout {text}")
    wall = time.perf_counter() - started
    calls = sb.calls()[before:]
    # Let the command finish (its answer to the facilitator) before the next one or the bot's stop.
    sb.wait_until(answered, timeout=300, message="the command's final answer")
    if not groups:
        assert result.responses[-1].text.startswith("Prepared"), result.responses[-1].text
    time.sleep(0.2)
    return {
        "label": label,
        "wall": wall,
        "slack": wall / time_scale,
        "calls": collections.Counter(c.method for c in calls),
        "throttled": sum(1 for c in calls if c.fault == "tier"),
    }


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
        f"{'groups':>6} {'people':>6} {'tiers':>5} {'command':>17} {'wall s':>7} {'Slack s':>8} {'est. s':>7} "
        f"{'calls':>6} {'429s':>5}  calls by method"
    )
    for groups in args.groups:
        for prepare in (False, True):
            # Without tiers first: its wall time is the bot's own share, for the estimate on the tiered row.
            own: dict[str, float] = {}
            for tiers in [False] if args.no_tiers else [False, True]:
                for r in one(groups, args.size, time_scale=args.time_scale, tiers=tiers, prepare=prepare):
                    label, wall = str(r["label"]), float(r["wall"])  # type: ignore[arg-type]
                    calls: collections.Counter[str] = r["calls"]  # type: ignore[assignment]
                    detail = ", ".join(f"{m} {n}" for m, n in sorted(calls.items()))
                    slack, estimate = f"{'-':>8}", f"{'-':>7}"
                    if tiers:
                        slack = f"{r['slack']:>8.1f}"
                        if label in own:  # the tiers' share in Slack seconds, the bot's own at its real speed
                            waited = max(0.0, wall - own[label]) / args.time_scale
                            estimate = f"{waited + own[label]:>7.1f}"
                    else:
                        own[label] = wall
                    command = f"{label}{' (prepared)' if prepare and label == 'start' else ''}"
                    print(
                        f"{groups:>6} {groups * args.size:>6} {'on' if tiers else 'off':>5} {command:>17} "
                        f"{wall:>7.2f} {slack} {estimate} {sum(calls.values()):>6} {r['throttled']:>5}  {detail}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
