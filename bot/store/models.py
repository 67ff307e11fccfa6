"""The database schema (SQLAlchemy 2.x). Alembic migrations in ``migrations/`` create it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores aware datetimes as UTC; SQLite would otherwise hand back naive ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    pass


class Person(Base):
    """Someone on a chat platform. ``workspace`` is e.g. 'slack:T123' or 'discord:456'."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("workspace", "user_id", name="uq_people_workspace_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    full_name: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str | None] = mapped_column(String(100))
    display_name: Mapped[str | None] = mapped_column(String(100))
    preferred_name: Mapped[str | None] = mapped_column(String(200))  # the name the person asked us to use
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)


class Breakout(Base):
    __tablename__ = "breakouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace: Mapped[str] = mapped_column(String(64), index=True)
    home_channel: Mapped[str] = mapped_column(String(64))
    # Set while the breakout runs and cleared when it stops: one running breakout per place,
    # enforced by the database rather than by a check that two requests could both pass.
    active_key: Mapped[str | None] = mapped_column(String(140), unique=True)
    plan_slug: Mapped[str] = mapped_column(String(64))
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)  # snapshot: editing the file later changes nothing
    title: Mapped[str] = mapped_column(String(200))
    series: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default="running")  # running | paused | stopped
    question_index: Mapped[int] = mapped_column(Integer, default=0)
    question_opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    question_ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    paused_remaining: Mapped[float | None] = mapped_column(Float)  # seconds left when paused
    round: Mapped[int] = mapped_column(Integer, default=0)  # extensions of the open question
    minutes_override: Mapped[float | None] = mapped_column(Float)
    time_scale: Mapped[float] = mapped_column(Float, default=1.0)
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    stopped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attendance: Mapped[int | None] = mapped_column(Integer)  # the call's own head count, if given
    # The call's voice channel (Discord): people are moved from it into group rooms and back at the
    # end, also by a bot that restarted in between.
    call_channel_id: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    groups: Mapped[list[Group]] = relationship(
        back_populates="breakout", order_by="Group.number", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it once


class Group(Base):
    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("breakout_id", "number", name="uq_groups_breakout_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    breakout_id: Mapped[int] = mapped_column(ForeignKey("breakouts.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    channel_id: Mapped[str | None] = mapped_column(String(64), index=True)
    channel_error: Mapped[str | None] = mapped_column(Text)

    breakout: Mapped[Breakout] = relationship(back_populates="groups")


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("breakout_id", "person_id", name="uq_memberships_breakout_person"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    breakout_id: Mapped[int] = mapped_column(ForeignKey("breakouts.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16), default="participant")  # participant | facilitator


class ConsentRecord(Base):
    """Append-only: every choice a person made, with when and the words they were shown."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_breakout_person", "breakout_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    breakout_id: Mapped[int] = mapped_column(ForeignKey("breakouts.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(16))
    wording: Mapped[str] = mapped_column(Text)
    via: Mapped[str] = mapped_column(String(32))  # button | command | prompt | organiser
    given_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Quote(Base):
    __tablename__ = "quotes"
    __table_args__ = (
        UniqueConstraint("message_key", name="uq_quotes_message_key"),
        Index("ix_quotes_breakout", "breakout_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    breakout_id: Mapped[int] = mapped_column(ForeignKey("breakouts.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    question_index: Mapped[int | None] = mapped_column(Integer)
    message_key: Mapped[str] = mapped_column(String(200))  # workspace:channel:message id, the natural key
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    highlighted: Mapped[bool] = mapped_column(Boolean, default=False)
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)  # taken out of the write-up by its author


class Forgotten(Base):
    """Someone who asked to be forgotten: only their platform id and when, so that their messages
    from before then are never captured again (a redelivery, a restart reading history back)."""

    __tablename__ = "forgotten_people"
    __table_args__ = (UniqueConstraint("workspace", "user_id", name="uq_forgotten_workspace_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    forgotten_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class DeletedMessage(Base):
    """A message deleted in a group channel: kept so that the message, delivered again (a retry, a
    replay after a restart, or late because the deletion overtook it), is never stored. This table is
    the one record of deletions; adapters keep none of their own. Only the message's key, never its words."""

    __tablename__ = "deleted_messages"
    __table_args__ = (UniqueConstraint("message_key", name="uq_deleted_messages_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_key: Mapped[str] = mapped_column(String(200))
    deleted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class HandledRequest(Base):
    """A platform request already handled (a Slack slash command's or button's ``trigger_id``): kept
    for a little longer than Slack's 5-minute signature window, so that a signed request replayed
    within it does nothing. Only the id and when it came; pruned after about 10 minutes."""

    __tablename__ = "handled_requests"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    handled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class Post(Base):
    """A message the bot posted on the timeline; the unique key makes every step fire once."""

    __tablename__ = "posts"
    __table_args__ = (UniqueConstraint("breakout_id", "group_number", "step", name="uq_posts_step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    breakout_id: Mapped[int] = mapped_column(ForeignKey("breakouts.id", ondelete="CASCADE"))
    group_number: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(64))
    question_index: Mapped[int | None] = mapped_column(Integer)
    channel_id: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # claimed | sending (handed to the platform, not confirmed: it may be there) | sent | failed
    state: Mapped[str] = mapped_column(String(16), default="claimed")
    error: Mapped[str | None] = mapped_column(Text)
    posted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # When the platform was first asked to post it: recovery looks for it in the channel from here on.
    sending_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


# --- The call's own chat, imported from a Zoom export (issue 5) -------------------------------------------


class ChatImport(Base):
    """One imported chat file per breakout; importing again replaces it whole."""

    __tablename__ = "chat_imports"
    __table_args__ = (UniqueConstraint("breakout_id", name="uq_chat_imports_breakout"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    breakout_id: Mapped[int] = mapped_column(ForeignKey("breakouts.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(16))
    message_count: Mapped[int] = mapped_column(Integer)
    direct_dropped: Mapped[int] = mapped_column(Integer, default=0)  # counted, never stored
    reactions: Mapped[int] = mapped_column(Integer, default=0)
    imported_by: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ChatEntry(Base):
    """A public message of the call's chat. Its author is a Person (a member of the breakout when the names
    match, else a chat-only person), so consent and 'forget me' reach it like any quote."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        UniqueConstraint("import_id", "position", name="uq_chat_messages_position"),
        Index("ix_chat_messages_breakout", "breakout_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("chat_imports.id", ondelete="CASCADE"))
    breakout_id: Mapped[int] = mapped_column(ForeignKey("breakouts.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # order in the file, from 1
    line: Mapped[int] = mapped_column(Integer)  # line of the file, for people fixing a file
    sent_at: Mapped[dt.time] = mapped_column(Time)
    author: Mapped[str] = mapped_column(String(200))  # the display name as Zoom wrote it
    text: Mapped[str] = mapped_column(Text)
    reply_to: Mapped[str | None] = mapped_column(Text)
    reactions: Mapped[int] = mapped_column(Integer, default=0)
    highlighted: Mapped[bool] = mapped_column(Boolean, default=False)
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
