"""The insights pack from the command line: the video call's chat, imported and curated.

breakout-bot import-chat BREAKOUT FILE [--attendance N]
breakout-bot chat-authors BREAKOUT
breakout-bot chat-naming BREAKOUT "NAME" LEVEL
breakout-bot attendance BREAKOUT N|auto
breakout-bot chat BREAKOUT list | highlight LINE | unhighlight LINE | exclude LINE | restore LINE
breakout-bot chat-forget BREAKOUT "NAME"
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.domain.consent import LEVEL_WORDS, Level
from bot.services.pack import CallChat, CallChatFile

from .offline import offline_core
from .usage import UsageError, settings_of

ZOOM_CHAT_FILE = "meeting_saved_chat.txt"  # the name Zoom gives the chat it saves


@contextmanager
def _call_chat(args: argparse.Namespace) -> Iterator[CallChat]:
    """The imported chat's use cases on an offline core, for one command."""
    with offline_core(settings_of(args)) as core:
        yield CallChat(core)


def _chat_export(name: str) -> Path:
    """The export file to import, or a sentence that says what to pass instead."""
    from bot.services.errors import BadArguments

    path = Path(name).expanduser()
    if path.is_dir():
        inside = path / ZOOM_CHAT_FILE
        hint = f": {inside}" if inside.is_file() else f" (Zoom saves it as {ZOOM_CHAT_FILE} in the meeting's folder)"
        raise UsageError(f"{name} is a folder, not a chat export. Pass the export file itself{hint}.")
    if not path.is_file():
        raise BadArguments(f"{path}: no such file. Give the path of Zoom's saved chat ({ZOOM_CHAT_FILE}).")
    return path


def cmd_import_chat(args: argparse.Namespace) -> int:
    path = _chat_export(args.file)

    def fetch() -> bytes:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise UsageError(f"Could not read {path}: {exc.strerror or exc}.") from None

    with _call_chat(args) as chat:
        result = chat.import_file(
            args.breakout,
            CallChatFile(path.name, path.stat().st_size, fetch),
            imported_by="command line",
            attendance=args.attendance,
        )
    print(result.describe())
    return 0


def cmd_chat_authors(args: argparse.Namespace) -> int:
    with _call_chat(args) as chat:
        authors = chat.authors(args.breakout)
    if not authors:
        print(
            f"Breakout {args.breakout} has no imported chat. Import one: breakout-bot import-chat {args.breakout} FILE"
        )
        return 0
    for a in authors:
        source = {"themselves": "their own choice", "organiser": "recorded by an organiser"}.get(
            a.chosen_by or "", "plan default"
        )
        print(
            f"{a.name:32} {a.messages:4} message{'s' if a.messages != 1 else ' '}  {a.level.value:12} ({source})"
            f"{'  [in the groups]' if a.member else ''}"
        )
    return 0


def cmd_chat_naming(args: argparse.Namespace) -> int:
    from bot.services.errors import BadArguments

    try:
        level = Level.parse(args.level)
    except ValueError:
        raise BadArguments(f"'{args.level}' is not a naming choice. Use one of: {LEVEL_WORDS}.") from None
    with _call_chat(args) as chat:
        print(chat.record_naming(args.breakout, name=args.name, level=level, recorded_by="command line"))
    return 0


def cmd_attendance(args: argparse.Namespace) -> int:
    from bot.services.errors import BadArguments

    value = args.count.strip().lower()
    if value in ("auto", "none", "count"):
        count = None
    elif value.isdigit():
        count = int(value)
    else:
        raise BadArguments(f"'{args.count}' is not a number of people (or 'auto' to count them).")
    with _call_chat(args) as chat:
        print(chat.set_attendance(args.breakout, count))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.domain.naming import clean_name
    from bot.services.errors import BadArguments

    with _call_chat(args) as chat:
        if args.action == "list":
            for e in chat.messages(args.breakout):
                flags = ("*" if e.highlighted else " ") + ("x" if e.excluded else " ")
                text = " ".join(e.text.split())
                sys.stdout.write(
                    f"{e.line:6} {flags} {e.sent_at:%H:%M:%S} {clean_name(e.author)[:24]:24} "
                    f"{text[:80]}{'…' if len(text) > 80 else ''}\n"
                )
            return 0
        if args.line is None:
            raise BadArguments(
                f"Say which message: breakout-bot chat {args.breakout} {args.action} LINE "
                "(the line numbers are in: breakout-bot chat BREAKOUT list)."
            )
        change = {
            "highlight": {"highlight": True},
            "unhighlight": {"highlight": False},
            "exclude": {"exclude": True},
            "restore": {"exclude": False},
        }[args.action]
        print(chat.mark(args.breakout, line=args.line, **change))
    return 0


def cmd_chat_forget(args: argparse.Namespace) -> int:
    with _call_chat(args) as chat:
        print(chat.forget_author(args.breakout, name=args.name))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    imp = sub.add_parser("import-chat", help="import the video call's chat (a Zoom chat export) into a breakout")
    imp.add_argument("breakout", type=int, help="the breakout's number (see: breakout-bot breakouts)")
    imp.add_argument("file", help="Zoom's saved chat, e.g. meeting_saved_chat.txt")
    imp.add_argument("--attendance", type=int, help="the call's own head count, for the write-up")
    imp.set_defaults(func=cmd_import_chat)

    authors = sub.add_parser("chat-authors", help="who wrote in a breakout's imported chat, and how each is named")
    authors.add_argument("breakout", type=int)
    authors.set_defaults(func=cmd_chat_authors)

    naming = sub.add_parser("chat-naming", help="record how a chat author agreed to be named")
    naming.add_argument("breakout", type=int)
    naming.add_argument("name", help="the author's name as in the chat (pronouns in brackets may be left out)")
    naming.add_argument("level", help=LEVEL_WORDS)
    naming.set_defaults(func=cmd_chat_naming)

    att = sub.add_parser("attendance", help="state the call's own head count (or 'auto' to count people)")
    att.add_argument("breakout", type=int)
    att.add_argument("count")
    att.set_defaults(func=cmd_attendance)

    chat = sub.add_parser("chat", help="list a breakout's imported chat, or curate one message of it")
    chat.add_argument("breakout", type=int)
    chat.add_argument("action", choices=["list", "highlight", "unhighlight", "exclude", "restore"])
    chat.add_argument("line", type=int, nargs="?", help="the line the message starts on (see: list)")
    chat.set_defaults(func=cmd_chat)

    forget = sub.add_parser("chat-forget", help="delete everything stored about someone who was only in the chat")
    forget.add_argument("breakout", type=int)
    forget.add_argument("name")
    forget.set_defaults(func=cmd_chat_forget)
