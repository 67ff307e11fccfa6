"""A request handled once: a signed request replayed within the platform's signature window does nothing.

Slack signs each request with a timestamp and accepts the signature for 5 minutes, so whoever copies a
signed ``/breakout next`` can send it again and again within that window. Every slash command and
interactive payload carries its own ``trigger_id``; remembering the ids already handled, in the
database every process shares, lets exactly one delivery through wherever it lands.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import Executable

from bot.services.context import Core
from bot.store.models import HandledRequest

log = logging.getLogger(__name__)

#: Twice Slack's signature window: a replay older than this is refused by the signature check itself.
KEEP = dt.timedelta(minutes=10)
#: How often one process clears out ids past ``KEEP``.
PRUNE_EVERY = dt.timedelta(minutes=1)


class HandledRequests:
    """The ids of requests already handled, kept for ``KEEP`` in the shared database."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self._lock = threading.Lock()
        self._pruned_at: dt.datetime | None = None

    def first_time(self, key: str) -> bool:
        """Record ``key`` as handled; True only for the first caller, in any process, within ``KEEP``.

        One ``INSERT ... ON CONFLICT DO NOTHING RETURNING``: two deliveries racing each other cannot both win.
        """
        now = self.core.now()
        db = self.core.db
        with db.transaction() as session:
            if self._due_for_pruning(now):
                session.execute(delete(HandledRequest).where(HandledRequest.handled_at < now - KEEP))
            # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT through SQLAlchemy.
            inserted = session.execute(_insert_once(db.engine.dialect.name, key[:255], now)).first()
            first = inserted is not None
        if not first:
            log.warning("request %s was already handled: a replay, ignored", key)
        return first

    def _due_for_pruning(self, now: dt.datetime) -> bool:
        with self._lock:
            if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
                return False
            self._pruned_at = now
            return True


def _insert_once(dialect: str, key: str, now: dt.datetime) -> Executable:
    """``INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id`` in the database's own dialect."""
    values = {"id": key, "handled_at": now}
    if dialect == "postgresql":
        return (
            postgresql.insert(HandledRequest)
            .values(values)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(HandledRequest.id)
        )
    if dialect == "sqlite":
        return (
            sqlite.insert(HandledRequest)
            .values(values)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(HandledRequest.id)
        )
    raise RuntimeError(f"no INSERT ... ON CONFLICT for {dialect}: the bot runs on SQLite or PostgreSQL")
