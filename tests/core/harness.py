"""A breakout on the in-memory platform, driven like a transcript: who types what, who sees what."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from bot.adapters.local import LocalChat
from bot.config import Settings
from bot.services.app import BreakoutApp
from bot.services.commands import parse_breakout
from bot.services.context import Actor
from bot.services.port import PersonInfo

WORKSPACE = "local:T1"

# Plans that run their whole timeline in seconds at the tests' time scales (1-minute questions),
# and one that never moves on by itself (2-hour questions).
QUICK_PLAN = """
title: Quick check-in
series: Test series
questions:
  - text: What went well?
    minutes: 1
  - text: What would you change?
    minutes: 1
warnings: [0.5]
groups:
  size: 3
naming:
  default: anonymous
"""
SLOW_PLAN = QUICK_PLAN.replace("minutes: 1", "minutes: 120").replace("[0.5]", "[2]")
NAMES = ["Matthew Okafor", "Felize Marquez", "Saskia Lindqvist", "Paul Brennan", "Bob Kettering", "Dana Goldberg",
         "Devi Gupta", "Priya Hallam", "Sam Ortiz", "Tanya Boateng", "Lena Novak", "Kofi Asante", "Ines Duarte",
         "Omar Haddad", "Yuki Tanaka", "Zara Whitfield"]


def prompts_copy(tmp_path: Path, source: Path, extra_plans: dict[str, str] | None = None) -> Path:
    target = tmp_path / f"prompts-{uuid.uuid4().hex[:6]}"
    shutil.copytree(source, target)
    for name, text in (extra_plans or {}).items():
        (target / "plans" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return target


def wait_until(predicate: Callable[[], object], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Call:
    """One community call: a facilitator, an organiser and participants on a LocalChat."""

    def __init__(self, database_url: str, prompts: Path, *, time_scale: float = 0.002, people: int = 12,
                 seed: int = 3, clock_name: str | None = None, chat: LocalChat | None = None):
        self.settings = Settings.from_mapping({"DATABASE_URL": database_url, "BREAKOUT_PROMPTS_DIR": str(prompts),
                                               "BREAKOUT_TIME_SCALE": str(time_scale)})
        self.chat = chat or LocalChat()
        self.clock_name = clock_name or f"test-{uuid.uuid4().hex}"
        self.app = BreakoutApp(self.settings, self.chat, rng=random.Random(seed), clock_name=self.clock_name)
        self.people = [PersonInfo(f"U{i:03d}", name, name.split()[0], name.split()[0]) for i, name in enumerate(NAMES[:people])]
        self.facilitator = Actor(WORKSPACE, PersonInfo("UFAC", "Fiona Mensah", "Fiona"), is_facilitator=True)
        self.organiser = Actor(WORKSPACE, PersonInfo("UORG", "Olu Adeyemi", "Olu"), is_organiser=True)
        self._ids = itertools.count(1)
        self.app.start()

    def restart(self) -> Call:
        """The process dies and comes back on the same database (and the same chat platform)."""
        self.app.shutdown()
        self.app = BreakoutApp(self.settings, self.chat, rng=random.Random(5), clock_name=self.clock_name)
        self.app.start()
        return self

    def close(self) -> None:
        self.app.shutdown()

    def person(self, first: str) -> PersonInfo:
        return next(p for p in self.people if p.first_name == first)

    def actor(self, first: str) -> Actor:
        return Actor(WORKSPACE, self.person(first))

    def facilitator_types(self, text: str, channel: str = "main") -> str:
        return self.app.run_breakout_command(self.facilitator, parse_breakout(text), channel_id=channel,
                                             participants=lambda: (self.people, [self.facilitator.person]))

    def types(self, actor: Actor, text: str, channel: str = "main") -> str:
        return self.app.run_breakout_command(actor, parse_breakout(text), channel_id=channel,
                                             participants=lambda: (self.people, [self.facilitator.person]))

    def channel_of(self, first: str) -> str:
        uid = self.person(first).user_id
        return next(name for name, members in self.chat.channels.items() if uid in members)

    def says(self, first: str, text: str, *, thread: str | None = None, message_id: str | None = None,
             at: dt.datetime | None = None):
        person = self.person(first)
        message_id = message_id or f"{next(self._ids)}.0001"
        result = self.app.capture.message_posted(
            workspace=WORKSPACE, channel_id=self.channel_of(first), message_id=message_id, author=person, text=text,
            sent_at=at or dt.datetime.now(dt.UTC), thread_id=thread)
        return message_id, result

    def posts_in(self, channel: str, kind: str | None = None) -> list:
        return [m for m in self.chat.messages.get(channel, []) if kind is None or m.kind == kind]

    def status(self):
        return self.app.lifecycle.status(self.facilitator, channel_id="main")

    def summary(self, **kw) -> str:
        from bot.services.commands import SummaryCommand

        return self.app.summary_for(self.organiser, SummaryCommand(**kw), channel_id="main").markdown
