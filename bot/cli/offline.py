"""The core as the command line uses it: the database and the plans, and no chat platform.

Commands run from a terminal read and curate what is stored (summaries, the imported chat). They never
post, so their port is ``OfflinePort``: it satisfies ``ChatPort`` for the type checker and refuses, with
a sentence, if anything tries to reach a platform from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.exc import OperationalError

from bot.config import Settings
from bot.services.context import Core
from bot.services.port import ChatError, ConsentOption, ConsentPrompt, Delivery, GroupChannelRequest, Outgoing
from bot.store.database import Database

from .usage import UsageError

DATABASE_EXAMPLES = "sqlite:///breakout-bot.db or postgresql+psycopg://USER@HOST/DB"


class OfflineOnly(ChatError):
    """Something on the command line tried to reach a chat platform."""


class OfflinePort:
    """The port of a command-line run: there is no platform, so every call refuses with a sentence."""

    platform = "offline"

    def _refuse(self, what: str) -> OfflineOnly:
        return OfflineOnly(
            f"The command line is not connected to Slack or Discord, so it cannot {what}. "
            "Run the bot (breakout-bot run) for that."
        )

    def open_group_channel(self, request: GroupChannelRequest) -> str:
        raise self._refuse("open a group channel")

    def post(self, *, channel_id: str, message: Outgoing) -> Delivery:
        raise self._refuse("post a message")

    def find_post(self, *, channel_id: str, key: str, message: Outgoing, since: dt.datetime) -> Delivery | None:
        raise self._refuse("look for a post")

    def tell(
        self,
        *,
        user_id: str,
        text: str,
        channel_id: str | None = None,
        consent_options: Sequence[ConsentOption] = (),
        breakout_id: int | None = None,
    ) -> None:
        raise self._refuse("message a person")

    def ask_consent(self, *, user_id: str, channel_id: str, prompt: ConsentPrompt) -> None:
        raise self._refuse("ask a person how to name them")

    def send_file(
        self, *, user_id: str, filename: str, content: bytes, title: str, channel_id: str | None = None
    ) -> None:
        raise self._refuse("send a file")

    def close_group_channel(self, *, channel_id: str, request: GroupChannelRequest, archive: bool) -> None:
        raise self._refuse("close a group channel")


def check_database_url(url: str) -> None:
    """Refuse a database URL that cannot work, before anything is built on it.

    Catches what a newcomer types: an unknown scheme, a missing driver, a SQLite file in a folder that
    does not exist. Nothing connects here; a server that does not answer is ``open_database``'s to report.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UsageError(
            f"The database URL (--database or DATABASE_URL) is not one SQLAlchemy can read; use {DATABASE_EXAMPLES}."
        ) from None
    try:
        dialect = parsed.get_dialect()
    except ArgumentError:  # NoSuchModuleError: an unknown scheme
        raise UsageError(
            f"{parsed.drivername}:// is not a database breakout-bot can use (--database or DATABASE_URL); "
            f"use {DATABASE_EXAMPLES}."
        ) from None
    try:
        dialect.import_dbapi()
    except ImportError:
        raise UsageError(
            f"The driver for {parsed.drivername} is not installed; for PostgreSQL: "
            ".venv/bin/pip install 'breakout-bot[postgres]' (or psycopg[binary])."
        ) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        if parsed.database.startswith("file:"):
            return  # a SQLite URI: its own rules, SQLite reports them
        path = Path(parsed.database)
        if path.is_dir():
            raise UsageError(
                f"The SQLite database {path} is a folder; give a file inside it, e.g. {path / 'breakout-bot.db'}."
            )
        if not path.parent.is_dir():
            raise UsageError(
                f"The folder {path.parent} for the SQLite database {path.name} does not exist. "
                f"Make it first (mkdir -p {path.parent}), or choose another --database."
            )


def _unreachable(url: str, exc: OperationalError) -> UsageError:
    from sqlalchemy.engine import make_url

    shown = make_url(url).render_as_string(hide_password=True)
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else exc.__class__.__name__
    return UsageError(f"Could not open the database {shown} ({reason}). Check --database or DATABASE_URL.")


def open_database(url: str, *, migrate: bool = True) -> Database:
    """The product's database, migrated; a sentence, not a traceback, when it cannot be opened."""
    check_database_url(url)
    try:
        return Database(url, migrate=migrate)
    except OperationalError as exc:
        raise _unreachable(url, exc) from None


def check_database(url: str) -> None:
    """Connect once, without migrating (the bot does that as it starts): a sentence before anything runs."""
    db = open_database(url, migrate=False)
    try:
        with db.engine.connect():
            pass
    except OperationalError as exc:
        raise _unreachable(url, exc) from None
    finally:
        db.dispose()


@contextmanager
def offline_core(settings: Settings) -> Iterator[Core]:
    """A core on the settings' database for one command, closed when the command is done."""
    from bot.services.messages import MessageBook
    from bot.services.plans import PlanLibrary

    db = open_database(settings.database_url)
    try:
        yield Core(
            db=db,
            port=OfflinePort(),
            plans=PlanLibrary(settings.prompts_dir),
            messages=MessageBook(settings.prompts_dir),
        )
    finally:
        db.dispose()
