"""What every command shares: the settings it runs with, and the mistakes it turns into a sentence."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bot.config import Settings


class CommandFailed(Exception):
    """A command that cannot go on: ``main`` prints the sentence (no traceback) and exits with ``exit_code``."""

    exit_code = 1


class UsageError(CommandFailed):
    """A mistake on the command line or in a setting that the person can fix."""

    exit_code = 2  # as argparse exits for the mistakes it catches


def settings_of(args: argparse.Namespace) -> Settings:
    """The settings ``main`` read once, with the command line's --database over them."""
    settings: Settings = args.settings
    if getattr(args, "database", None):
        settings = settings.replace(database_url=args.database)
    return settings


def writable_output(name: str, *, option: str = "-o") -> Path:
    """The path a command will write to, checked before any work is done (so no work is lost to a typo)."""
    path = Path(name).expanduser()
    folder = path.parent
    if path.is_dir():
        raise UsageError(f"{name} is a folder; give {option} a file name, e.g. {path / 'breakout-summary.md'}.")
    if not folder.is_dir():
        raise UsageError(
            f"Cannot write {name}: the folder {folder} does not exist. Make it first, or give {option} another path."
        )
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"Cannot write {name}: permission denied. Give {option} a path you can write to.")
    return path


def write_output(path: Path, content: bytes) -> None:
    """Write a command's file, with a sentence instead of a traceback when the disk says no."""
    try:
        path.write_bytes(content)
    except OSError as exc:
        raise UsageError(f"Could not write {path}: {exc.strerror or exc}.") from None
