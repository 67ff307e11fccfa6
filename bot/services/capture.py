"""Capture: replies in a group channel become quotes tied to their group and question.

Text arrives in the neutral markup (Slack's message format: ``&amp; &lt; &gt;`` escaped, mentions as
``<@U1>``, channels as ``<#C1|name>``, ``<!here>``, links as ``<url|label>``); the Discord adapter
converts to it. The quote is committed before the call returns, so an adapter that acknowledges
the platform only afterwards never loses one; the same platform message delivered twice is stored once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.services.context import Core
from bot.services.port import PersonInfo
from bot.store import repository as repo
from bot.store.models import Breakout, ConsentRecord, DeletedMessage, Post, Quote

IGNORED_SUBTYPES = {
    "channel_join",
    "channel_leave",
    "bot_message",
    "channel_topic",
    "channel_purpose",
    "channel_name",
    "channel_archive",
    "channel_unarchive",
    "group_join",
    "group_leave",
    "pinned_item",
    "unpinned_item",
    "reminder_add",
    "tombstone",
    "ekm_access_denied",
}


@dataclass(frozen=True)
class Captured:
    quote_id: int | None  # None: not a quote (not a group channel, a bot, a join, a command...)
    breakout_id: int | None = None
    duplicate: bool = False
    ask_consent: bool = False  # first words from someone who has not chosen how to be named
    reason: str = ""


def message_key(workspace: str, channel_id: str, message_id: str) -> str:
    return f"{workspace}:{channel_id}:{message_id}"


class Capture:
    def __init__(self, core: Core):
        self.core = core

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
        subtype: str | None = None,
    ) -> Captured:
        if author.is_bot or subtype in IGNORED_SUBTYPES:
            return Captured(None, reason="not a person's message")
        if subtype and subtype not in ("thread_broadcast", "file_share", "me_message"):
            return Captured(None, reason=f"subtype {subtype}")
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
                person = repo.upsert_person(
                    s,
                    workspace=workspace,
                    user_id=author.user_id,
                    full_name=author.full_name,
                    first_name=author.first_name,
                    display_name=author.display_name,
                )
                question = self._question_for(s, breakout, group.number, thread_id, sent_at, workspace, channel_id)
                quote = Quote(
                    breakout_id=breakout.id,
                    group_id=group.id,
                    person_id=person.id,
                    question_index=question,
                    message_key=key,
                    text=text,
                    sent_at=sent_at,
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
        with self.core.db.transaction() as s:
            quote = s.scalar(select(Quote).where(Quote.message_key == message_key(workspace, channel_id, message_id)))
            if quote is None:
                return False
            if not text.strip():
                s.delete(quote)
                return True
            quote.text, quote.edited_at = text, edited_at or self.core.now()
            return True

    def message_deleted(self, *, workspace: str, channel_id: str, message_id: str) -> bool:
        """Remove the quote. A deletion that overtook its message (in a running breakout's group
        channel) is remembered by key, so the message arriving late is not stored."""
        key = message_key(workspace, channel_id, message_id)
        with self.core.db.transaction() as s:
            quote = s.scalar(select(Quote).where(Quote.message_key == key))
            if quote is not None:
                s.delete(quote)
                return True
            breakout = repo.breakout_for_channel(s, workspace=workspace, channel_id=channel_id)
            if (
                breakout is not None
                and repo.group_for_channel(s, breakout_id=breakout.id, channel_id=channel_id)
                and s.scalar(select(DeletedMessage.id).where(DeletedMessage.message_key == key)) is None
            ):
                s.add(DeletedMessage(message_key=key, deleted_at=self.core.now()))
            return False

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
