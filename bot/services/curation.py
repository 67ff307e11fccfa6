"""Curation: facilitators mark highlights; a participant takes one of their messages out, and puts it back.

Adapters call these from reactions (translated into a ``Meaning``: ⭐ highlights, 🚫 takes out, under
each platform's own emoji names), a message shortcut (Slack) or a message context-menu command
(Discord). The quote is found by the same natural key capture stored it under, so the platform's own
message id is all an adapter needs.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services.capture import message_key
from bot.services.context import Actor, Core
from bot.services.errors import NotAllowed, NotFound
from bot.services.events import Meaning
from bot.store.models import Person, Quote

NOT_A_QUOTE = "That message isn't one of the breakout's quotes, so there is nothing to change."


class Curation:
    def __init__(self, core: Core):
        self.core = core

    def highlight(self, actor: Actor, *, channel_id: str, message_id: str, on: bool = True) -> str:
        """Mark (or unmark) a quote as a highlight: facilitators and organisers only."""
        if not (actor.is_facilitator or actor.is_organiser):
            raise NotAllowed("Only facilitators and organisers can mark highlights.")
        with self.core.db.transaction() as s:
            quote = self._quote(s, actor, channel_id, message_id)
            quote.highlighted = on
        return "Marked as a highlight: it will be in '/summary highlights'." if on else "No longer a highlight."

    def take_out(self, actor: Actor, *, channel_id: str, message_id: str) -> str:
        """The author takes their own message out of the write-up, staying in the breakout."""
        with self.core.db.transaction() as s:
            quote = self._own_quote(s, actor, channel_id, message_id)
            quote.excluded = True
        return "Done: that message is left out of the write-up. You can put it back at any time."

    def put_back(self, actor: Actor, *, channel_id: str, message_id: str) -> str:
        with self.core.db.transaction() as s:
            quote = self._own_quote(s, actor, channel_id, message_id)
            quote.excluded = False
        return "Done: that message is back in the write-up, named as you chose."

    def reaction(self, actor: Actor, *, channel_id: str, message_id: str, meaning: Meaning, added: bool) -> str | None:
        """A reaction that means something to us; ``None`` when it means nothing (or isn't theirs to give).

        Reactions are public and frequent, so a reaction that does not apply is ignored rather than refused.
        """
        try:
            if meaning is Meaning.HIGHLIGHT and (actor.is_facilitator or actor.is_organiser):
                return self.highlight(actor, channel_id=channel_id, message_id=message_id, on=added)
            if meaning is Meaning.LEAVE_OUT:
                if added:
                    return self.take_out(actor, channel_id=channel_id, message_id=message_id)
                return self.put_back(actor, channel_id=channel_id, message_id=message_id)
        except (NotFound, NotAllowed):
            return None
        return None

    def _quote(self, s: Session, actor: Actor, channel_id: str, message_id: str) -> Quote:
        quote = s.scalar(select(Quote).where(Quote.message_key == message_key(actor.workspace, channel_id, message_id)))
        if quote is None:
            raise NotFound(NOT_A_QUOTE)
        return quote

    def _own_quote(self, s: Session, actor: Actor, channel_id: str, message_id: str) -> Quote:
        quote = self._quote(s, actor, channel_id, message_id)
        author = s.get(Person, quote.person_id)
        if author is None or author.workspace != actor.workspace or author.user_id != actor.person.user_id:
            raise NotAllowed("Only the person who wrote a message can take it out of the write-up or put it back.")
        return quote
