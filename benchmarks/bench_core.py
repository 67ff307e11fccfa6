"""Core figures: how fast replies are captured, how long a summary takes, and peak memory.

Usage: .venv/bin/python benchmarks/bench_core.py [--people 65] [--quotes 2000] [--database URL]
Prints figures; asserts nothing. The scenario is a large call: 65 people in 13 groups. Times come
from a pass without tracemalloc (which slows Python code several times over); peak memory from a
second pass, on a fresh database, with it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import random
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
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


def run(url: str, people_count: int, quotes: int, *, trace: bool) -> dict[str, float | int]:
    """One pass over a fresh database: the call's start, its replies captured one by one, five summaries.

    ``trace``: measure peak memory with tracemalloc, which slows Python code several times over, so
    the timing pass runs without it and the memory pass's times are not reported.
    """
    repo = Path(__file__).resolve().parents[1]
    settings = Settings.from_mapping({"DATABASE_URL": url, "BREAKOUT_PROMPTS_DIR": str(repo / "prompts")})
    chat = LocalChat()
    if trace:
        tracemalloc.start()
    app = BreakoutApp(settings, chat, rng=random.Random(1), clock_name="bench")
    app.start()
    try:
        people = [PersonInfo(f"U{i}", f"Person{i} Surname{i}", f"Person{i}") for i in range(people_count)]
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
        for i in range(quotes):
            p = rng.choice(people)
            q0 = time.perf_counter()
            app.capture.message_posted(workspace=WORKSPACE, channel_id=channel_of[p.user_id], message_id=f"{i}.0",
                                       author=p, text=f"Reply {i} mentioning <@U{rng.randrange(people_count)}> and "
                                                       f"https://example.org/{i % 50}",
                                       sent_at=dt.datetime.now(dt.UTC))
            latencies.append(time.perf_counter() - q0)
        capture_s = time.perf_counter() - t0
        builds = []
        for _ in range(5):
            t0 = time.perf_counter()
            summary = app.summaries.build(1)
            text = render_markdown(summary)
            builds.append(time.perf_counter() - t0)
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
        app.run_breakout_command(facilitator, parse_breakout("stop"), channel_id="main")
    finally:
        app.shutdown()
        if trace:
            tracemalloc.stop()
    latencies.sort()
    return {
        "groups": len(chat.channels),
        "start_s": start_s,
        "capture_s": capture_s,
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99)],
        "quote_count": summary.quote_count,
        "markdown_kib": len(text) // 1024,
        "build_s": statistics.median(builds),
        "builds": len(builds),
        "peak": peak,
    }


@contextlib.contextmanager
def fresh_database(base: str | None, name: str) -> Iterator[str]:
    """SQLite in a temporary folder, or a schema of its own on PostgreSQL, dropped afterwards."""
    if base is None or not base.startswith("postgresql"):
        yield base or f"sqlite:///{Path(tempfile.mkdtemp()) / f'{name}.db'}"
        return
    import sqlalchemy as sa

    scratch = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with scratch.connect() as c:
        c.execute(sa.text(f"CREATE SCHEMA {name}"))
    try:
        yield base + ("&" if "?" in base else "?") + f"options=-csearch_path%3D{name}"
    finally:
        with scratch.connect() as c:
            c.execute(sa.text(f"DROP SCHEMA {name} CASCADE"))
        scratch.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=65)
    parser.add_argument("--quotes", type=int, default=2000)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    with fresh_database(args.database, "bench_core_time") as url:
        f = run(url, args.people, args.quotes, trace=False)
    with fresh_database(args.database, "bench_core_memory") as url:
        peak = run(url, args.people, args.quotes, trace=True)["peak"]
    print(f"database: {url.split(':')[0]}")
    print(f"start: {args.people} people into {f['groups']} groups, channels + welcome + question 1: {f['start_s'] * 1000:.0f} ms")
    print(f"capture: {args.quotes} replies in {f['capture_s']:.2f} s = {args.quotes / f['capture_s']:.0f} replies/s; "
          f"p50 {f['p50'] * 1000:.2f} ms, p99 {f['p99'] * 1000:.2f} ms")
    print(f"summary of {f['quote_count']} quotes ({f['markdown_kib']} KiB Markdown): "
          f"median {f['build_s'] * 1000:.0f} ms over {f['builds']} builds")
    print(f"peak traced Python memory (a second pass, under tracemalloc; the times above ran without it): "
          f"{peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
