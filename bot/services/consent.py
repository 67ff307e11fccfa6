"""Consent: how each person may be named, changeable at any time; 'forget me' and 'my data'."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.domain.consent import MAX_CHOSEN_NAME, Level
from bot.services.commands import readable
from bot.services.context import Actor, Core
from bot.services.errors import BadArguments
from bot.services.locator import Purpose, locate_breakout
from bot.services.port import ChatError
from bot.store import personal
from bot.store import repository as repo
from bot.store.models import ConsentRecord, Person


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
    def __init__(self, core: Core):
        self.core = core

    def choose(
        self, actor: Actor, *, level: Level, via: str, channel_id: str | None = None, breakout_id: int | None = None
    ) -> ConsentResult:
        """Record a choice; it applies from the very next summary."""
        with self.core.db.transaction() as s:
            breakout = locate_breakout(
                s, actor, purpose=Purpose.CONSENT, breakout_id=breakout_id, channel_id=channel_id
            )
            person = _person(s, actor)
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
            breakout_id, title, chatham = breakout.id, breakout.title, repo.plan_of(breakout).naming.chatham_house
        confirmation = self.core.messages.render(
            "consent_confirmed", None, choice=self.core.messages.consent_label(level), level=level.value, title=title
        )
        if chatham and level.names_the_person:
            confirmation += " This session runs under the Chatham House Rule, so nobody is named in the write-up."
        return ConsentResult(breakout_id, level, confirmation)

    def set_name(self, actor: Actor, *, name: str) -> str:
        name = " ".join(readable(name).split())
        if not name or len(name) > MAX_CHOSEN_NAME:
            raise BadArguments(
                f"Give the name to use, e.g. /breakout name Sam Patel (at most {MAX_CHOSEN_NAME} characters)."
            )
        with self.core.db.transaction() as s:
            person = _person(s, actor)
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


def _person(s: Session, actor: Actor) -> Person:
    """The person asking, stored (or refreshed) under the names the platform gave."""
    p = actor.person
    return repo.upsert_person(
        s,
        workspace=actor.workspace,
        user_id=p.user_id,
        full_name=p.full_name,
        first_name=p.first_name,
        display_name=p.display_name,
    )
