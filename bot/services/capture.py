"""Capture: replies in a group channel become quotes tied to their group and question.

Adapters hand over neutral events (``bot.services.events.IncomingMessage``): which platform
payloads are a person's words is the adapter's to decide.

Text arrives in the neutral markup (Slack's message format: ``&amp; &lt; &gt;`` escaped, mentions as
``<@U1>``, channels as ``<#C1|name>``, ``<!here>``, links as ``<url|label>``); the Discord adapter
converts to it. The quote is committed before the call returns, so an adapter that acknowledges
the platform only afterwards never loses one; the same platform message delivered twice is stored once.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

from bot.domain.plan import Plan
from bot.services.context import Core
from bot.services.events import IncomingMessage, Kind
from bot.services.port import ConsentPrompt, PersonInfo
from bot.store import repository as repo
from bot.store.models import Breakout, ConsentRecord, DeletedMessage, Group, Membership, Person, Post, Quote


@dataclass(frozen=True)
class Captured:
    quote_id: int | None  # None: not a quote (not a group channel, a bot, a join, a command...)
    breakout_id: int | None = None
    duplicate: bool = False
    ask_consent: bool = False  # first words from someone who has not chosen how to be named
    reason: str = ""
    changed: bool = False  # an edit or a deletion that found its quote


log = logging.getLogger(__name__)


NOT_IN_GROUP = "not a member of the group whose channel this is"


def message_key(workspace: str, channel_id: str, message_id: str) -> str:
    return f"{workspace}:{channel_id}:{message_id}"


def _insert_ignoring_duplicates(s: Session, key: str, at: dt.datetime) -> Executable:
    """``INSERT ... ON CONFLICT (message_key) DO NOTHING``, in the database's own dialect."""
    values = {"message_key": key, "deleted_at": at}
    if s.get_bind().dialect.name == "postgresql":
        return postgresql.insert(DeletedMessage).values(**values).on_conflict_do_nothing(index_elements=["message_key"])
    return sqlite.insert(DeletedMessage).values(**values).on_conflict_do_nothing(index_elements=["message_key"])


class Capture:
    def __init__(self, core: Core):
        self.core = core
        self._told: set[tuple[str, str, str]] = set()  # (workspace, channel, person) told it isn't their group
        self._told_lock = threading.Lock()

    def receive(self, event: IncomingMessage) -> Captured:
        """One message event from a platform. An edit that finds no quote reports ``changed=False``
        (the adapter may take the edited message as new, when the edit overtook its message)."""
        where = {"workspace": event.workspace, "channel_id": event.channel_id, "message_id": event.message_id}
        if event.kind is Kind.DELETED:
            return Captured(None, reason="deleted", changed=self.message_deleted(**where))
        if event.kind is Kind.EDITED:
            found = self.message_edited(**where, text=event.text, edited_at=event.edited_at or event.at)
            return Captured(None, reason="edited", changed=found)
        assert event.author is not None, "a new message has an author"
        return self.message_posted(
            **where,
            author=event.author,
            text=event.text,
            sent_at=event.at or self.core.now(),
            thread_id=event.thread_id if event.kind is Kind.REPLY else None,
            edited_at=event.edited_at,
        )

    def message_posted(
        self,
        *,
        workspace: str,
        channel_id: str,
        message_id: str,
        author: PersonInfo,
        text: str,
        sent_at: dt.datetime,
        thread_id: str | None = None,
        edited_at: dt.datetime | None = None,
    ) -> Captured:
        """Store a person's message as a quote (once, however often it is delivered); the first words
        of someone who has not chosen how to be named are followed by the consent prompt, privately.
        ``edited_at``: the message was already edited then (read back, or an edit that overtook it).
        Someone outside the group who writes in its channel is told so, privately, and not quoted."""
        captured = self._store(
            workspace=workspace,
            channel_id=channel_id,
            message_id=message_id,
            author=author,
            text=text,
            sent_at=sent_at,
            thread_id=thread_id,
            edited_at=edited_at,
        )
        if captured.reason == NOT_IN_GROUP and captured.breakout_id is not None:
            self._tell_not_their_group(workspace, channel_id, author.user_id, captured.breakout_id)
            return captured
        if captured.quote_id is not None and not captured.duplicate:
            key = message_key(workspace, channel_id, message_id)
            with self.core.db.transaction() as s:
                # A deletion handled while this message was being stored left its mark: honour it.
                if s.scalar(select(DeletedMessage.id).where(DeletedMessage.message_key == key)) is not None:
                    quote = s.get(Quote, captured.quote_id)
                    if quote is not None:
                        s.delete(quote)
                    return Captured(None, captured.breakout_id, reason="deleted while it was being stored")
        if captured.ask_consent and captured.breakout_id is not None:
            self._ask_consent(author.user_id, channel_id, captured.breakout_id)
        return captured

    def _tell_not_their_group(self, workspace: str, channel_id: str, user_id: str, breakout_id: int) -> None:
        """Once per person and channel (per process): a kind word, not one for every message, nor
        again for each of their messages read back after an outage."""
        key = (workspace, channel_id, user_id)
        with self._told_lock:
            if key in self._told:
                return
            self._told.add(key)
        with self.core.db.transaction() as s:
            breakout = s.get(Breakout, breakout_id)
            group = repo.group_for_channel(s, breakout_id=breakout_id, channel_id=channel_id)
            person = repo.find_person(s, workspace=workspace, user_id=user_id)
            own = None
            if person is not None:
                own = s.scalar(
                    select(Group.number)
                    .join(Membership, Membership.group_id == Group.id)
                    .where(Membership.breakout_id == breakout_id, Membership.person_id == person.id)
                )
            if breakout is None or group is None:
                return
            text = self.core.messages.render(
                "not_your_group",
                Plan.from_dict(breakout.plan),
                group=group.number,
                title=breakout.title,
                your_group=own,
            )
        try:
            self.core.port.tell(user_id=user_id, text=text, channel_id=channel_id, breakout_id=breakout_id)
        except Exception:
            log.warning("could not tell %s that %s is not their group's channel", user_id, channel_id, exc_info=True)

    def _ask_consent(self, user_id: str, channel_id: str, breakout_id: int) -> None:
        """The quote is stored already; a prompt the platform refuses is logged, and the person can
        still choose at any time with /breakout consent."""
        prompt = ConsentPrompt(
            text=self.core.messages.render("consent_prompt", None),
            options=self.core.messages.consent_options(),
            breakout_id=breakout_id,
        )
        try:
            self.core.port.ask_consent(user_id=user_id, channel_id=channel_id, prompt=prompt)
        except Exception:
            log.warning("could not ask %s how to be named", user_id, exc_info=True)

    def _store(
        self,
        *,
        workspace: str,
        channel_id: str,
        message_id: str,
        author: PersonInfo,
        text: str,
        sent_at: dt.datetime,
        thread_id: str | None,
        edited_at: dt.datetime | None = None,
    ) -> Captured:
        if author.is_bot:
            return Captured(None, reason="not a person's message")
        if not text.strip() or text.lstrip().startswith("/"):
            return Captured(None, reason="empty or a command")
        key = message_key(workspace, channel_id, message_id)
        try:
            with self.core.db.transaction() as s:
                existing = s.scalar(select(Quote).where(Quote.message_key == key))
                if existing is not None:
                    return Captured(existing.id, existing.breakout_id, duplicate=True)
                if s.scalar(select(DeletedMessage.id).where(DeletedMessage.message_key == key)) is not None:
                    return Captured(None, reason="deleted before it arrived")
                forgotten = repo.forgotten_since(s, workspace=workspace, user_id=author.user_id)
                if forgotten is not None and sent_at <= forgotten:
                    return Captured(None, reason="its author asked to be forgotten")
                breakout = repo.breakout_for_channel(s, workspace=workspace, channel_id=channel_id)
                if breakout is None or breakout.state == "stopped":
                    return Captured(None, reason="not a running breakout's channel")
                group = repo.group_for_channel(s, breakout_id=breakout.id, channel_id=channel_id)
                if group is None:
                    return Captured(None, breakout.id, reason="the breakout's home channel, not a group")
                membership = s.execute(
                    select(Membership.group_id, Membership.role)
                    .join(Person, Person.id == Membership.person_id)
                    .where(
                        Membership.breakout_id == breakout.id,
                        Person.workspace == workspace,
                        Person.user_id == author.user_id,
                    )
                ).first()
                # Forgetting someone erases their membership too; speaking again in a group's channel
                # later is a new choice to take part, there.
                rejoined = membership is None and forgotten is not None and forgotten >= breakout.started_at
                if not rejoined and (membership is None or membership.group_id != group.id):
                    if membership is not None and membership.role == "facilitator":
                        # Facilitators are in every group's channel by design: welcome, not quoted.
                        return Captured(None, breakout.id, reason="a facilitator, not one of the group")
                    return Captured(None, breakout.id, reason=NOT_IN_GROUP)
                person = repo.upsert_person(
                    s,
                    workspace=workspace,
                    user_id=author.user_id,
                    full_name=author.full_name,
                    first_name=author.first_name,
                    display_name=author.display_name,
                )
                if rejoined:
                    s.add(Membership(breakout_id=breakout.id, person_id=person.id, group_id=group.id))
                question = self._question_for(s, breakout, group.number, thread_id, sent_at, workspace, channel_id)
                quote = Quote(
                    breakout_id=breakout.id,
                    group_id=group.id,
                    person_id=person.id,
                    question_index=question,
                    message_key=key,
                    text=text,
                    sent_at=sent_at,
                    edited_at=edited_at,
                )
                s.add(quote)
                s.flush()
                chose = (
                    s.scalar(
                        select(func.count()).where(
                            ConsentRecord.breakout_id == breakout.id, ConsentRecord.person_id == person.id
                        )
                    )
                    or 0
                )
                earlier = (
                    s.scalar(select(func.count()).where(Quote.breakout_id == breakout.id, Quote.person_id == person.id))
                    or 0
                )
                return Captured(quote.id, breakout.id, ask_consent=(chose == 0 and earlier == 1))
        except IntegrityError:  # the same message delivered twice at the same moment
            with self.core.db.transaction() as s:
                existing = s.scalar(select(Quote).where(Quote.message_key == key))
                return Captured(
                    existing.id if existing else None, existing.breakout_id if existing else None, duplicate=True
                )

    def _question_for(
        self,
        s,
        breakout: Breakout,
        group_number: int,
        thread_id: str | None,
        sent_at: dt.datetime,
        workspace: str,
        channel_id: str,
    ) -> int | None:
        """A thread reply belongs to the question it answers; a top-level message to the one open then."""
        if thread_id:
            post = s.scalar(select(Post).where(Post.breakout_id == breakout.id, Post.message_id == thread_id))
            if post is not None and post.question_index is not None:
                return post.question_index
            parent = s.scalar(select(Quote).where(Quote.message_key == message_key(workspace, channel_id, thread_id)))
            if parent is not None:
                return parent.question_index
        opened = repo.question_open_times(s, breakout_id=breakout.id, group_number=group_number)
        current = None
        for index, post in opened:
            if post.posted_at <= sent_at + dt.timedelta(seconds=1):
                current = index
        if current is None and opened:
            return opened[0][0]
        return current if current is not None else breakout.question_index

    def message_edited(
        self, *, workspace: str, channel_id: str, message_id: str, text: str, edited_at: dt.datetime | None = None
    ) -> bool:
        """Apply an edit if it is newer than what is stored (platforms retry and do not promise order:
        edit 2 retried after edit 3 must leave 3). ``edited_at`` is the platform's time of the edit; an
        edit without one is applied as it comes. Returns whether the message's quote was found."""
        with self.core.db.transaction() as s:
            quote = s.scalar(
                select(Quote)
                .where(Quote.message_key == message_key(workspace, channel_id, message_id))
                .with_for_update()  # two edits at once: one waits, then sees the other's time
            )
            if quote is None:
                return False
            if edited_at is not None and quote.edited_at is not None and edited_at <= quote.edited_at:
                return True  # an older edit (or the same one again): the newer text stays
            if not text.strip():
                s.delete(quote)
                return True
            quote.text = text
            if edited_at is not None:
                quote.edited_at = edited_at
            return True

    def message_deleted(self, *, workspace: str, channel_id: str, message_id: str) -> bool:
        """Remove the quote, and remember the deletion by key (durably, in a running breakout's group
        channel): the same message delivered again later (a retry, a replay after a restart, or a
        deletion that overtook its message) is never stored."""
        key = message_key(workspace, channel_id, message_id)
        with self.core.db.transaction() as s:
            # A statement, not the ORM's delete: the same deletion handled at once elsewhere finds no row.
            removed = bool(getattr(s.execute(delete(Quote).where(Quote.message_key == key)), "rowcount", 0))
            breakout = repo.breakout_for_channel(s, workspace=workspace, channel_id=channel_id)
            remember = (
                breakout is not None
                and repo.group_for_channel(s, breakout_id=breakout.id, channel_id=channel_id) is not None
            )
            if remember:
                # The same deletion delivered twice at once (a retry, two processes) is kept once,
                # without a unique-constraint error failing the second.
                s.execute(_insert_ignoring_duplicates(s, key, self.core.now()))
        if remember and not removed:
            # The message may have been stored meanwhile, past the check above: look once more.
            with self.core.db.transaction() as s:
                late = s.scalar(select(Quote).where(Quote.message_key == key))
                if late is not None:
                    s.delete(late)
                    removed = True
        return removed

    def channels_to_watch(self, *, workspace: str) -> list[tuple[str, dt.datetime]]:
        """The group channels of the running breakouts here, each with when its breakout started:
        an adapter reads back what was said there while it was down (capture is idempotent)."""
        with self.core.db.transaction() as s:
            return [
                (g.channel_id, b.started_at)
                for b in repo.running_breakouts(s, workspace=workspace)
                for g in b.groups
                if g.channel_id
            ]

    def stored_message_ids(self, *, workspace: str, channel_id: str, since: dt.datetime | None = None) -> set[str]:
        """The platform ids of the messages kept as quotes from one channel, sent at or after ``since``
        (for reading history back: what is stored but no longer there was deleted meanwhile)."""
        prefix = message_key(workspace, channel_id, "")
        query = select(Quote.message_key).where(Quote.message_key.startswith(prefix, autoescape=True))
        if since is not None:
            query = query.where(Quote.sent_at >= since)
        with self.core.db.transaction() as s:
            return {key[len(prefix) :] for key in s.scalars(query)}
