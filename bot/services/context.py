"""What every use case is handed: the database, the platform port, the clock and friends."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.services.messages import MessageBook
from bot.services.plans import PlanLibrary
from bot.services.port import ChatPort, PersonInfo
from bot.store.database import Database


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Core:
    db: Database
    port: ChatPort
    plans: PlanLibrary
    messages: MessageBook
    time_scale: float = 1.0
    fanout_concurrency: int = 8
    now: Callable[[], dt.datetime] = utcnow
    rng: random.Random = field(default_factory=random.Random)


@dataclass(frozen=True)
class Actor:
    """Who is asking, and what the adapter found they may do."""

    workspace: str  # e.g. "slack:T123" or "discord:4567": people and breakouts live in one
    person: PersonInfo
    is_facilitator: bool = False
    is_organiser: bool = False
