"""The write-up from the command line: ``summary BREAKOUT [--format ...] [-o FILE]``."""

from __future__ import annotations

import argparse
import sys

from .offline import offline_core
from .usage import settings_of, writable_output, write_output


def cmd_summary(args: argparse.Namespace) -> int:
    from bot.render.formats import render_summary
    from bot.render.pdf import PdfFailed, PdfUnavailable
    from bot.services.errors import BadArguments
    from bot.services.summarise import Summaries

    settings = settings_of(args)
    output = writable_output(args.output) if args.output else None  # before the work, not after it
    with offline_core(settings) as core:
        summary = Summaries(core).build(args.breakout, by=args.by, highlights_only=args.highlights)
    try:
        rendered = render_summary(summary, args.format, templates=settings.prompts_dir / "templates")
    except (PdfUnavailable, PdfFailed) as exc:
        raise BadArguments(f"{exc} --format html, docx and md work without it.") from None
    except ValueError as exc:  # a broken template in prompts/templates/
        raise BadArguments(str(exc)) from None
    if output is None and not rendered.is_text:  # never dump a binary file onto the terminal
        output = writable_output(f"summary-breakout-{args.breakout}{rendered.extension}")
    if output is not None:
        write_output(output, rendered.content)
        print(f"Wrote {output}")
    else:
        sys.stdout.write(rendered.content.decode("utf-8"))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    summary = sub.add_parser("summary", help="print or write a breakout's group discussion summary")
    summary.add_argument("breakout", type=int, help="the breakout's number (see: breakout-bot breakouts)")
    summary.add_argument("--by", choices=["question", "group"], default="question")
    summary.add_argument("--highlights", action="store_true", help="only quotes marked as highlights")
    summary.add_argument(
        "--format",
        choices=["md", "html", "docx", "pdf"],
        default="md",
        help="md or html print (or -o); docx and pdf are written to a file (pdf needs Chromium)",
    )
    summary.add_argument("-o", "--output", help="write to this file instead of printing")
    summary.set_defaults(func=cmd_summary)
