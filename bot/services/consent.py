"""Consent: how each person may be named, changeable at any time, and 'forget me'."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.domain.consent import LEVEL_WORDS, Level
from bot.services.commands import readable
from bot.services.context import Actor, Core
from bot.services.errors import BadArguments, NotFound
from bot.services.lifecycle import Lifecycle
from bot.store import repository as repo
from bot.store.models import Breakout, ConsentRecord, Membership


@dataclass(frozen=True)
class ConsentResult:
    breakout_id: int
    level: Level
    confirmation: str


class Consents:
    def __init__(self, core: Core, lifecycle: Lifecycle):
        self.core = core
        self.lifecycle = lifecycle

    def parse_level(self, text: str) -> Level:
        try:
            return Level.parse(text)
        except ValueError:
            raise BadArguments(
                f"'{text}' is not a naming choice. Use one of: {LEVEL_WORDS}. For example: /breakout consent first-name"
            ) from None

    def choose(
        self, actor: Actor, *, level: Level, via: str, channel_id: str | None = None, breakout_id: int | None = None
    ) -> ConsentResult:
        """Record a choice; it applies from the very next summary."""
        with self.core.db.transaction() as s:
            breakout = self._breakout_for(s, actor, channel_id, breakout_id)
            person = repo.upsert_person(
                s,
                workspace=actor.workspace,
                user_id=actor.person.user_id,
                full_name=actor.person.full_name,
                first_name=actor.person.first_name,
                display_name=actor.person.display_name,
            )
            wording = (
                f"{self.core.messages.render('consent_prompt', None)} "
                f"Chosen: {self.core.messages.consent_label(level)} ({level.value})"
            )
            s.add(
                ConsentRecord(
                    breakout_id=breakout.id,
                    person_id=person.id,
                    level=level.value,
                    wording=wording,
                    via=via,
                    given_at=self.core.now(),
                )
            )
            breakout_id, title, chatham = breakout.id, breakout.title, breakout.plan["naming"]["chatham_house"]
        confirmation = self.core.messages.render(
            "consent_confirmed", None, choice=self.core.messages.consent_label(level), level=level.value, title=title
        )
        if chatham and level.names_the_person:
            confirmation += " This session runs under the Chatham House Rule, so nobody is named in the write-up."
        return ConsentResult(breakout_id, level, confirmation)

    def _breakout_for(self, s, actor: Actor, channel_id: str | None, breakout_id: int | None) -> Breakout:
        if breakout_id is not None:
            breakout = s.get(Breakout, breakout_id)
            if breakout is None or breakout.workspace != actor.workspace:
                raise NotFound(f"There is no breakout {breakout_id} here.")
            return breakout
        if channel_id:
            breakout = repo.breakout_for_channel(
                s, workspace=actor.workspace, channel_id=channel_id, running_only=False
            )
            if breakout is not None:
                return breakout
        person = repo.find_person(s, workspace=actor.workspace, user_id=actor.person.user_id)
        if person is not None:
            latest = s.scalar(
                select(Breakout)
                .join(Membership, Membership.breakout_id == Breakout.id)
                .where(Membership.person_id == person.id)
                .order_by(Breakout.id.desc())
                .limit(1)
            )
            if latest is not None:
                return latest
        raise NotFound("I can't tell which breakout you mean: type this in your group's channel.")

    def current(self, *, workspace: str, user_id: str, breakout_id: int) -> Level | None:
        with self.core.db.transaction() as s:
            person = repo.find_person(s, workspace=workspace, user_id=user_id)
            if person is None:
                return None
            record = repo.latest_consents(s, breakout_id=breakout_id).get(person.id)
            return Level(record.level) if record else None

    def set_name(self, actor: Actor, *, name: str) -> str:
        name = " ".join(readable(name).split())
        if not name or len(name) > 100:
            raise BadArguments("Give the name to use, e.g. /breakout name Sam Patel (at most 100 characters).")
        with self.core.db.transaction() as s:
            person = repo.upsert_person(
                s,
                workspace=actor.workspace,
                user_id=actor.person.user_id,
                full_name=actor.person.full_name,
                first_name=actor.person.first_name,
                display_name=actor.person.display_name,
            )
            person.preferred_name = name
        return f"The write-up will use the name '{name}', as far as your naming choice allows."

    def forget(self, actor: Actor) -> str:
        """Remove the person from every table: quotes, consent, memberships, the person."""
        with self.core.db.transaction() as s:
            person = repo.find_person(s, workspace=actor.workspace, user_id=actor.person.user_id)
            if person is None:
                return "There was nothing stored about you."
            counts = repo.forget_person(s, person, forgotten_at=self.core.now())
        return (
            f"Done: your {counts['quotes']} quote(s), {counts['consents']} naming choice(s) and "
            f"{counts['memberships']} group membership(s) are deleted, and so is your name."
        )
