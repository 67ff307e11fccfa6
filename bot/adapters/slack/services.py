"""What the Slack listeners share: the core, the port, the directory and the roles.

Built once by ``bot.adapters.slack.runner`` and handed to each listener module's ``register``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App, BoltContext

from bot.services.app import BreakoutApp
from bot.services.context import Actor

from .people import Directory, Roles
from .port import SlackPort

log = logging.getLogger(__name__)


def workspace_of(team_id: str | None) -> str:
    return f"slack:{team_id or 'unknown'}"


def team_of(body: dict[str, Any]) -> str | None:
    """The workspace a request comes from, wherever its payload keeps it."""
    return body.get("team_id") or (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")


def time_of(ts: str) -> dt.datetime:
    """A Slack message timestamp ("1610241741.000200") as an aware datetime."""
    return dt.datetime.fromtimestamp(float(ts), tz=dt.UTC)


@dataclass
class SlackServices:
    core: BreakoutApp
    port: SlackPort
    directory: Directory
    roles: Roles
    #: For work that must not hold up an acknowledgement (a consent prompt after a quote is stored).
    workers: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(4, thread_name_prefix="slack-work"))

    def use_actor_middleware(self, app: App) -> None:
        """One middleware for every request: who is asking goes into the context as ``context["actor"]``."""

        @app.use
        def find_actor(context: BoltContext, body: dict[str, Any], next: Callable[[], None]) -> None:
            user_id = context.user_id
            if user_id:
                context["actor"] = ActorLookup(self, team_of(body), user_id)
            next()

    def actor(self, team_id: str | None, user_id: str) -> Actor:
        return Actor(
            workspace=workspace_of(team_id),
            person=self.directory.person(user_id),
            is_facilitator=self.roles.is_facilitator(user_id),
            is_organiser=self.roles.is_organiser(user_id),
        )

    def plan_list(self) -> str:
        entries = [e for e in self.core.plans.entries() if e.plan is not None]
        if not entries:
            return "There are no plans yet: an organiser adds them to prompts/plans/."
        return "Plans:\n" + "\n".join(f"  {e.slug}   {e.plan.title}" for e in entries if e.plan)


class ActorLookup:
    """Who is asking, built once per request and only when a listener asks for it: a slash command's
    ack does no I/O, and a message event needs its author, not their roles.

    Bolt copies the context for lazy listeners; the copy is this same lookup, so the actor found
    before the ack is not looked up again after it.
    """

    def __init__(self, services: SlackServices, team_id: str | None, user_id: str) -> None:
        self.services, self.team_id, self.user_id = services, team_id, user_id
        self._actor: Actor | None = None
        self._lock = threading.Lock()

    def __deepcopy__(self, memo: dict[int, Any]) -> ActorLookup:
        return self

    def get(self) -> Actor:
        with self._lock:
            if self._actor is None:
                self._actor = self.services.actor(self.team_id, self.user_id)
            return self._actor


def actor_of(context: BoltContext) -> Actor:
    """The actor the middleware put in the context."""
    lookup: ActorLookup = context["actor"]
    return lookup.get()
