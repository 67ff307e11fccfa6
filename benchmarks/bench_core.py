"""Core figures: how fast replies are captured, how long a summary takes, and peak memory.

Usage: .venv/bin/python benchmarks/bench_core.py [--people 65] [--quotes 2000] [--database URL]
Prints figures; asserts nothing. The scenario is a large call: 65 people in 13 groups.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from bot.adapters.local import LocalChat
from bot.config import Settings
from bot.domain.consent import Level
from bot.render.markdown import render_markdown
from bot.services.app import BreakoutApp
from bot.services.commands import parse_breakout
from bot.services.context import Actor
from bot.services.port import PersonInfo

WORKSPACE = "bench:T"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=65)
    parser.add_argument("--quotes", type=int, default=2000)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    url = args.database or f"sqlite:///{tmp / 'bench.db'}"
    scratch = None
    if url.startswith("postgresql"):  # a schema of its own, dropped afterwards: the database stays as it was
        import sqlalchemy as sa

        scratch = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with scratch.connect() as c:
            c.execute(sa.text("CREATE SCHEMA bench_core"))
        url += ("&" if "?" in url else "?") + "options=-csearch_path%3Dbench_core"
    repo = Path(__file__).resolve().parents[1]
    settings = Settings.from_mapping({"DATABASE_URL": url, "BREAKOUT_PROMPTS_DIR": str(repo / "prompts")})
    chat = LocalChat()
    tracemalloc.start()
    app = BreakoutApp(settings, chat, rng=random.Random(1), clock_name="bench")
    app.start()
    try:
        people = [PersonInfo(f"U{i}", f"Person{i} Surname{i}", f"Person{i}") for i in range(args.people)]
        facilitator = Actor(WORKSPACE, PersonInfo("UF", "Fac Ilitator"), is_facilitator=True, is_organiser=True)
        t0 = time.perf_counter()
        app.run_breakout_command(facilitator, parse_breakout("start kindness-in-education size=5"), channel_id="main",
                                 participants=lambda: (people, [facilitator.person]))
        start_s = time.perf_counter() - t0
        channel_of = {uid: name for name, members in chat.channels.items() for uid in members}
        rng = random.Random(2)
        for p in people:
            app.consents.choose(Actor(WORKSPACE, p), level=rng.choice(list(Level)), via="command",
                                channel_id=channel_of[p.user_id])
        latencies = []
        t0 = time.perf_counter()
        for i in range(args.quotes):
            p = rng.choice(people)
            q0 = time.perf_counter()
            app.capture.message_posted(workspace=WORKSPACE, channel_id=channel_of[p.user_id], message_id=f"{i}.0",
                                       author=p, text=f"Reply {i} mentioning <@U{rng.randrange(args.people)}> and "
                                                       f"https://example.org/{i % 50}",
                                       sent_at=dt.datetime.now(dt.timezone.utc))
            latencies.append(time.perf_counter() - q0)
        capture_s = time.perf_counter() - t0
        builds = []
        for _ in range(5):
            t0 = time.perf_counter()
            summary = app.summaries.build(1)
            text = render_markdown(summary)
            builds.append(time.perf_counter() - t0)
        _, peak = tracemalloc.get_traced_memory()
        app.run_breakout_command(facilitator, parse_breakout("stop"), channel_id="main")
    finally:
        app.shutdown()
        if scratch is not None:
            with scratch.connect() as c:
                c.execute(sa.text("DROP SCHEMA bench_core CASCADE"))
            scratch.dispose()
    latencies.sort()
    print(f"database: {url.split(':')[0]}")
    print(f"start: {args.people} people into {len(chat.channels)} groups, channels + welcome + question 1: {start_s * 1000:.0f} ms")
    print(f"capture: {args.quotes} replies in {capture_s:.2f} s = {args.quotes / capture_s:.0f} replies/s; "
          f"p50 {statistics.median(latencies) * 1000:.2f} ms, p99 {latencies[int(len(latencies) * 0.99)] * 1000:.2f} ms")
    print(f"summary of {summary.quote_count} quotes ({len(text) // 1024} KiB Markdown): "
          f"median {statistics.median(builds) * 1000:.0f} ms over {len(builds)} builds")
    print(f"peak traced Python memory: {peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
