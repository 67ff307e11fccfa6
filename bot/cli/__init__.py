"""breakout-bot's command line: run, demo, db, plans, summary."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

from bot.config import SettingError, Settings


def _settings(args: argparse.Namespace) -> Settings:
    """The settings ``main`` read once, with the command line's --database over them."""
    settings: Settings = args.settings
    if getattr(args, "database", None):
        settings = settings.replace(database_url=args.database)
    return settings


def cmd_plans_list(args: argparse.Namespace) -> int:
    from bot.services.plans import PlanLibrary

    settings = _settings(args)
    entries = PlanLibrary(settings.prompts_dir).entries()
    if not entries:
        print(f"No plans in {settings.prompts_dir / 'plans'}.")
        return 1
    for e in entries:
        if e.plan:
            q = len(e.plan.questions)
            print(f"{e.slug:32} {e.plan.title} ({q} question{'s' if q != 1 else ''}, {e.plan.total_minutes:g} min)")
        else:
            print(f"{e.slug:32} BROKEN: {len(e.problems)} problem(s); run: breakout-bot plans check {e.path}")
    return 0


def cmd_plans_check(args: argparse.Namespace) -> int:
    from bot.domain.plan import PlanInvalid
    from bot.services.plans import load_plan_file

    status = 0
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            candidate = _settings(args).prompts_dir / "plans" / f"{name}.yaml"
            if candidate.is_file():
                path = candidate
            else:
                print(f"{name}: no such file (give a path, or the name of a plan in prompts/plans/)")
                status = 1
                continue
        try:
            plan = load_plan_file(path)
        except PlanInvalid as invalid:
            status = 1
            print(f"{path}: {len(invalid.problems)} problem(s)")
            for p in invalid.problems:
                where = f"line {p.line}" if p.line else "file"
                print(f"  {where}: {p.message}\n    hint: {p.hint}")
            continue
        print(
            f"{path}: OK: {plan.title}, {len(plan.questions)} questions, {plan.total_minutes:g} minutes, "
            f"naming default {plan.naming.default.value}{', Chatham House Rule' if plan.naming.chatham_house else ''}"
        )
    return status


def cmd_db(args: argparse.Namespace) -> int:
    from alembic import command

    from bot.store.database import Database, alembic_config

    settings = _settings(args)
    db = Database(settings.database_url, migrate=args.action == "upgrade")
    try:
        if args.action == "current":
            command.current(alembic_config(db.engine), verbose=False)
        else:
            print(f"{settings.database_url}: schema up to date")
    finally:
        db.dispose()
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bot.store.database import Database
    from bot.store.models import Breakout

    db = Database(_settings(args).database_url)
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


def cmd_summary(args: argparse.Namespace) -> int:
    from bot.render.formats import render_summary
    from bot.render.pdf import PdfFailed, PdfUnavailable
    from bot.services.context import Core
    from bot.services.errors import BadArguments
    from bot.services.messages import MessageBook
    from bot.services.plans import PlanLibrary
    from bot.services.summarise import Summaries
    from bot.store.database import Database

    settings = _settings(args)
    db = Database(settings.database_url)
    try:
        core = Core(
            db=db,
            port=None,  # type: ignore[arg-type]
            plans=PlanLibrary(settings.prompts_dir),
            messages=MessageBook(settings.prompts_dir),
        )
        summary = Summaries(core).build(args.breakout, by=args.by, highlights_only=args.highlights)
    finally:
        db.dispose()
    try:
        rendered = render_summary(summary, args.format, templates=settings.prompts_dir / "templates")
    except (PdfUnavailable, PdfFailed) as exc:
        raise BadArguments(f"{exc} --format html, docx and md work without it.") from None
    except ValueError as exc:  # a broken template in prompts/templates/
        raise BadArguments(str(exc)) from None
    output = args.output
    if output is None and not rendered.is_text:  # never dump a binary file onto the terminal
        output = f"summary-breakout-{args.breakout}{rendered.extension}"
    if output:
        Path(output).write_bytes(rendered.content)
        print(f"Wrote {output}")
    else:
        sys.stdout.write(rendered.content.decode("utf-8"))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    settings = _settings(args)
    out = Path(args.output)
    if not args.database:  # a fresh database per demo, so it can be run again and again
        tmp = Path(tempfile.mkdtemp(prefix="breakout-demo-"))
        settings = settings.replace(database_url=f"sqlite:///{tmp / 'demo.db'}")
    settings = settings.replace(time_scale=args.time_scale)
    platform = args.platform
    if platform == "local":
        from bot.demo.local import run_local_demo

        text = run_local_demo(settings, out=out)
    elif platform == "slack":
        from bot.demo.slack import run_slack_demo

        text = run_slack_demo(settings, out=out, mode=args.mode)
    else:
        from bot.demo.discord import run_discord_demo

        text = run_discord_demo(settings, out=out)
    print("\n" + "=" * 72 + "\nThe summary /summary returned:\n" + "=" * 72)
    print(text)
    print(f"(also written to {out})")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    platform = args.platform
    if platform == "auto":
        platform = (
            "slack" if settings.has_slack_credentials else "discord" if settings.has_discord_credentials else None
        )
    if platform is None:
        print(
            "No Slack or Discord credentials are set (see .env.example), so the bot runs a demo session "
            "on the local Slack sandbox instead.\n"
        )
        if not args.verbose:  # the demo's own transcript is the output; the bot's log would drown it
            logging.getLogger().setLevel(logging.WARNING)
        args.platform, args.output, args.mode = _default_demo_platform(), "breakout-summary.md", "socket"
        args.time_scale = 0.005
        return cmd_demo(args)
    if platform == "slack":
        from bot.adapters.slack.runner import run_slack

        return run_slack(settings) or 0
    from bot.adapters.discord.runner import run_discord

    return run_discord(settings) or 0


def cmd_discord_sync(args: argparse.Namespace) -> int:
    from bot.adapters.discord.runner import sync_commands

    return sync_commands(_settings(args), guild_id=args.guild) or 0


def _default_demo_platform() -> str:
    try:
        import bot.demo.slack  # noqa: F401
    except ImportError:
        return "local"
    return "slack"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="breakout-bot", description=__doc__)
    parser.add_argument("--database", help="database URL (default: DATABASE_URL, else sqlite:///breakout-bot.db)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the bot does")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot on Slack or Discord (a local demo without credentials)")
    run.add_argument("platform", nargs="?", choices=["auto", "slack", "discord"], default="auto")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="a whole session with simulated people on a local sandbox")
    demo.add_argument("--platform", choices=["slack", "discord", "local"], default=None)
    demo.add_argument("--mode", choices=["socket", "http"], default="socket", help="Slack connection mode")
    demo.add_argument("-o", "--output", default="breakout-summary.md", help="where to write the summary")
    demo.add_argument("--time-scale", type=float, default=0.005, help="1.0 is real time (default 0.005)")
    demo.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "current"])
    db.set_defaults(func=cmd_db)

    plans = sub.add_parser("plans", help="session plans in prompts/plans/")
    plans_sub = plans.add_subparsers(dest="plans_command", required=True)
    plans_sub.add_parser("list", help="list the plans found").set_defaults(func=cmd_plans_list)
    check = plans_sub.add_parser("check", help="validate plan files and print every problem")
    check.add_argument("files", nargs="+")
    check.set_defaults(func=cmd_plans_check)

    sub.add_parser("breakouts", help="list the breakouts in the database").set_defaults(func=cmd_list)

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

    from bot.pack_cli import add_pack_commands

    add_pack_commands(sub)

    sync = sub.add_parser("discord-sync", help="register the Discord slash commands (deliberately, not on every start)")
    sync.add_argument("--guild", help="a server id: sync there at once instead of globally")
    sync.set_defaults(func=cmd_discord_sync)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo" and args.platform is None:
        args.platform = _default_demo_platform()
    try:
        args.settings = Settings.load()
    except SettingError as exc:
        print(f"Setting problem: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.DEBUG
        if args.verbose
        else getattr(logging, args.settings.log_level, logging.INFO)
        if args.command == "run"
        else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from bot.services.errors import BreakoutError

    try:
        return int(args.func(args) or 0)
    except BreakoutError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
