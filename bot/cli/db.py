"""The database from the command line: ``db upgrade`` / ``db current``, and ``breakouts``."""

from __future__ import annotations

import argparse

from .offline import open_database
from .usage import settings_of


def cmd_db(args: argparse.Namespace) -> int:
    from alembic import command

    from bot.store.database import alembic_config

    settings = settings_of(args)
    db = open_database(settings.database_url, migrate=args.action == "upgrade")
    try:
        if args.action == "current":
            command.current(alembic_config(db.engine), verbose=False)
        else:
            print(f"{settings.database_url}: schema up to date")
    finally:
        db.dispose()
    return 0


def cmd_breakouts(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bot.store.models import Breakout

    db = open_database(settings_of(args).database_url)
    try:
        with db.transaction() as s:
            rows = list(s.scalars(select(Breakout).order_by(Breakout.id)))
            if not rows:
                print("No breakouts yet.")
            for b in rows:
                print(f"{b.id:5}  {b.started_at:%Y-%m-%d %H:%M}  {b.state:8} {b.workspace:20} {b.title}")
    finally:
        db.dispose()
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "current"])
    db.set_defaults(func=cmd_db)

    sub.add_parser("breakouts", help="list the breakouts in the database").set_defaults(func=cmd_breakouts)
