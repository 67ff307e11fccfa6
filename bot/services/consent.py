"""Consent: how each person may be named, changeable at any time; 'forget me' and 'my data'."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from bot.domain.consent import LEVEL_WORDS, Level
from bot.services.commands import readable
from bot.services.context import Actor, Core
from bot.services.errors import BadArguments, NotFound
from bot.services.lifecycle import Lifecycle
from bot.services.port import ChatError
from bot.store import personal
from bot.store import repository as repo
from bot.store.models import Breakout, ConsentRecord, Membership


@dataclass(frozen=True)
class ConsentResult:
    breakout_id: int
    level: Level
    confirmation: str


@dataclass(frozen=True)
class PersonalData:
    """Everything stored about one person, as the file they are handed (JSON: GDPR Art. 15 and 20)."""

    rows: int  # rows that are theirs or name them
    content: bytes
    filename: str = "breakout-bot-my-data.json"
    title: str = "Everything breakout-bot holds about you"

    def describe(self) -> str:
        if not self.rows:
            return "Nothing is stored about you."
        return (
            f"Here is everything stored about you: {self.rows} record(s), as a JSON file ({self.filename}). "
            "/breakout forget-me deletes all of it."
        )


ABOUT_MY_DATA = (
    "Every record breakout-bot holds that is yours or names you (GDPR Art. 15 and 20). 'held' has the rows "
    "whole, by table; 'named_in_other_peoples_rows' counts other people's words that name or mention you "
    "(those words are theirs, so they are not copied here; /breakout forget-me takes you out of them)."
)


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

    def my_data(self, actor: Actor) -> PersonalData:
        """The mirror of 'forget me': what it would delete or scrub, handed over instead."""
        with self.core.db.transaction() as s:
            found = personal.export(s, workspace=actor.workspace, user_id=actor.person.user_id)
        rows = sum(len(r) for r in found["held"].values()) + sum(found["named_in_other_peoples_rows"].values())
        document = {"about": ABOUT_MY_DATA, "exported_at": self.core.now().isoformat(), **found}
        content = json.dumps(document, ensure_ascii=False, indent=2, default=str).encode("utf-8")
        return PersonalData(rows, content)

    def send_my_data(self, actor: Actor) -> str:
        """``/breakout my-data``: the file goes privately to the person who asked (a direct message)."""
        data = self.my_data(actor)
        if not data.rows:
            return data.describe()
        try:
            self.core.port.send_file(
                user_id=actor.person.user_id, filename=data.filename, content=data.content, title=data.title
            )
        except ChatError as exc:
            return f"I could not send you the file ({exc}). Please try /breakout my-data again in a moment."
        return data.describe() + " I sent it to you in our direct messages."

    def forget(self, actor: Actor) -> str:
        """Remove the person from every table: quotes, consent, memberships, the person, and their id and
        names from every other row (``bot.store.personal`` walks every column that can hold them)."""
        with self.core.db.transaction() as s:
            counts = personal.forget(
                s, workspace=actor.workspace, user_id=actor.person.user_id, forgotten_at=self.core.now()
            )
        scrubbed = counts.get(personal.SCRUBBED, 0)
        also = f" You are also taken out of {scrubbed} other record(s)." if scrubbed else ""
        if not counts.get("people"):
            return (
                f"Your id is taken out of {scrubbed} record(s); nothing else was stored about you."
                if scrubbed
                else "There was nothing stored about you."
            )
        return (
            f"Done: your {counts.get('quotes', 0)} quote(s), {counts.get('consents', 0)} naming choice(s) and "
            f"{counts.get('memberships', 0)} group membership(s) are deleted, and so is your name.{also}"
        )
