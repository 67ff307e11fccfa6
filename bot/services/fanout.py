"""Posting to every group of a breakout, each post claimed first under its idempotency key.

The key is (breakout, group, step). The claim is committed as "sending" before the platform is called
and marked sent after, so a step that is fired again, or recovered after a crash, posts only what is
still missing; a post whose sending was never confirmed is looked for in its channel first (the key
travels with the message: Slack metadata, Discord nonce). On PostgreSQL an advisory lock per key keeps
the processes of a fleet from posting one key at the same time. Groups are served in parallel
(``Core.fanout_concurrency``): one slow or failing channel neither delays nor stops the others, and the
facilitator is told which group failed and why.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace

from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from bot.domain.breakout import Phase, channel_name
from bot.domain.plan import Plan
from bot.domain.timeline import Step, StepKind
from bot.services.context import Core
from bot.services.port import (
    ChannelLeftOver,
    ChatError,
    Delivery,
    FanoutReport,
    GroupChannelRequest,
    Outgoing,
    post_key,
)
from bot.store import repository as repo
from bot.store.models import Breakout, Group, Post

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
PostKey = tuple[int, int, str]  # (breakout id, group number, step key)

# Advisory locks of posts use PostgreSQL's two-key form (apart from the leadership's one-key locks).
POST_LOCK_SPACE = 0x506F7374 - 2**31  # "Post"
# How far before the first attempt recovery looks in the channel: platform and host clocks differ.
CLOCK_MARGIN = dt.timedelta(seconds=60)
# A claim from before "sending" was recorded has no start time; look back this far for it.
UNCONFIRMED_LOOKBACK = dt.timedelta(hours=6)

# Marks a group whose channel was tidied at the end (archived, made read-only, voice moved back).
CHANNEL_CLOSED = Step(StepKind.CHANNEL_CLOSED)


@dataclass(frozen=True)
class GroupPost:
    """One message for a group, under the step that makes it idempotent."""

    step: Step
    message: Outgoing
    question_index: int | None = None  # the question it belongs to, for the write-up's timeline


def group_requests(s: Session, breakout: Breakout, plan: Plan) -> list[GroupChannelRequest]:
    """What the platform needs to make or find each group's channel and let its people in."""
    people = repo.members(s, breakout_id=breakout.id)
    facilitators = tuple(p.user_id for m, p in people if m.role == "facilitator")
    return [
        GroupChannelRequest(
            breakout_id=breakout.id,
            breakout_title=breakout.title,
            plan_slug=breakout.plan_slug,
            number=group.number,
            name=group.name,
            members=tuple(p.user_id for m, p in people if m.group_id == group.id),
            facilitators=facilitators,
            home_channel=breakout.home_channel,
            voice_rooms=plan.voice_rooms,
            topic=f"{breakout.title}: group {group.number}",
            call_channel=breakout.call_channel_id,
            private=plan.private_channels,
        )
        for group in breakout.groups
    ]


class Fanout:
    def __init__(self, core: Core):
        self.core = core
        self._post_locks: dict[PostKey, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._locks_engine: Engine | None = None
        self._schema: str | None = None

    # ----- every group ---------------------------------------------------------------------------

    def open_channels(
        self,
        breakout_id: int,
        requests: Sequence[GroupChannelRequest],
        posts: Callable[[GroupChannelRequest], Sequence[GroupPost]],
        *,
        progress: Progress | None = None,
        ready: Mapping[int, str] | None = None,
    ) -> FanoutReport:
        """Make or reuse every group's channel, then post ``posts(group)`` into it, in order.

        ``ready``: group number -> channel id of channels already made with their people in them (a
        prepared breakout); those cost no platform call but their posts. Safe to run again (recovery
        after a crash): channels are reused and posts are idempotent.
        """
        report = FanoutReport(total=len(requests))
        lock = threading.Lock()
        ready = ready or {}

        def one(request: GroupChannelRequest) -> None:
            try:
                channel_id = ready.get(request.number) or self._open_channel(request)
                for post in posts(request):
                    self.post_once(breakout_id, request.number, channel_id, post)
            except ChannelLeftOver as exc:  # made, but not all of it: remembered, so the end tidies it
                with lock:
                    report.failures[request.number] = str(exc)
                self._set_channel(breakout_id, request.number, channel_id=exc.channel_id, error=str(exc))
            except ChatError as exc:
                with lock:
                    report.failures[request.number] = str(exc)
                self._set_channel(breakout_id, request.number, error=str(exc))
            except Exception as exc:  # one group's failure must not stop the others
                log.exception("opening group %s of breakout %s failed", request.number, breakout_id)
                with lock:
                    report.failures[request.number] = f"unexpected error: {exc}"
                self._set_channel(breakout_id, request.number, error=str(exc))
            finally:
                with lock:
                    report.done += 1
                    if progress:
                        progress(f"channels {report.done}/{report.total}")

        self._each_group(one, requests)
        return report

    def post_to_groups(self, breakout_id: int, post: GroupPost) -> FanoutReport:
        """Post into every group's channel once; a group whose channel failed at the start gets it now."""
        with self.core.db.transaction() as s:
            breakout, plan = self._load(s, breakout_id)
            requests = group_requests(s, breakout, plan)
            channels = {g.number: g.channel_id for g in breakout.groups}
        report = FanoutReport(total=len(requests))
        lock = threading.Lock()

        def one(request: GroupChannelRequest) -> None:
            channel_id = channels.get(request.number)
            try:
                if channel_id is None:  # its channel failed at the start: try again now
                    channel_id = self._open_channel(request)
                self.post_once(breakout_id, request.number, channel_id, post)
            except Exception as exc:
                if not isinstance(exc, ChatError):
                    log.exception(
                        "posting %s to group %s of breakout %s failed", post.step.key, request.number, breakout_id
                    )
                with lock:
                    report.failures[request.number] = str(exc)
            finally:
                with lock:
                    report.done += 1

        self._each_group(one, requests)
        if not report.ok:
            log.warning("breakout %s step %s: %s", breakout_id, post.step.key, report.describe())
        return report

    def close_channels(self, breakout_id: int, report: FanoutReport) -> list[int]:
        """Tidy each group's channel once (voice moved back, archived or deleted), noting failures
        in ``report``; returns the groups still to tidy.

        Each group is its own step (the 'channel closed' post row): one group's failure does not stop
        the others, a failure is recorded with its reason, and running this again (the clock's retry,
        recovery after a crash) does only what is not done yet.
        """
        with self.core.db.transaction() as s:
            breakout, plan = self._load(s, breakout_id)
            requests = group_requests(s, breakout, plan)
            channels = {g.number: g.channel_id for g in breakout.groups}
            done = set(
                s.scalars(
                    select(Post.group_number).where(
                        Post.breakout_id == breakout_id, Post.step == CHANNEL_CLOSED.key, Post.state == "sent"
                    )
                )
            )
        left: list[int] = []
        for request in requests:
            channel_id = channels.get(request.number)
            if channel_id is None or request.number in done:
                continue
            key = (breakout_id, request.number, CHANNEL_CLOSED.key)
            with self._post_lock(key):  # the clock's retry and recovery may meet here
                with self.core.db.transaction() as s:
                    row = _find_post(s, key)
                    if row is not None and row.state == "sent":
                        continue
                error: str | None = None
                try:
                    self.core.port.close_group_channel(
                        channel_id=channel_id, request=request, archive=plan.archive_channels
                    )
                except ChatError as exc:
                    error = str(exc)
                except Exception as exc:  # one group's failure must not stop the others
                    log.exception("closing group %s of breakout %s failed", request.number, breakout_id)
                    error = f"unexpected error: {exc}"
                if error is not None:
                    report.failures.setdefault(request.number, f"closing the channel (the bot keeps trying): {error}")
                    left.append(request.number)
                self._mark_closed(breakout_id, request.number, channel_id, error)
        return left

    def _mark_closed(self, breakout_id: int, number: int, channel_id: str, error: str | None) -> None:
        """The group's close step as it stands: sent when done, failed (with why) to be tried again."""
        key = (breakout_id, number, CHANNEL_CLOSED.key)
        with self.core.db.transaction() as s:
            row = _find_post(s, key)
            if row is None:
                row = Post(breakout_id=breakout_id, group_number=number, step=CHANNEL_CLOSED.key)
                s.add(row)
            row.channel_id, row.posted_at = channel_id, self.core.now()
            row.state, row.error = ("failed", error) if error is not None else ("sent", None)

    # ----- one group -----------------------------------------------------------------------------

    def post_once(self, breakout_id: int, group_number: int, channel_id: str, post: GroupPost) -> str | None:
        """Post unless this (breakout, group, step) was already sent; returns the message id.

        One attempt at a time per key across every process (``_exclusive``). The row says "sending"
        (committed) before the platform is called, so an attempt that finds an earlier one unconfirmed
        (a crash, a kill, a lost reply) first asks the platform whether the post is there.
        """
        key = (breakout_id, group_number, post.step.key)
        token = post_key(*key)
        with self._exclusive(key):
            earlier: tuple[str, dt.datetime] | None = None
            with self.core.db.transaction() as s:
                row = _find_post(s, key)
                if row is not None and row.state == "sent":
                    return row.message_id
                if row is None:  # claimed, and about to be sent: committed before the platform is asked
                    s.add(
                        Post(
                            breakout_id=breakout_id,
                            group_number=group_number,
                            step=post.step.key,
                            question_index=post.question_index,
                            channel_id=channel_id,
                            state="sending",
                            posted_at=self.core.now(),
                            sending_at=_wall_clock(),
                        )
                    )
                else:  # claimed, sending or failed before: it may have reached the platform all the same
                    earlier = (row.channel_id or channel_id, row.sending_at or _wall_clock() - UNCONFIRMED_LOOKBACK)
            if earlier is not None:
                found = self.core.port.find_post(
                    channel_id=earlier[0], key=token, message=post.message, since=earlier[1] - CLOCK_MARGIN
                )
                if found is not None:
                    log.info("post %s was already in its channel (%s); not posting it again", token, found.message_id)
                    self._confirm(key, found)
                    return found.message_id
                with self.core.db.transaction() as s:
                    row = _claimed(s, key)
                    row.state, row.channel_id, row.error = "sending", channel_id, None
                    row.sending_at = row.sending_at or _wall_clock()
            try:
                delivery = self.core.port.post(channel_id=channel_id, message=replace(post.message, key=token))
            except ChatError as exc:
                with self.core.db.transaction() as s:
                    row = _claimed(s, key)
                    row.state, row.error = "failed", str(exc)
                raise
            self._confirm(key, delivery)
            return delivery.message_id

    def _confirm(self, key: PostKey, delivery: Delivery) -> None:
        with self.core.db.transaction() as s:
            row = _claimed(s, key)
            row.state, row.message_id, row.channel_id = "sent", delivery.message_id, delivery.channel_id
            row.posted_at, row.error = self.core.now(), None

    @contextmanager
    def _exclusive(self, key: PostKey) -> Iterator[None]:
        """One attempt per post key at a time: a thread lock here, and on PostgreSQL a session-level
        advisory lock too, so other processes of the fleet wait; it ends with the process if it dies."""
        with self._post_lock(key):
            if self.core.db.engine.dialect.name != "postgresql":
                yield
                return
            with self._lock_engine().connect() as conn:
                if self._schema is None:  # advisory locks are per database: the schema tells fleets apart
                    self._schema = str(conn.execute(text("SELECT current_schema()")).scalar_one())
                lock_args = {"space": POST_LOCK_SPACE, "key": post_lock_key(key, self._schema)}
                conn.execute(text("SELECT pg_advisory_lock(:space, :key)"), lock_args)
                conn.commit()
                try:
                    yield
                finally:
                    try:
                        conn.execute(text("SELECT pg_advisory_unlock(:space, :key)"), lock_args)
                        conn.commit()
                    except Exception:  # a lock we cannot release must not go back to the pool
                        conn.invalidate()
                        raise

    def _lock_engine(self) -> Engine:
        """Connections that hold post locks, one per attempt and never pooled (as the leadership's): a held
        lock never waits on, or starves, the transactions' pool, and nothing is left open between posts."""
        with self._locks_guard:
            if self._locks_engine is None:
                self._locks_engine = create_engine(self.core.db.engine.url, poolclass=NullPool)
            return self._locks_engine

    def _open_channel(self, request: GroupChannelRequest) -> str:
        """Make or reuse one group's channel on the platform and remember it (clearing any old error).

        A channel is one running breakout's: if the one found under this name is a group channel of
        another running breakout (two of one plan at once, or a re-run after a crash), this group
        gets a channel named for its own breakout instead. Checked after the channel is recorded, so
        of two processes opening the same name at once, the later one to record always sees it.
        """
        channel_id = self.core.port.open_group_channel(request)
        self._set_channel(request.breakout_id, request.number, channel_id=channel_id, error=None)
        with self.core.db.transaction() as s:
            own = channel_name(request.plan_slug, request.number, breakout_id=request.breakout_id)
            if request.name == own or not _held_by_another(s, request.breakout_id, channel_id):
                return channel_id
            group = s.scalar(
                select(Group).where(Group.breakout_id == request.breakout_id, Group.number == request.number)
            )
            if group is not None:
                group.name, group.channel_id = own, None
        log.info(
            "breakout %s group %s: #%s belongs to another running breakout; using #%s",
            request.breakout_id,
            request.number,
            request.name,
            own,
        )
        return self._open_channel(dataclasses.replace(request, name=own))

    def _set_channel(self, breakout_id: int, number: int, *, error: str | None, channel_id: str | None = None) -> None:
        with self.core.db.transaction() as s:
            group = s.scalar(select(Group).where(Group.breakout_id == breakout_id, Group.number == number))
            if group is None:
                return
            if channel_id is not None:
                group.channel_id = channel_id
            group.channel_error = error

    def _post_lock(self, key: PostKey) -> threading.Lock:
        with self._locks_guard:
            return self._post_locks.setdefault(key, threading.Lock())

    def _each_group(self, work: Callable[[GroupChannelRequest], None], items: Sequence[GroupChannelRequest]) -> None:
        if len(items) <= 1:
            for item in items:
                work(item)
            return
        with ThreadPoolExecutor(
            max_workers=max(1, min(self.core.fanout_concurrency, len(items))), thread_name_prefix="fanout"
        ) as pool:
            list(pool.map(work, items))

    @staticmethod
    def _load(s: Session, breakout_id: int) -> tuple[Breakout, Plan]:
        loaded = repo.breakout_with_plan(s, breakout_id)
        assert loaded is not None, f"breakout {breakout_id} is gone"
        return loaded


def post_lock_key(key: PostKey, schema: str) -> int:
    """A signed 32-bit advisory-lock key for one (breakout, group, step) in one schema."""
    return zlib.crc32(f"{schema}/{post_key(*key)}".encode()) - 2**31


def _wall_clock() -> dt.datetime:
    """The real time, not the core's clock: it is compared with the platform's own timestamps."""
    return dt.datetime.now(dt.UTC)


def _held_by_another(s: Session, breakout_id: int, channel_id: str) -> bool:
    """Whether a group of another running (or paused) breakout in the same workspace uses the channel."""
    workspace = select(Breakout.workspace).where(Breakout.id == breakout_id).scalar_subquery()
    return (
        s.scalar(
            select(Group.id)
            .join(Breakout, Group.breakout_id == Breakout.id)
            .where(
                Group.channel_id == channel_id,
                Breakout.id != breakout_id,
                Breakout.workspace == workspace,
                Breakout.state != Phase.STOPPED.value,
            )
            .limit(1)
        )
        is not None
    )


def _find_post(s: Session, key: PostKey) -> Post | None:
    breakout_id, group_number, step = key
    return s.scalar(
        select(Post).where(Post.breakout_id == breakout_id, Post.group_number == group_number, Post.step == step)
    )


def _claimed(s: Session, key: PostKey) -> Post:
    post = _find_post(s, key)
    assert post is not None, f"post {key} was claimed"
    return post
