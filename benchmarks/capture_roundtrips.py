"""Capture's cost per message: statements and commits sent to the database, and time per capture.

Usage: .venv/bin/python benchmarks/capture_roundtrips.py [--messages 2000] [--people 65] [--database URL]
Without --database: SQLite, then PostgreSQL too when BREAKOUT_TEST_DATABASE_URL is set. Prints figures;
asserts nothing. For a before/after, run it against an older tree: `git archive main | tar -x -C /tmp/m`,
then `PYTHONPATH=/tmp/m .venv/bin/python benchmarks/capture_roundtrips.py`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

import bot
from bot.adapters.local import LocalChat
from bot.config import Settings
from bot.domain.consent import Level
from bot.services.app import BreakoutApp
from bot.services.commands import parse_breakout
from bot.services.context import Actor
from bot.services.port import PersonInfo

WORKSPACE = "bench:T"


def measure(url: str, *, messages: int, people_count: int) -> None:
    scratch = None
    schema = f"capture_{uuid.uuid4().hex[:8]}"
    if url.startswith("postgresql"):  # a schema of its own, dropped afterwards
        scratch = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with scratch.connect() as c:
            c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url += ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"
    repo = Path(__file__).resolve().parents[1]
    settings = Settings.from_mapping({"DATABASE_URL": url, "BREAKOUT_PROMPTS_DIR": str(repo / "prompts")})
    chat = LocalChat()
    app = BreakoutApp(settings, chat, rng=random.Random(1), clock_name=f"bench-{schema}")
    app.start()
    statements = 0
    commits = 0
    me = threading.get_ident()

    def on_statement(*_args: Any) -> None:
        nonlocal statements
        if threading.get_ident() == me:
            statements += 1

    def on_commit(*_args: Any) -> None:
        nonlocal commits
        if threading.get_ident() == me:
            commits += 1

    try:
        people = [PersonInfo(f"U{i}", f"Person{i} Surname{i}", f"Person{i}") for i in range(people_count)]
        facilitator = Actor(WORKSPACE, PersonInfo("UF", "Fac Ilitator"), is_facilitator=True, is_organiser=True)
        app.run_breakout_command(
            facilitator,
            parse_breakout("start kindness-in-education size=5"),
            channel_id="main",
            participants=lambda: (people, [facilitator.person]),
        )
        channel_of = {uid: name for name, members in chat.channels.items() for uid in members}
        rng = random.Random(2)
        for p in people[: len(people) // 2]:  # half have chosen how to be named; the others are asked
            app.consents.choose(
                Actor(WORKSPACE, p), level=rng.choice(list(Level)), via="command", channel_id=channel_of[p.user_id]
            )
        event.listen(app.db.engine, "before_cursor_execute", on_statement)
        event.listen(app.db.engine, "commit", on_commit)
        latencies = []
        for i in range(messages):
            p = rng.choice(people)
            t0 = time.perf_counter()
            app.capture.message_posted(
                workspace=WORKSPACE,
                channel_id=channel_of[p.user_id],
                message_id=f"{i}.0",
                author=p,
                text=f"Reply {i} mentioning <@U{rng.randrange(people_count)}>",
                sent_at=dt.datetime.now(dt.UTC),
            )
            latencies.append(time.perf_counter() - t0)
        event.remove(app.db.engine, "before_cursor_execute", on_statement)
        event.remove(app.db.engine, "commit", on_commit)
    finally:
        app.shutdown()
        app.db.dispose()
        if scratch is not None:
            with scratch.connect() as c:
                c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            scratch.dispose()
    latencies.sort()
    print(
        f"{url.split(':')[0]:<22} code from {Path(bot.__file__).parents[1]}: {messages} messages, "
        f"{statements / messages:.2f} statements + {commits / messages:.2f} commits per message; "
        f"per capture p50 {statistics.median(latencies) * 1e6:.0f} µs, "
        f"p90 {latencies[int(len(latencies) * 0.9)] * 1e6:.0f} µs, mean {statistics.fmean(latencies) * 1e6:.0f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--people", type=int, default=65)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    if args.database:
        urls = [args.database]
    else:
        urls = [f"sqlite:///{Path(tempfile.mkdtemp()) / 'capture.db'}"]
        if os.environ.get("BREAKOUT_TEST_DATABASE_URL"):
            urls.append(os.environ["BREAKOUT_TEST_DATABASE_URL"])
    for url in urls:
        measure(url, messages=args.messages, people_count=args.people)


if __name__ == "__main__":
    main()
