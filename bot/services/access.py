"""Who may do what: facilitators steer a breakout, organisers pull and feed the write-up.

The adapter decides the roles (workspace admins, Discord roles, a configured list) and puts them on the
``Actor``; the use cases ask here, so a refusal reads the same wherever it comes from.
"""

from __future__ import annotations

from bot.services.context import Actor
from bot.services.errors import NotAllowed


def require_facilitator(actor: Actor, what: str) -> None:
    if not actor.is_facilitator:
        raise NotAllowed(f"Only facilitators can {what}. If you should be one, ask an organiser to add you.")


def require_organiser(actor: Actor, what: str) -> None:
    if not actor.is_organiser:
        raise NotAllowed(f"Only organisers can {what}. If you should be one, ask a workspace admin to add you.")
