"""Running the bot: ``run`` on Slack or Discord, the ``demo`` on a local sandbox, and ``discord-sync``.

Every check a newcomer can fail (credentials, the database, the output file, the demo's options) runs
before anything is started, so a mistake costs a sentence, not a run.
"""

from __future__ import annotations

import argparse
import logging
import math
import shlex

from bot.config import Settings
from bot.demo import PLATFORMS, SLACK_MODES, default_platform, run_demo

from .offline import check_database, open_database
from .usage import CommandFailed, UsageError, settings_of, writable_output

DEMO_TIME_SCALE = 0.005  # a 10-minute question lasts 3 seconds
DEMO_OUTPUT = "breakout-summary.md"
ENV_GUIDE = "Put them in .env (.env.example lists every setting)."


class DemoStalled(CommandFailed):
    """The demo's story did not reach its end in time (a busy machine, or a bug the log will show)."""


def slack_credentials_problem(settings: Settings) -> str | None:
    """What is missing to connect to Slack, in the words of Slack's app settings; None when enough is set."""
    guide = f"{ENV_GUIDE} The README's 'Running on Slack' shows where each one is."
    if not settings.slack_bot_token:
        return (
            "To run on Slack, set SLACK_BOT_TOKEN (xoxb-…, from OAuth & Permissions) and either SLACK_APP_TOKEN "
            "(xapp-…, for Socket Mode: no public URL needed) or SLACK_SIGNING_SECRET with SLACK_MODE=http "
            f"(for HTTP mode). {guide}"
        )
    mode = settings.resolved_slack_mode
    if mode == "socket" and not settings.slack_app_token:
        return (
            "Socket Mode (SLACK_MODE=socket) needs SLACK_APP_TOKEN (xapp-…, an app-level token with "
            f"connections:write); or use HTTP mode: SLACK_MODE=http with SLACK_SIGNING_SECRET. {guide}"
        )
    if mode == "http" and not settings.slack_signing_secret:
        if settings.slack_mode == "auto":
            return (
                "Besides SLACK_BOT_TOKEN, Slack needs SLACK_APP_TOKEN (xapp-…, for Socket Mode: no public URL "
                f"needed) or SLACK_SIGNING_SECRET with SLACK_MODE=http (for HTTP mode). {guide}"
            )
        return (
            "HTTP mode (SLACK_MODE=http) needs SLACK_SIGNING_SECRET (from Basic Information) to check that "
            f"requests come from Slack; or use Socket Mode with SLACK_APP_TOKEN. {guide}"
        )
    return None


def discord_credentials_problem(settings: Settings) -> str | None:
    if settings.discord_token:
        return None
    return (
        "To run on Discord, set DISCORD_TOKEN to the bot's token from the Discord Developer Portal "
        "(deploy/discord.md walks through it). Put it in .env."
    )


def cmd_run(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    platform = args.platform
    if platform == "auto":
        platform = (
            "slack" if settings.has_slack_credentials else "discord" if settings.has_discord_credentials else None
        )
    if platform is None:
        print(
            "No Slack or Discord credentials are set (see .env.example), so the bot runs a demo session "
            "on the local Slack sandbox instead.\n",
            flush=True,
        )
        if not args.verbose:  # the demo's own transcript is the output; the bot's log would drown it
            logging.getLogger().setLevel(logging.WARNING)
        args.platform, args.output, args.mode, args.time_scale = None, DEMO_OUTPUT, None, DEMO_TIME_SCALE
        return cmd_demo(args)
    if platform == "slack":
        if problem := slack_credentials_problem(settings):
            raise UsageError(problem)
        check_database(settings.database_url)
        from bot.adapters.slack.runner import run_slack

        return run_slack(settings) or 0
    if problem := discord_credentials_problem(settings):
        raise UsageError(problem)
    check_database(settings.database_url)
    from bot.adapters.discord.runner import run_discord

    return run_discord(settings) or 0


def cmd_demo(args: argparse.Namespace) -> int:
    platform = args.platform or default_platform()
    if args.mode is not None and platform != "slack":
        raise UsageError(
            f"--mode chooses how the Slack demo connects (socket or http); the {platform} demo has no mode, "
            "so leave --mode out."
        )
    if not (math.isfinite(args.time_scale) and args.time_scale > 0):
        raise UsageError(
            f"--time-scale {args.time_scale:g} would never move the clock: give a number above 0 "
            f"(1.0 is real time; the demo's default is {DEMO_TIME_SCALE:g})."
        )
    out = writable_output(args.output)
    settings = settings_of(args).replace(time_scale=args.time_scale)
    check_database(settings.database_url)
    try:
        text = run_demo(settings, platform=platform, out=out, mode=args.mode or "socket")
    except (TimeoutError, AssertionError) as exc:  # the demo's waits give up (sandboxes raise AssertionError)
        raise DemoStalled(
            f"The demo stopped before the end ({exc}). Run it again with -v to see the bot's log; on a busy "
            "machine a larger --time-scale (e.g. 0.02) gives the bot more time."
        ) from None
    print("\n" + "=" * 72 + "\nThe summary /summary returned:\n" + "=" * 72)
    print(text)
    print(f"(also written to {out})")
    print(_where_the_breakout_is(settings, args))
    return 0


def _where_the_breakout_is(settings: Settings, args: argparse.Namespace) -> str:
    """The exact command that reads the demo's breakout again from its database."""
    from sqlalchemy import func, select
    from sqlalchemy.engine import make_url

    from bot.store.models import Breakout

    db = open_database(settings.database_url, migrate=False)
    try:
        with db.transaction() as s:
            number = s.scalar(select(func.max(Breakout.id)))
    finally:
        db.dispose()
    database = f" --database {shlex.quote(args.database)}" if args.database else ""
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    return f"The demo's breakout is number {number} in {shown}; read it again with: breakout-bot{database} summary {number} --format html"


def cmd_discord_sync(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    if problem := discord_credentials_problem(settings):
        raise UsageError(problem)
    from bot.adapters.discord.runner import sync_commands

    return sync_commands(settings, guild_id=args.guild) or 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser("run", help="run the bot on Slack or Discord (a local demo without credentials)")
    run.add_argument("platform", nargs="?", choices=["auto", "slack", "discord"], default="auto")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="a whole session with simulated people on a local sandbox")
    demo.add_argument("--platform", choices=list(PLATFORMS), default=None)
    demo.add_argument("--mode", choices=list(SLACK_MODES), default=None, help="Slack connection mode (default socket)")
    demo.add_argument("-o", "--output", default=DEMO_OUTPUT, help="where to write the summary")
    demo.add_argument(
        "--time-scale", type=float, default=DEMO_TIME_SCALE, help=f"1.0 is real time (default {DEMO_TIME_SCALE:g})"
    )
    demo.set_defaults(func=cmd_demo)


def register_discord_sync(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sync = sub.add_parser("discord-sync", help="register the Discord slash commands (deliberately, not on every start)")
    sync.add_argument("--guild", help="a server id: sync there at once instead of globally")
    sync.set_defaults(func=cmd_discord_sync)
