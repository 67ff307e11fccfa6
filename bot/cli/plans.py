"""Session plans from the command line: ``plans list`` and ``plans check``."""

from __future__ import annotations

import argparse
from pathlib import Path

from .usage import settings_of


def cmd_plans_list(args: argparse.Namespace) -> int:
    from bot.services.plans import PlanLibrary

    settings = settings_of(args)
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
            candidate = settings_of(args).prompts_dir / "plans" / f"{name}.yaml"
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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    plans = sub.add_parser("plans", help="session plans in prompts/plans/")
    plans_sub = plans.add_subparsers(dest="plans_command", required=True)
    plans_sub.add_parser("list", help="list the plans found").set_defaults(func=cmd_plans_list)
    check = plans_sub.add_parser("check", help="validate plan files and print every problem")
    check.add_argument("files", nargs="+")
    check.set_defaults(func=cmd_plans_check)
