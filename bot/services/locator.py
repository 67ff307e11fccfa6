"""Which breakout a person means, when a command may or may not name one.

One order of fallbacks for every use case; what each is for decides only where the search stops. The
first rule that finds a breakout wins:

1. the number given: it must be a breakout of this workspace, and nothing else is tried;
2. the breakout running (or paused) in this channel: its home channel or one of its group channels;
3. [steer] the one breakout running in this workspace; when several run, the person must say which;
4. the newest breakout of this channel, ended ones too (steering reaches it only when nothing runs,
   so that it can say "it has ended");
5. [consent] the newest breakout the person was in;
6. [summary] the newest breakout of this workspace.

Steering (status, next, extend, pause, ...) wants a live breakout; a naming choice belongs to the
person's own breakout; a write-up is usually for the one that just ended.
"""

from __future__ import annotations

from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services.context import Actor, Core
from bot.services.errors import NotFound
from bot.store import repository as repo
from bot.store.models import Breakout, Membership


class Purpose(Enum):
    """What the breakout is wanted for; it picks the fallbacks after the channel's own breakout."""

    STEER = "steer"
    CONSENT = "consent"
    SUMMARY = "summary"


def locate_breakout(
    session: Session,
    actor: Actor,
    *,
    purpose: Purpose,
    breakout_id: int | None = None,
    channel_id: str | None = None,
) -> Breakout:
    """The breakout meant, by the order in this module's docstring; NotFound says how to name one."""
    workspace = actor.workspace
    if breakout_id is not None:
        breakout = session.get(Breakout, breakout_id)
        if breakout is None or breakout.workspace != workspace:
            hint = " /summary with no number gives the latest." if purpose is Purpose.SUMMARY else ""
            raise NotFound(f"There is no breakout {breakout_id} here.{hint}")
        return breakout
    if channel_id:
        breakout = repo.breakout_for_channel(session, workspace=workspace, channel_id=channel_id)
        if breakout is not None:
            return breakout
    running: list[Breakout] = []
    if purpose is Purpose.STEER:
        running = repo.running_breakouts(session, workspace=workspace)
        if len(running) == 1:
            return running[0]
        if running:
            ids = ", ".join(f"{b.id} ({b.title})" for b in running)
            raise NotFound(
                f"Several breakouts are running ({ids}); type the command in the channel where one was started."
            )
    if channel_id:
        breakout = repo.breakout_for_channel(session, workspace=workspace, channel_id=channel_id, running_only=False)
        if breakout is not None:
            return breakout
    if purpose is Purpose.STEER:
        raise NotFound("No breakout is running. Start one with /breakout start PLAN.")
    if purpose is Purpose.CONSENT:
        person = repo.find_person(session, workspace=workspace, user_id=actor.person.user_id)
        if person is not None:
            mine = session.scalar(
                select(Breakout)
                .join(Membership, Membership.breakout_id == Breakout.id)
                .where(Membership.person_id == person.id)
                .order_by(Breakout.id.desc())
                .limit(1)
            )
            if mine is not None:
                return mine
        raise NotFound("I can't tell which breakout you mean: type this in your group's channel.")
    newest = session.scalars(
        select(Breakout).where(Breakout.workspace == workspace).order_by(Breakout.id.desc()).limit(1)
    ).first()
    if newest is None:
        raise NotFound("There are no breakouts yet, so there is nothing to summarise.")
    return newest


def locate_breakout_id(
    core: Core,
    actor: Actor,
    *,
    purpose: Purpose,
    breakout_id: int | None = None,
    channel_id: str | None = None,
) -> int:
    """The same, in its own transaction, for a use case that goes on by number."""
    with core.db.transaction() as s:
        return locate_breakout(s, actor, purpose=purpose, breakout_id=breakout_id, channel_id=channel_id).id
