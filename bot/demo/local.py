"""The demo on the in-memory platform: the whole session through the core, no network at all."""

from __future__ import annotations

import datetime as dt
import random
import re
import time
from collections.abc import Callable
from pathlib import Path

from bot.adapters.local import LocalChat
from bot.config import Settings
from bot.demo import script
from bot.services.app import BreakoutApp
from bot.services.commands import SummaryCommand, parse_breakout
from bot.services.context import Actor
from bot.services.port import PersonInfo

WORKSPACE = "local:demo"


def person(full_name: str, display: str, user_id: str) -> PersonInfo:
    return PersonInfo(user_id=user_id, full_name=full_name, first_name=full_name.split()[0], display_name=display)


def run_local_demo(settings: Settings, *, out: Path, echo: Callable[[str], None] = print) -> str:
    chat = LocalChat(echo=echo)
    run = f"{time.time_ns():x}"  # message ids unique to this run: a second demo on the same database keeps its quotes
    app = BreakoutApp(settings, chat, rng=random.Random(7), clock_name=f"demo-{run}")
    people = {v.full_name: person(v.full_name, v.display_name, f"U{i:03d}") for i, v in enumerate(script.VOICES)}
    facilitator = Actor(WORKSPACE, person(*script.FACILITATOR, "UFAC"), is_facilitator=True)
    organiser = Actor(WORKSPACE, person(*script.ORGANISER, "UORG"), is_organiser=True)

    def say(text: str) -> str:
        return re.sub(r"<@\{([^}]+)\}>", lambda m: f"<@{people[m.group(1)].user_id}>", text)

    app.start()
    try:
        echo(f"$ /breakout start {script.PLAN} groups={script.GROUPS}   (typed by {script.FACILITATOR[0]})")
        echo(
            app.run_breakout_command(
                facilitator,
                parse_breakout(f"start {script.PLAN} groups={script.GROUPS}"),
                channel_id="community-call",
                participants=lambda: (list(people.values()), [facilitator.person]),
            )
        )
        channel_of = {uid: name for name, members in chat.channels.items() for uid in members}
        for voice in script.VOICES:
            if voice.level is not None:
                actor = Actor(WORKSPACE, people[voice.full_name])
                app.consents.choose(actor, level=voice.level, via="button", channel_id=channel_of[actor.person.user_id])
                echo(f"  {voice.display_name} chose: {app.messages.consent_label(voice.level)}")
        sent: dict[tuple[str, int], str] = {}
        for question in (0, 1):
            if question == 1:
                wait_for(
                    lambda: (
                        app.lifecycle.status(facilitator, channel_id="community-call").question_number == 2
                        or app.lifecycle.status(facilitator, channel_id="community-call").state == "stopped"
                    ),
                    timeout=120,
                )
            for n, voice in enumerate(script.VOICES):
                if not voice.replies[question]:
                    continue
                p = people[voice.full_name]
                message_id = f"{run}-{question}-{n}"
                echo(f"[#{channel_of[p.user_id]}] {voice.display_name}: {say(voice.replies[question])}")
                app.capture.message_posted(
                    workspace=WORKSPACE,
                    channel_id=channel_of[p.user_id],
                    message_id=message_id,
                    author=p,
                    text=say(voice.replies[question]),
                    sent_at=dt.datetime.now(dt.UTC),
                )
                sent[(voice.full_name, question)] = message_id
            if question == 0:
                name, q, text = script.EDIT
                app.capture.message_edited(
                    workspace=WORKSPACE,
                    channel_id=channel_of[people[name].user_id],
                    message_id=sent[(name, q)],
                    text=text,
                )
                echo(f"  ({people[name].display_name} edited their reply)")
        name, q = script.DELETE
        app.capture.message_deleted(
            workspace=WORKSPACE, channel_id=channel_of[people[name].user_id], message_id=sent[(name, q)]
        )
        echo(f"  ({people[name].display_name} deleted a reply)")
        wait_for(lambda: app.lifecycle.status(facilitator, channel_id="community-call").state == "stopped", timeout=120)
        echo(f"$ /summary   (typed by {script.ORGANISER[0]})")
        delivery = app.summary_for(organiser, SummaryCommand(), channel_id="community-call")
        out.write_text(delivery.markdown, encoding="utf-8")
        return delivery.markdown
    finally:
        app.shutdown()


def wait_for(predicate: Callable[[], bool], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the demo breakout did not move on in time")
        time.sleep(0.05)
