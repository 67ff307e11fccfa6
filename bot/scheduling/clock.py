"""The breakout's clock: APScheduler with its job store in the product's own database.

Jobs are persisted, so a restart picks up where it left off: steps that came due while the bot was
down fire late rather than never (no misfire grace limit), and each job id is deterministic
(``breakout:<id>:<slot>``) so re-scheduling a step replaces it instead of adding a second one.
Firing twice is prevented further down, by the post's idempotency key.

On PostgreSQL several processes share the store and exactly one fires (``leadership.py``); on
SQLite, the embedded default, the one process fires.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, text

from bot.scheduling.leadership import Leadership, channel_for, lock_key, notify

log = logging.getLogger(__name__)

StepHandler = Callable[[int, str], None]

# Persistent jobs must name an importable function; it finds the live handler by clock name.
_handlers: dict[str, StepHandler] = {}
_handlers_lock = threading.Lock()


def fire(clock_name: str, breakout_id: int, step_key: str) -> None:
    with _handlers_lock:
        handler = _handlers.get(clock_name)
    if handler is None:
        log.error("no handler for clock %s; step %s of breakout %s not fired", clock_name, step_key, breakout_id)
        return
    handler(breakout_id, step_key)


def job_id(breakout_id: int, slot: str) -> str:
    return f"breakout:{breakout_id}:{slot}"


class Clock:
    """The breakout's clock. ``fires=False`` makes a writer only (it schedules, never fires)."""

    def __init__(
        self, engine: Engine, *, name: str, table: str = "apscheduler_jobs", workers: int = 4, fires: bool = True
    ):
        self.name = name
        self._fires = fires
        self._engine = engine
        self._table = table
        self._leadership: Leadership | None = None
        self._channel: str | None = None  # LISTEN/NOTIFY channel of the firing process
        self._on_lead: Callable[[], None] = lambda: None
        self._executor = ThreadPoolExecutor(max_workers=workers)
        store = SQLAlchemyJobStore(engine=engine, tablename=table)
        if engine.dialect.name == "postgresql":
            # Processes starting together would race to create the table; one creates it under a lock.
            with engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(f"create:{table}")})
                store.jobs_t.create(conn, checkfirst=True)
        self._scheduler = BackgroundScheduler(
            jobstores={"default": store},
            executors={"default": self._executor},
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
            timezone=dt.UTC,
        )

    @property
    def firing(self) -> bool:
        """Whether this process fires the steps (on SQLite, always)."""
        if not self._fires:
            return False
        return self._leadership is None or self._leadership.leading

    def start(self, handler: StepHandler, *, on_lead: Callable[[], None] = lambda: None) -> None:
        """Register the handler, then start; ``on_lead`` runs each time this process starts firing.

        Due jobs left by a previous run fire as soon as this process fires.
        """
        with _handlers_lock:
            _handlers[self.name] = handler
        self._on_lead = on_lead
        if not self._fires:
            self._scheduler.start(paused=True)
            return
        if self._engine.dialect.name != "postgresql":
            self._scheduler.start()
            on_lead()
            return
        self._scheduler.start(paused=True)
        self._leadership = Leadership(
            self._engine,
            scope=self._table,
            on_gain=self._gain,
            on_loss=self._scheduler.pause,
            on_notify=self._scheduler.wakeup,
        )
        self._leadership.start()

    def _gain(self) -> None:
        self._scheduler.resume()
        self._on_lead()

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop firing; with ``wait``, let steps already running finish.

        APScheduler's own ``shutdown(wait=True)`` waits for running jobs while holding the job-store
        lock, and a step that re-schedules (the next question) needs that lock: a deadlock. So stop
        the scheduler first and then wait for the executor.
        """
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
            if wait:
                self._executor.shutdown(wait=True)
        if self._leadership is not None:  # only now may a standby take over
            self._leadership.stop()
            self._leadership = None
        with _handlers_lock:
            _handlers.pop(self.name, None)

    def schedule(self, breakout_id: int, *, slot: str, step_key: str, at: dt.datetime) -> None:
        self._scheduler.add_job(
            fire,
            trigger="date",
            run_date=at,
            args=[self.name, breakout_id, step_key],
            id=job_id(breakout_id, slot),
            name=f"{step_key} of breakout {breakout_id}",
            replace_existing=True,
        )
        self._changed()

    def _changed(self) -> None:
        """Tell the firing process (maybe another one) that the store changed."""
        if self._engine.dialect.name == "postgresql" and not self.firing:
            if self._channel is None:
                self._channel = channel_for(self._engine, self._table)
            notify(self._engine, self._channel)

    def cancel(self, breakout_id: int, *, slot: str) -> None:
        try:
            self._scheduler.remove_job(job_id(breakout_id, slot))
        except JobLookupError:
            pass  # already fired or cancelled; a removal needs no wake-up of the firing process

    def cancel_breakout(self, breakout_id: int) -> None:
        prefix = job_id(breakout_id, "")
        for job in self._scheduler.get_jobs():
            if job.id.startswith(prefix):
                self.cancel(breakout_id, slot=job.id[len(prefix) :])

    def pending(self, breakout_id: int) -> list[tuple[str, dt.datetime]]:
        prefix = job_id(breakout_id, "")
        return sorted(
            ((job.args[2], job.next_run_time) for job in self._scheduler.get_jobs() if job.id.startswith(prefix)),
            key=lambda item: item[1],
        )
