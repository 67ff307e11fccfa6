"""One process of a fleet, for the fleet tests: it runs the clock and records what it fires.

``python -m tests.fleet.clock_worker URL NAME`` records, in the table ``fired``, each step it fires
(with its pid), and in ``leads`` each time it becomes the firing process. It runs until killed.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

from sqlalchemy import create_engine, text

from bot.scheduling.clock import Clock

SCHEMA = """
CREATE TABLE IF NOT EXISTS fired (step text, pid int, at timestamptz DEFAULT clock_timestamp());
CREATE TABLE IF NOT EXISTS leads (pid int, at timestamptz DEFAULT clock_timestamp());
"""


def main(url: str, name: str) -> None:
    engine = create_engine(url)
    pid = os.getpid()

    def fire(breakout_id: int, step_key: str) -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO fired (step, pid) VALUES (:s, :p)"), {"s": step_key, "p": pid})

    def lead() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO leads (pid) VALUES (:p)"), {"p": pid})

    clock = Clock(engine, name=name, table="apscheduler_jobs_fleet")
    clock.start(fire, on_lead=lead)
    print("ready", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    clock.shutdown(wait=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
