"""Queries the use cases share. Each takes the session of the caller's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.plan import Plan
from bot.store import personal
from bot.store.models import Breakout, ConsentRecord, Group, Membership, Person, Quote


def upsert_person(
    session: Session,
    *,
    workspace: str,
    user_id: str,
    full_name: str,
    first_name: str | None = None,
    display_name: str | None = None,
    is_bot: bool = False,
) -> Person:
    person = session.scalar(select(Person).where(Person.workspace == workspace, Person.user_id == user_id))
    if person is None:
        person = Person(
            workspace=workspace,
            user_id=user_id,
            full_name=full_name or user_id,
            first_name=first_name,
            display_name=display_name,
            is_bot=is_bot,
        )
        session.add(person)
        session.flush()
    else:
        # Names change on the platform; keep the latest, but never the person's own chosen name.
        if full_name:
            person.full_name = full_name
        person.first_name = first_name or person.first_name
        person.display_name = display_name or person.display_name
    return person


def find_person(session: Session, *, workspace: str, user_id: str) -> Person | None:
    return session.scalar(select(Person).where(Person.workspace == workspace, Person.user_id == user_id))


def plan_of(breakout: Breakout) -> Plan:
    """The plan a breakout runs: its snapshot taken at start, never the file as it is now."""
    return Plan.from_dict(breakout.plan)


def breakout_with_plan(session: Session, breakout_id: int) -> tuple[Breakout, Plan] | None:
    """A breakout and its plan, read together: the one way the use cases load a breakout to act on."""
    breakout = session.get(Breakout, breakout_id)
    return None if breakout is None else (breakout, plan_of(breakout))


def running_breakouts(session: Session, *, workspace: str) -> list[Breakout]:
    return list(
        session.scalars(
            select(Breakout).where(Breakout.workspace == workspace, Breakout.state != "stopped").order_by(Breakout.id)
        )
    )


def breakout_for_channel(
    session: Session, *, workspace: str, channel_id: str, running_only: bool = True
) -> Breakout | None:
    """The breakout a channel belongs to: as its home, or as one of its group channels.

    Group channels are reused across sessions, so the newest breakout using the channel wins.
    """
    query = (
        select(Breakout)
        .outerjoin(Group, Group.breakout_id == Breakout.id)
        .where(Breakout.workspace == workspace)
        .where((Breakout.home_channel == channel_id) | (Group.channel_id == channel_id))
    )
    if running_only:
        query = query.where(Breakout.state != "stopped")
    return session.scalars(query.order_by(Breakout.id.desc()).limit(1)).first()


def group_for_channel(session: Session, *, breakout_id: int, channel_id: str) -> Group | None:
    return session.scalar(select(Group).where(Group.breakout_id == breakout_id, Group.channel_id == channel_id))


def latest_consents(session: Session, *, breakout_id: int) -> dict[int, ConsentRecord]:
    """Each person's choice in force: their most recent record."""
    out: dict[int, ConsentRecord] = {}
    records = session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.breakout_id == breakout_id)
        .order_by(ConsentRecord.given_at, ConsentRecord.id)
    )
    for record in records:
        out[record.person_id] = record
    return out


def quote_counts(session: Session, *, breakout_id: int) -> dict[int, int]:
    rows = session.execute(
        select(Quote.group_id, func.count()).where(Quote.breakout_id == breakout_id).group_by(Quote.group_id)
    )
    return dict(rows.tuples().all())


def members(session: Session, *, breakout_id: int) -> list[tuple[Membership, Person]]:
    rows = session.execute(
        select(Membership, Person)
        .join(Person, Person.id == Membership.person_id)
        .where(Membership.breakout_id == breakout_id)
        .order_by(Membership.id)
    )
    return [(m, p) for m, p in rows]


def pairs_met_before(
    session: Session, *, workspace: str, series: str | None, people: Iterable[int], before_breakout: int | None = None
) -> set[tuple[int, int]]:
    """Who has already shared a group with whom in this series' earlier breakouts."""
    wanted = set(people)
    if not wanted:
        return set()
    query = (
        select(Membership.group_id, Membership.person_id)
        .join(Breakout, Breakout.id == Membership.breakout_id)
        .where(Breakout.workspace == workspace, Membership.group_id.is_not(None), Membership.person_id.in_(wanted))
    )
    query = query.where(Breakout.series == series) if series else query.where(Breakout.series.is_(None))
    if before_breakout is not None:
        query = query.where(Breakout.id != before_breakout)
    by_group: dict[int, list[int]] = {}
    for group_id, person_id in session.execute(query):
        if group_id is not None:
            by_group.setdefault(group_id, []).append(person_id)
    pairs = set()
    for group in by_group.values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                pairs.add((a, b))
    return pairs


def forget_person(session: Session, person: Person, *, forgotten_at: dt.datetime | None = None) -> dict[str, int]:
    """Delete every row that holds this person and take them out of every other row (``bot.store.personal``
    walks every column that can hold a person). Returns the rows deleted per table."""
    return personal.forget(
        session,
        workspace=person.workspace,
        user_id=person.user_id,
        forgotten_at=forgotten_at or dt.datetime.now(dt.UTC),
    )


def forgotten_since(session: Session, *, workspace: str, user_id: str) -> dt.datetime | None:
    """When this person asked to be forgotten, if they did: their messages from before are never kept."""
    return personal.forgotten_since(session, workspace=workspace, user_id=user_id)
