"""How the summary scales: build, Markdown, HTML and DOCX at 1k, 10k and 50k quotes, with 65 and with
2,000 people in the workspace (the breakout itself always has 65). Prints figures; asserts nothing.

Usage: .venv/bin/python benchmarks/summary_scaling.py [--sizes 1000,10000,50000] [--people 65,2000]
                                                       [--repeat 3] [--no-memory] [--no-docx]
Each case is a real SQLite database: the breakout is started through the app (65 people in 13 groups, each
with a naming choice), the rest of the workspace and the quotes are written through the store's models in
bulk. Times are medians of --repeat runs without tracemalloc, in CPU seconds of this process (time.process_time),
so that other work on a shared machine does not count; peak memory (build + all renders) is measured in a
separate pass with tracemalloc on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert, select

from bot.adapters.local import LocalChat
from bot.config import Settings
from bot.domain.consent import Level
from bot.render.docx import render_docx
from bot.render.html import render_html
from bot.render.markdown import render_markdown
from bot.services.app import BreakoutApp
from bot.services.commands import parse_breakout
from bot.services.context import Actor
from bot.services.port import PersonInfo
from bot.store.models import Membership, Person, Quote

WORKSPACE = "bench:T"
IN_BREAKOUT = 65
FIRSTS = (
    "Anouk Bertil Cosima Dagny Eskil Fenna Gunnar Hedda Idris Jovana Kasimir Ludmila Marisol Nikolai Oona Priya "
    "Quentin Rosalind Soren Tamsin Ulrike Valentin Wilhelmina Xavier Yusuf Zofia Amara Bastian Celeste Dmitri"
).split()
LASTS = (
    "Quist Rydberg Sokolova Thorsen Ulvaeus Vandermeer Wikstrom Yilmaz Zandvoort Achterberg Bergqvist Castellano "
    "Delacroix Eriksen Fairweather Gallagher Hashimoto Iversen Jankowski Kowalczyk Lindqvist Moreau Nakamura "
    "Okonkwo Petrovic Quintero Rasmussen Szabo Takahashi Umarov Villanueva Whitlock Xiong Yamamoto Zielinski"
).split()
WORDS = "kindness teams students listen care time learn support trust share patients culture role model".split()


def name_of(i: int) -> str:
    """Distinct full names for up to ~30k people: a first name, a surname, and a number past the pool."""
    first, last = FIRSTS[i % len(FIRSTS)], LASTS[(i // len(FIRSTS)) % len(LASTS)]
    lap = i // (len(FIRSTS) * len(LASTS))
    return f"{first} {last}{lap or ''}"


def quote_text(rng: random.Random, i: int, names: list[str]) -> str:
    """Everyday replies: a few mention someone (by first name, full name or @mention), some share a link."""
    words = " ".join(rng.choices(WORDS, k=rng.randint(8, 30)))
    r = rng.random()
    if r < 0.15:
        words = f"I agree with {rng.choice(names).split()[0]}, {words}"
    elif r < 0.2:
        words += f" as {rng.choice(names)} said"
    elif r < 0.3:
        words += f" <@U{rng.randrange(IN_BREAKOUT)}>"
    if rng.random() < 0.1:
        words += f" https://example.org/{i % 50}"
    return words


def fill(app: BreakoutApp, chat: LocalChat, workspace_people: int, quotes: int) -> int:
    """A breakout of 65 people with ``quotes`` quotes, in a workspace of ``workspace_people``; its id."""
    people = [PersonInfo(f"U{i}", name_of(i), name_of(i).split()[0]) for i in range(IN_BREAKOUT)]
    facilitator = Actor(WORKSPACE, PersonInfo("UF", "Fac Ilitator"), is_facilitator=True, is_organiser=True)
    app.run_breakout_command(
        facilitator,
        parse_breakout("start kindness-in-education size=5"),
        channel_id="main",
        participants=lambda: (people, [facilitator.person]),
    )
    channel_of = {uid: name for name, members in chat.channels.items() for uid in members}
    rng = random.Random(2)
    for p in people:
        app.consents.choose(
            Actor(WORKSPACE, p), level=rng.choice(list(Level)), via="command", channel_id=channel_of[p.user_id]
        )
    all_names = [name_of(i) for i in range(workspace_people)]
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    with app.db.transaction() as s:
        if workspace_people > IN_BREAKOUT:
            s.execute(
                insert(Person),
                [
                    {"workspace": WORKSPACE, "user_id": f"U{i}", "full_name": all_names[i], "first_name": None,
                     "display_name": all_names[i].split()[0], "preferred_name": None, "is_bot": False}
                    for i in range(IN_BREAKOUT, workspace_people)
                ],
            )
        breakout_id, members = 1, list(
            s.execute(select(Membership.person_id, Membership.group_id).where(Membership.group_id.is_not(None)))
        )
        s.execute(
            insert(Quote),
            [
                {"breakout_id": breakout_id, "group_id": members[n % len(members)][1],
                 "person_id": members[n % len(members)][0], "question_index": n % 3, "message_key": f"bench:{n}",
                 "text": quote_text(rng, n, all_names), "sent_at": start + dt.timedelta(seconds=n),
                 "edited_at": None, "highlighted": n % 17 == 0, "excluded": False}
                for n in range(quotes)
            ],
        )
    return breakout_id


def median_time(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.process_time()
        result = fn()
        times.append(time.process_time() - t0)
    return statistics.median(times), result


def run_case(workspace_people: int, quotes: int, *, repeat: int, memory: bool, docx: bool) -> dict[str, float]:
    tmp = Path(tempfile.mkdtemp())
    repo = Path(__file__).resolve().parents[1]
    settings = Settings.from_mapping(
        {"DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}", "BREAKOUT_PROMPTS_DIR": str(repo / "prompts")}
    )
    chat = LocalChat()
    app = BreakoutApp(settings, chat, rng=random.Random(1), clock_name="bench")
    app.start()
    figures: dict[str, float] = {}
    try:
        breakout_id = fill(app, chat, workspace_people, quotes)
        figures["build"], summary = median_time(lambda: app.summaries.build(breakout_id), repeat)
        figures["markdown"], _ = median_time(lambda: render_markdown(summary), repeat)  # type: ignore[arg-type]
        figures["html"], _ = median_time(lambda: render_html(summary), repeat)  # type: ignore[arg-type]
        if docx:
            figures["docx"], _ = median_time(lambda: render_docx(summary), 1)  # type: ignore[arg-type]
        if memory:
            tracemalloc.start()
            built = app.summaries.build(breakout_id)
            render_markdown(built)
            render_html(built)
            if docx:
                render_docx(built)
            figures["peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
    finally:
        app.shutdown()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--people", default=f"{IN_BREAKOUT},2000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--no-docx", action="store_true")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    formats = ["build", "markdown", "html"] + ([] if args.no_docx else ["docx"])
    for workspace_people in (int(n) for n in args.people.split(",")):
        print(f"\n{workspace_people} people in the workspace, {IN_BREAKOUT} in the breakout")
        header = f"{'quotes':>8} " + " ".join(f"{f:>10}" for f in formats)
        print(header + ("" if args.no_memory else f" {'peak MiB':>9}"))
        results = {}
        for n in sizes:
            fig = run_case(workspace_people, n, repeat=args.repeat, memory=not args.no_memory, docx=not args.no_docx)
            results[n] = fig
            line = f"{n:>8} " + " ".join(f"{fig[f]:>9.3f}s" for f in formats)
            print(line + ("" if args.no_memory else f" {fig['peak_mib']:>9.1f}"), flush=True)
        for small, big in zip(sizes, sizes[1:], strict=False):
            ratios = " ".join(f"{f} ×{results[big][f] / results[small][f]:.2f}" for f in formats)
            print(f"  {big}/{small}: {ratios}")


if __name__ == "__main__":
    main()
