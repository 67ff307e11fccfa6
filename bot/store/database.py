"""Opening the database: engine, connection pragmas, migrations, sessions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


#: Connections held open, and extra ones allowed under a burst, unless the caller sizes the pool.
POOL_SIZE, MAX_OVERFLOW = 5, 10


def make_engine(url: str, *, pool_size: int = POOL_SIZE, max_overflow: int = MAX_OVERFLOW) -> Engine:
    """An engine with the settings every database here needs.

    SQLite gets WAL and a busy timeout, because the scheduler's threads and the chat listeners
    write at the same time; and foreign keys on, so 'forget me' cascades as it does on PostgreSQL.
    The pool is sized for the threads that use it (see ``Settings.database_pool``): a request
    thread waiting for a connection is an ack waiting for nothing.
    """
    kwargs: dict[str, Any] = {"future": True}
    if ":memory:" not in url and "mode=memory" not in url:  # in-memory SQLite keeps one connection per thread
        kwargs.update(pool_size=pool_size, max_overflow=max_overflow)
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            if ":memory:" not in url:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    return engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


class Database:
    """The product's one database: migrated on open, handing out short transactions."""

    def __init__(self, url: str, *, migrate: bool = True, pool: tuple[int, int] = (POOL_SIZE, MAX_OVERFLOW)):
        self.url = url
        self.engine = make_engine(url, pool_size=pool[0], max_overflow=pool[1])
        if migrate:
            upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
