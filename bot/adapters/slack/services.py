"""What the Slack listeners share: the core, the port, the directory and the roles.

Built once by ``bot.adapters.slack.runner`` and handed to each listener module's ``register``.
"""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bot.services.app import BreakoutApp
from bot.services.context import Actor

from .people import Directory, Roles
from .port import SlackPort

log = logging.getLogger(__name__)


def workspace_of(team_id: str | None) -> str:
    return f"slack:{team_id or 'unknown'}"


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
