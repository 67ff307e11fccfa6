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

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

from bot.domain.plan import Plan
from bot.services.context import Core
from bot.services.events import IncomingMessage, Kind
from bot.services.port import ConsentPrompt, PersonInfo
from bot.store import capture_queries
from bot.store import repository as repo
from bot.store.models import Breakout, DeletedMessage, Group, Membership, Quote


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
        for attempt in (1, 2):
            try:
                return self._store_once(key, workspace, channel_id, author, text, sent_at, thread_id, edited_at)
            except IntegrityError:
                # The same message delivered twice at the same moment (the unique key), or a person,
                # group or breakout removed by another process since the read: read again, once.
                with self.core.db.transaction() as s:
                    existing = capture_queries.existing_quote(s, message_key=key)
                if existing is not None or attempt == 2:
                    return Captured(
                        existing[0] if existing else None, existing[1] if existing else None, duplicate=True
                    )
        raise AssertionError("unreachable")

    def _store_once(
        self,
        key: str,
        workspace: str,
        channel_id: str,
        author: PersonInfo,
        text: str,
        sent_at: dt.datetime,
        thread_id: str | None,
        edited_at: dt.datetime | None,
    ) -> Captured:
        """One read of every fact, one INSERT, the commit; a person seen for the first time (or renamed,
        or rejoining) costs one statement more. The writer lock is taken only by the INSERT."""
        with self.core.db.transaction() as s:
            facts = capture_queries.read_message_facts(
                s,
                workspace=workspace,
                channel_id=channel_id,
                user_id=author.user_id,
                message_key=key,
                sent_at=sent_at,
                thread_id=thread_id,
                parent_key=message_key(workspace, channel_id, thread_id) if thread_id else None,
            )
            if facts.existing_quote_id is not None:
                return Captured(facts.existing_quote_id, facts.existing_breakout_id, duplicate=True)
            if facts.deleted:
                return Captured(None, reason="deleted before it arrived")
            forgotten = facts.forgotten_at
            if forgotten is not None and sent_at <= forgotten:
                return Captured(None, reason="its author asked to be forgotten")
            breakout_id = facts.breakout_id
            if breakout_id is None or facts.breakout_started_at is None or facts.breakout_state == "prepared":
                return Captured(None, reason="not a running breakout's channel")
            group_id = facts.group_id
            if group_id is None:
                return Captured(None, breakout_id, reason="the breakout's home channel, not a group")
            # Forgetting someone erases their membership too; speaking again in a group's channel
            # later is a new choice to take part, there.
            member = facts.member_role is not None
            rejoined = not member and forgotten is not None and forgotten >= facts.breakout_started_at
            if not rejoined and (not member or facts.member_group_id != group_id):
                if facts.member_role == "facilitator":
                    # Facilitators are in every group's channel by design: welcome, not quoted.
                    return Captured(None, breakout_id, reason="a facilitator, not one of the group")
                return Captured(None, breakout_id, reason=NOT_IN_GROUP)
            person_id = self._person_id(s, facts, workspace, author)
            if rejoined:
                capture_queries.rejoin(s, breakout_id=breakout_id, person_id=person_id, group_id=group_id)
            quote_id = capture_queries.insert_quote(
                s,
                breakout_id=breakout_id,
                group_id=group_id,
                person_id=person_id,
                question_index=facts.question(in_thread=bool(thread_id)),
                message_key=key,
                text=text,
                sent_at=sent_at,
                edited_at=edited_at,
            )
            if quote_id is None:  # a deletion committed after the read
                return Captured(None, breakout_id, reason="deleted while it was being stored")
            # A person's first words here, with no choice made yet, are followed by the consent prompt.
            return Captured(quote_id, breakout_id, ask_consent=not facts.chose and not facts.spoke_before)

    @staticmethod
    def _person_id(s: Session, facts: capture_queries.MessageFacts, workspace: str, author: PersonInfo) -> int:
        """The author's id, adding them if they are new; names change on the platform, so the latest
        are kept (never overwriting the name a person chose, which lives apart)."""
        if facts.person_id is None:
            return capture_queries.add_person(
                s,
                workspace=workspace,
                user_id=author.user_id,
                full_name=author.full_name,
                first_name=author.first_name,
                display_name=author.display_name,
            )
        names = (
            author.full_name or facts.full_name or author.user_id,
            author.first_name or facts.first_name,
            author.display_name or facts.display_name,
        )
        if names != (facts.full_name, facts.first_name, facts.display_name):
            capture_queries.rename_person(
                s, person_id=facts.person_id, full_name=names[0], first_name=names[1], display_name=names[2]
            )
        return facts.person_id

    def message_edited(
        self, *, workspace: str, channel_id: str, message_id: str, text: str, edited_at: dt.datetime | None = None
    ) -> bool:
        """Apply an edit if it is newer than what is stored (platforms retry and do not promise order:
        edit 2 retried after edit 3 must leave 3). ``edited_at`` is the platform's time of the edit; an
        edit without one is applied as it comes. Returns whether the message's quote was found."""
        key = message_key(workspace, channel_id, message_id)
        # One conditional statement, not a read then a write: two edits handled at once (SQLite has no
        # row locks) must not let the older one's write land last.
        newer = Quote.message_key == key
        if edited_at is not None:
            newer = and_(newer, or_(Quote.edited_at.is_(None), Quote.edited_at < edited_at))
        with self.core.db.transaction() as s:
            if not text.strip():
                changed = s.execute(delete(Quote).where(newer))
            else:
                values: dict[str, object] = {"text": text}
                if edited_at is not None:
                    values["edited_at"] = edited_at
                changed = s.execute(update(Quote).where(newer).values(**values))
            if getattr(changed, "rowcount", 0):
                return True
            # Nothing changed: an older edit (or the same one again) of a stored quote, or no quote.
            return s.scalar(select(Quote.id).where(Quote.message_key == key)) is not None

    def message_deleted(self, *, workspace: str, channel_id: str, message_id: str) -> bool:
        """Remove the quote, and remember the deletion by key (durably, in a running breakout's group
        channel): the same message delivered again later (a retry, a replay after a restart, or a
        deletion that overtook its message) is never stored."""
        key = message_key(workspace, channel_id, message_id)
        with self.core.db.transaction() as s:
            # A capture of this message in flight commits its quote first, or sees this mark.
            capture_queries.lock_message(s, message_key=key)
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
