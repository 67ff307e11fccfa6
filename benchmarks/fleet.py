"""A fleet on PostgreSQL: what 1, 2 and 3 bot processes capture, and how fast a standby takes over.

Real `python -m bot run slack` processes on one PostgreSQL, connected to one sandbox workspace in
Socket Mode (the sandbox spreads envelopes over the connections, as Slack does). Prints figures;
asserts nothing.

    .venv/bin/python benchmarks/fleet.py [--database postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--messages 1500] [--in-flight 50] [--takeovers 5]

- capture: replies posted with a bounded number in flight; per fleet size, the throughput (replies
  stored per second), the ack latency p50/p99 measured by the sandbox, acks over 3 s, and the bot
  processes' CPU seconds per reply (judge scaling by this: the processes share 2 cores with
  PostgreSQL and the load).
- 429s: calls the sandbox refused under Slack's rate tiers (each process looks every author up once,
  so a fleet spends more users.info calls than one process).
- takeover: the firing process is killed with SIGKILL between two steps; the time from the kill to
  the next step's post, and how late that post was against its due time. Median of N.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.sandbox.slack import SlackSandbox  # noqa: E402
from tests.core.harness import QUICK_PLAN, SLOW_PLAN, prompts_copy  # noqa: E402
from tests.fleet.processes import BotProcess, bot_env  # noqa: E402

PROMPTS = REPO / "prompts"
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class Schema:
    """A scratch schema on the database, dropped afterwards."""

    def __init__(self, base: str) -> None:
        self.base, self.name = base, f"bench_{uuid.uuid4().hex[:10]}"
        self.admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as c:
            c.execute(sa.text(f'CREATE SCHEMA "{self.name}"'))
        self.url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{self.name}"
        self.engine = sa.create_engine(self.url)

    def count(self, sql: str) -> int:
        with self.engine.connect() as c:
            return int(c.execute(sa.text(sql)).scalar_one())

    def drop(self) -> None:
        self.engine.dispose()
        with self.admin.connect() as c:
            c.execute(sa.text(f'DROP SCHEMA "{self.name}" CASCADE'))
        self.admin.dispose()


def wait(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def start_fleet(sb: SlackSandbox, url: str, prompts: Path, n: int, time_scale: float) -> list[BotProcess]:
    before = sb.socket_mode.connection_count
    bots = [BotProcess(bot_env(sb, url, prompts, time_scale=time_scale)) for _ in range(n)]
    wait(
        lambda: sb.socket_mode.connection_count - before >= n and len(sb.socket_mode.connections) >= n,
        120,
        f"{n} connections",
    )
    wait(lambda: sum(b.fires for b in bots) == 1, 60, "one firing process")
    return bots


def start_breakout(sb: SlackSandbox, plan: str, people: int) -> tuple[object, list[object], list[object]]:
    tag = uuid.uuid4().hex[:4]
    fiona = sb.add_user(f"Fiona {tag}", display_name="Fiona", is_admin=True)
    members = [sb.add_user(f"Person{i} Guest{tag}", display_name=f"P{i}") for i in range(people)]
    home = sb.add_channel(f"call-{tag}", [fiona, *members])
    result = fiona.run_command(home, "/breakout", f"start {plan} size=5")
    wait(lambda: result.responses and result.responses[-1].text.startswith("Started"), 120, "the start")
    groups = [
        c
        for c in sb.workspace.channels.values()
        if c.name.startswith("breakout-") and any(m.id in c.members for m in members)
    ]
    return home, members, groups


def capture_run(base: str, n: int, messages: int, in_flight: int) -> dict[str, float]:
    schema = Schema(base)
    with tempfile.TemporaryDirectory() as tmp, SlackSandbox(ack_timeout=5.0, connect_wait=5.0) as sb:
        prompts = prompts_copy(Path(tmp), PROMPTS, {"slow": SLOW_PLAN})
        bots = start_fleet(sb, schema.url, prompts, n, time_scale=1.0)
        try:
            _, members, groups = start_breakout(sb, "slow", 50)
            channel_of = {p.id: next(g for g in groups if p.id in g.members) for p in members}  # type: ignore[attr-defined]
            before_events = len(sb.events())
            cpu_before = sum(b.cpu_seconds() for b in bots)
            started = time.monotonic()

            def say(i: int) -> None:
                person = members[i % len(members)]
                person.post(channel_of[person.id], f"reply {i} about kindness at work")  # type: ignore[attr-defined]

            gate = threading.Semaphore(in_flight)

            def one(i: int) -> None:
                with gate:
                    say(i)

            with ThreadPoolExecutor(max_workers=in_flight) as pool:
                list(pool.map(one, range(messages)))
            wait(lambda: schema.count("SELECT count(*) FROM quotes") >= messages, 300, "every reply stored")
            elapsed = time.monotonic() - started
            wait(lambda: all(d.done.is_set() for d in sb.events()[before_events:]), 60, "every ack")
            cpu = sum(b.cpu_seconds() for b in bots) - cpu_before
            latencies = [
                a.acked_at - d.attempts[0].sent_at
                for d in sb.events()[before_events:]
                if d.kind == "events_api" and d.attempts
                for a in d.attempts[-1:]
                if a.acked_at is not None
            ]
            spread = {a.connection for d in sb.events()[before_events:] for a in d.attempts}
            stored = schema.count("SELECT count(*) FROM quotes")
            throttled = len(sb.throttled())
        finally:
            for b in bots:
                b.stop()
            schema.drop()
    latencies.sort()
    return {
        "throughput": messages / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "over_3s": sum(1 for x in latencies if x > 3.0),
        "cpu_ms_per_reply": 1000 * cpu / messages,
        "connections_used": len(spread),
        "stored": stored,
        "throttled": throttled,
    }


def takeover_run(base: str, time_scale: float) -> tuple[float, float]:
    """Seconds from kill -9 to the next step's post, and how late that post was against its due time."""
    schema = Schema(base)
    with tempfile.TemporaryDirectory() as tmp, SlackSandbox(ack_timeout=5.0, connect_wait=5.0) as sb:
        prompts = prompts_copy(Path(tmp), PROMPTS, {"quick": QUICK_PLAN})
        bots = start_fleet(sb, schema.url, prompts, 2, time_scale=time_scale)
        try:
            _, _, groups = start_breakout(sb, "quick", 10)
            # The warning of question 1 falls due half a (scaled) minute after the start.
            due = time.monotonic() + 30 * time_scale - 0.5
            time.sleep(max(0.0, 0.3 * 30 * time_scale))
            firing = next(b for b in bots if b.fires)
            posts_before = sum(len(sb.bot_messages(g)) for g in groups)
            firing.kill()
            killed = time.monotonic()
            wait(lambda: sum(len(sb.bot_messages(g)) for g in groups) > posts_before, 60, "the next post")
            posted = time.monotonic()
        finally:
            for b in bots:
                b.stop()
            schema.drop()
    return posted - killed, max(0.0, posted - due)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("BREAKOUT_TEST_DATABASE_URL") or DEFAULT_DATABASE)
    parser.add_argument("--messages", type=int, default=1500)
    parser.add_argument("--in-flight", type=int, default=50)
    parser.add_argument("--takeovers", type=int, default=5)
    parser.add_argument("--sizes", default="1,2,3")
    args = parser.parse_args()
    print(f"capture: {args.messages} replies, {args.in_flight} in flight, Socket Mode, PostgreSQL")
    print(
        f"{'processes':>9} {'replies/s':>10} {'ack p50':>9} {'ack p99':>9} {'>3 s':>5} {'CPU ms/reply':>13} "
        f"{'conns':>6} {'stored':>7} {'429s':>5}"
    )
    baseline = None
    for n in (int(x) for x in args.sizes.split(",")):
        r = capture_run(args.database, n, args.messages, args.in_flight)
        baseline = baseline or r["cpu_ms_per_reply"]
        print(
            f"{n:>9} {r['throughput']:>10.1f} {r['p50_ms']:>7.1f}ms {r['p99_ms']:>7.1f}ms {r['over_3s']:>5.0f} "
            f"{r['cpu_ms_per_reply']:>9.2f} ×{r['cpu_ms_per_reply'] / baseline:.2f} {r['connections_used']:>6.0f} "
            f"{r['stored']:>7.0f} {r['throttled']:>5.0f}"
        )
    if args.takeovers:
        runs = [takeover_run(args.database, time_scale=0.2) for _ in range(args.takeovers)]
        kills = sorted(k for k, _ in runs)
        lates = sorted(late for _, late in runs)
        print(
            f"takeover after kill -9 ({args.takeovers} runs): kill -> next post median {statistics.median(kills):.2f} s "
            f"(max {kills[-1]:.2f} s); that post late against its due time median {statistics.median(lates):.2f} s"
        )


if __name__ == "__main__":
    main()
