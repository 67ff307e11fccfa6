"""Which process of a fleet fires the clock, agreed through PostgreSQL itself.

APScheduler 3 cannot share a job store between running schedulers (its FAQ), so every process runs
its scheduler *paused*: a paused scheduler still writes the jobs it is given to the shared store, but
never fires them. The process that holds a session-level advisory lock resumes its scheduler and
fires; the others retry the lock every ``poll`` seconds. The lock lives and dies with the holder's
database session, so ``kill -9`` or a lost connection frees it at once and a standby takes over on
its next try, firing late whatever fell due meanwhile (the jobs have no misfire limit).

Writers ``NOTIFY`` after every change to the store; the holder ``LISTEN``s and wakes its scheduler,
so a step added or moved by another process is seen within about a second.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# How often a standby tries the lock, and how long the holder waits for a notification before it
# checks its own connection. Takeover happens within POLL_SECONDS of the holder's session ending.
POLL_SECONDS = 2.0
LISTEN_SECONDS = 1.0


def lock_key(scope: str) -> int:
    """A stable signed 64-bit advisory-lock key for a scope (schema and job table)."""
    return zlib.crc32(f"breakout-bot:{scope}".encode()) - 2**31


class Leadership:
    """Holds, or waits for, the fleet's one firing role for one clock."""

    def __init__(
        self,
        engine: Engine,
        *,
        scope: str,
        on_gain: Callable[[], None],
        on_loss: Callable[[], None],
        on_notify: Callable[[], None],
        poll: float = POLL_SECONDS,
    ) -> None:
        # A connection of its own, never pooled: the lock must end with it, not be handed on.
        self._engine = create_engine(engine.url, poolclass=NullPool)
        self._scope = scope
        self._on_gain, self._on_loss, self._on_notify = on_gain, on_loss, on_notify
        self._poll = poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: Any = None
        self.channel = ""
        self.leading = False

    def start(self) -> None:
        """Try once now (so a lone process fires at once), then keep trying in the background."""
        self._try_lead()
        self._thread = threading.Thread(target=self._run, name=f"leadership:{self._scope}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Step down: closing the session frees the lock for a standby."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=LISTEN_SECONDS + 5)
        self._drop(step_down=True)
        self._engine.dispose()

    def _connect(self) -> Any:
        conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        self._key = lock_key(f"{schema}:{self._scope}")
        self.channel = channel_name(schema, self._scope)
        return conn

    def _try_lead(self) -> None:
        try:
            if self._conn is None:
                self._conn = self._connect()
            got = self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar_one()
            if not got:
                return
            self._conn.execute(text(f'LISTEN "{self.channel}"'))
            self.leading = True
            log.info("this process now fires the clock %s", self._scope)
            self._on_gain()
        except Exception:  # a lost or refused connection: stay a standby and try again later
            log.warning("clock %s: could not reach the database to take the lead", self._scope, exc_info=True)
            self._drop(step_down=False)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.leading:
                if self._stop.wait(self._poll):
                    return
                self._try_lead()
                continue
            try:
                driver = self._conn.connection.driver_connection
                for _ in driver.notifies(timeout=LISTEN_SECONDS, stop_after=1):
                    self._on_notify()
                self._conn.execute(text("SELECT 1"))
            except Exception:
                if self._stop.is_set():
                    return
                log.error("clock %s: lost the database session; no longer firing", self._scope, exc_info=True)
                self._drop(step_down=True)

    def _drop(self, *, step_down: bool) -> None:
        was_leading, self.leading = self.leading, False
        if was_leading and step_down and not self._stop.is_set():
            self._on_loss()
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                log.debug("closing the leadership connection failed", exc_info=True)


def channel_name(schema: str, scope: str) -> str:
    """The LISTEN/NOTIFY channel of one clock (a schema and job table), a valid identifier."""
    return f"breakout_clock_{lock_key(f'{schema}:{scope}') & 0xFFFFFFFF:08x}"


def channel_for(engine: Engine, scope: str) -> str:
    with engine.connect() as conn:
        return channel_name(conn.execute(text("SELECT current_schema()")).scalar_one(), scope)


def notify(engine: Engine, channel: str) -> None:
    """Wake the firing process of a clock: its job store changed."""
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_notify(:c, '')"), {"c": channel})
        conn.commit()
