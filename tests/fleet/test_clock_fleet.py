"""The clock in a fleet: several processes on one PostgreSQL, exactly one firing, a takeover on kill -9."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from bot.scheduling.clock import Clock
from tests.conftest import _postgres_url
from tests.fleet.clock_worker import SCHEMA

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not _postgres_url(), reason="a fleet needs PostgreSQL (BREAKOUT_TEST_DATABASE_URL)")


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        for statement in SCHEMA.strip().splitlines():
            conn.execute(text(statement))
    yield engine
    engine.dispose()


class Fleet:
    def __init__(self, url: str) -> None:
        self.url = url
        self.procs: list[subprocess.Popen[str]] = []

    def spawn(self, n: int) -> None:
        for i in range(n):
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.fleet.clock_worker", self.url, "fleet"],
                cwd=REPO,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready", f"worker {i} did not start"
            self.procs.append(proc)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def fleet(pg_url: str, engine: Engine) -> Iterator[Fleet]:
    fleet = Fleet(pg_url)
    yield fleet
    fleet.stop()


def _rows(engine: Engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def _wait_for(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _writer(engine: Engine) -> Clock:
    """A process's view that only schedules (as a command handler on a non-firing process does)."""
    clock = Clock(engine, name="fleet", table="apscheduler_jobs_fleet", fires=False)
    clock.start(lambda *_: None)
    return clock


def test_three_processes_fire_each_step_once_and_a_standby_takes_over_after_kill_9(
    engine: Engine, fleet: Fleet
) -> None:
    fleet.spawn(3)
    leaders = _rows(engine, "SELECT pid FROM leads")
    assert len(leaders) == 1, "exactly one process fires"
    first = leaders[0][0]
    writer = _writer(engine)
    try:
        now = dt.datetime.now(dt.UTC)
        due = {f"s{i:02d}": now + dt.timedelta(seconds=0.5 + i * 0.25) for i in range(24)}
        for key, at in due.items():
            writer.schedule(1, slot=key, step_key=key, at=at)
        _wait_for(lambda: len(_rows(engine, "SELECT 1 FROM fired")) >= 4, 10, "the first steps")
        killed_at = dt.datetime.now(dt.UTC)
        os.kill(first, signal.SIGKILL)
        _wait_for(lambda: len({r[0] for r in _rows(engine, "SELECT step FROM fired")}) == len(due), 30, "every step")
    finally:
        writer.shutdown()

    fired = _rows(engine, "SELECT step, pid, at FROM fired ORDER BY at")
    leads = _rows(engine, "SELECT pid, at FROM leads ORDER BY at")
    assert len(leads) == 2 and leads[1][0] != first, "one standby took over"
    takeover = (leads[1][1] - killed_at).total_seconds()
    assert takeover < 15, f"took over after {takeover:.1f} s"
    # Before the kill only the first leader fired; after the takeover only the new one.
    assert {pid for step, pid, at in fired if at < killed_at} == {first}
    assert {pid for step, pid, at in fired if at > leads[1][1]} <= {leads[1][0]}
    # Each step fired once, or at most twice if it was in flight at the kill (posts dedupe by key).
    counts: dict[str, int] = {}
    for step, _, _ in fired:
        counts[step] = counts.get(step, 0) + 1
    assert sum(c - 1 for c in counts.values()) <= 1, counts
    for step, _, at in fired:
        assert (at - due[step]).total_seconds() < 15, f"{step} fired {(at - due[step]).total_seconds():.1f} s late"


def test_a_step_added_by_another_process_wakes_the_firing_one(engine: Engine, fleet: Fleet) -> None:
    fleet.spawn(2)
    writer = _writer(engine)
    try:
        now = dt.datetime.now(dt.UTC)
        writer.schedule(1, slot="late", step_key="late", at=now + dt.timedelta(minutes=30))
        time.sleep(0.5)  # the firing process now sleeps until the late step
        added = dt.datetime.now(dt.UTC)
        writer.schedule(1, slot="soon", step_key="soon", at=added + dt.timedelta(seconds=0.2))
        _wait_for(lambda: _rows(engine, "SELECT 1 FROM fired WHERE step = 'soon'"), 10, "the soon step")
        (at,) = _rows(engine, "SELECT at FROM fired WHERE step = 'soon'")[0]
        assert (at - added).total_seconds() < 2.0
        writer.cancel(1, slot="late")
    finally:
        writer.shutdown()
    assert _rows(engine, "SELECT step FROM fired") == [("soon",)]
