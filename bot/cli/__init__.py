"""breakout-bot's command line: run, demo, db, plans, summary and the insights pack's chat commands.

Each module here registers one family of commands (``register(sub)``); this one only wires them and
turns every mistake a person can make into one sentence on stderr and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from bot.config import SettingError, Settings

from . import db, pack, plans, run, summary
from .usage import CommandFailed

EXIT_REFUSED = 1  # the request was understood and refused: a sentence says why
EXIT_USAGE = 2  # a setting is wrong (argparse and UsageError use 2 as well)
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="breakout-bot", description="breakout-bot's command line: run, demo, db, plans, summary."
    )
    parser.add_argument("--database", help="database URL (default: DATABASE_URL, else sqlite:///breakout-bot.db)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the bot does")
    sub = parser.add_subparsers(dest="command", required=True)
    run.register(sub)
    db.register(sub)
    plans.register(sub)
    summary.register(sub)
    pack.register(sub)
    run.register_discord_sync(sub)
    return parser


def _configure_logging(args: argparse.Namespace, settings: Settings) -> None:
    if args.verbose:
        level = logging.DEBUG
    elif args.command == "run":
        level = getattr(logging, settings.log_level, logging.INFO)
    else:
        level = logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:  # alembic announces its plugins at INFO on every start: noise before the bot's own lines
        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def _stdout_gone() -> None:
    """The reader of our output left (``| head``): point stdout at devnull so the exit flush stays quiet.

    As the Python docs recommend for SIGPIPE (library/signal.html, "Note on SIGPIPE").
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (a test's capture): nothing to quiet
        pass


def main(argv: list[str] | None = None) -> int:
    from bot.services.errors import BreakoutError
    from bot.services.port import ChatError

    args = build_parser().parse_args(argv)
    try:
        args.settings = Settings.load()
    except SettingError as exc:
        print(f"Setting problem: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _configure_logging(args, args.settings)
    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at interpreter exit
        return status
    except CommandFailed as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except (BreakoutError, ChatError) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_REFUSED
    except BrokenPipeError:
        _stdout_gone()
        return EXIT_REFUSED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


__all__ = ["build_parser", "main"]
