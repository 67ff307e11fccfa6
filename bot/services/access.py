"""Who may do what: facilitators steer a breakout, organisers pull and feed the write-up.

The adapter decides the roles (workspace admins, Discord roles, a configured list) and puts them on the
``Actor``; the use cases ask here. A refusal names the role it lacks, and each platform words who
grants it (``bot.services.errors.AskForRole``).
"""

from __future__ import annotations

from bot.services.context import Actor
from bot.services.errors import Role, only


def require_facilitator(actor: Actor, what: str) -> None:
    if not actor.is_facilitator:
        raise only(Role.FACILITATOR, what)


def require_organiser(actor: Actor, what: str) -> None:
    if not actor.is_organiser:
        raise only(Role.ORGANISER, what)
