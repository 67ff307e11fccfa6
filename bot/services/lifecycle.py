"""The breakout's lifecycle: start, the timeline's steps, extend, skip ahead, pause, broadcast, stop.

State lives in the database and every change is a short transaction with optimistic locking
(``Breakout.version``), so a scheduled step and a facilitator's command that race cannot both win.
Posting to the groups happens after the state is committed, and each post is claimed first under
its idempotency key (breakout, group, step): a step that is fired again, or recovered after a crash,
posts only what is still missing.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bot.domain import grouping
from bot.domain.plan import Plan
from bot.domain.timeline import Step, StepKind, question_steps, seconds
from bot.scheduling.clock import Clock
from bot.services.context import Actor, Core
from bot.services.errors import BadArguments, IllegalMove, NotFound, Role, only
from bot.services.port import ChatError, FanoutReport, GroupChannelRequest, MessageKind, Outgoing, PersonInfo
from bot.store import repository as repo
from bot.store.models import Breakout, Group, Membership, Post

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
# A step that fires this much before its question's end is early (an extension moved the end).
EARLY_TOLERANCE = dt.timedelta(milliseconds=200)
# Marks a group whose channel was tidied at the end (archived, made read-only, voice moved back).
CHANNEL_CLOSED = "channel-closed"


@dataclass(frozen=True)
class GroupStatus:
    number: int
    channel_id: str | None
    people: int
    quotes: int
    problem: str | None


@dataclass(frozen=True)
class Status:
    breakout_id: int
    title: str
    plan_slug: str
    state: str
    question_number: int  # 1-based
    question_count: int
    question_text: str
    seconds_left: float | None  # real seconds (already scaled)
    groups: tuple[GroupStatus, ...]
    participants: int
    quotes: int

    def describe(self) -> str:
        if self.state == "stopped":
            head = f"{self.title} (breakout {self.breakout_id}) has ended."
        else:
            left = "" if self.seconds_left is None else f", {format_duration(self.seconds_left)} left"
            paused = " (paused)" if self.state == "paused" else ""
            head = (
                f"{self.title} (breakout {self.breakout_id}){paused}: question {self.question_number} "
                f"of {self.question_count}{left}. {self.question_text}"
            )
        lines = [head, f"{self.participants} people in {len(self.groups)} groups, {self.quotes} quotes so far."]
        for g in self.groups:
            extra = f" (problem: {g.problem})" if g.problem else ""
            lines.append(f"  group {g.number}: {g.people} people, {g.quotes} quotes{extra}")
        return "\n".join(lines)


def format_duration(secs: float) -> str:
    secs = max(0, round(secs))
    minutes, rest = divmod(secs, 60)
    if minutes and rest:
        return f"{minutes} min {rest} s"
    return f"{minutes} min" if minutes else f"{rest} s"


@dataclass(frozen=True)
class StartResult:
    breakout_id: int
    title: str
    groups: tuple[tuple[int, tuple[str, ...]], ...]  # (number, member user ids)
    report: FanoutReport

    def describe(self) -> str:
        title = self.title
        sizes = ", ".join(str(len(m)) for _, m in self.groups)
        return (
            f"Started {title} (breakout {self.breakout_id}): {len(self.groups)} groups ({sizes} people). "
            f"{self.report.describe()}."
        )


def plan_of(breakout: Breakout) -> Plan:
    return Plan.from_dict(breakout.plan)


def question_seconds(breakout: Breakout, plan: Plan, index: int) -> float:
    minutes = breakout.minutes_override or plan.questions[index].minutes
    return seconds(minutes, breakout.time_scale)


def channel_name(plan_slug: str, number: int) -> str:
    # Slack channel names: lowercase, at most 80 characters, no spaces or periods.
    return f"breakout-{plan_slug}"[:70] + f"-{number}"


class Lifecycle:
    def __init__(self, core: Core, clock: Clock):
        self.core = core
        self.clock = clock
        self._post_locks: dict[tuple[int, int, str], threading.Lock] = {}
        self._locks_guard = threading.Lock()

    # ----- finding -------------------------------------------------------------------------------

    def find(
        self, session: Session, *, workspace: str, channel_id: str | None, breakout_id: int | None = None
    ) -> Breakout:
        """The breakout a command means: by number, by the channel it was typed in, or the only one running."""
        if breakout_id is not None:
            breakout = session.get(Breakout, breakout_id)
            if breakout is None or breakout.workspace != workspace:
                raise NotFound(f"There is no breakout {breakout_id} here.")
            return breakout
        if channel_id:
            breakout = repo.breakout_for_channel(session, workspace=workspace, channel_id=channel_id)
            if breakout is not None:
                return breakout
        running = repo.running_breakouts(session, workspace=workspace)
        if len(running) == 1:
            return running[0]
        if channel_id and not running:  # the channel's last breakout, so "it has ended" can be said
            breakout = repo.breakout_for_channel(
                session, workspace=workspace, channel_id=channel_id, running_only=False
            )
            if breakout is not None:
                return breakout
        if not running:
            raise NotFound("No breakout is running. Start one with /breakout start PLAN.")
        ids = ", ".join(f"{b.id} ({b.title})" for b in running)
        raise NotFound(f"Several breakouts are running ({ids}); type the command in the channel where one was started.")

    # ----- start ---------------------------------------------------------------------------------

    def start(
        self,
        actor: Actor,
        *,
        home_channel: str,
        plan_slug: str,
        participants: Sequence[PersonInfo],
        facilitators: Sequence[PersonInfo] = (),
        groups: int | None = None,
        size: int | None = None,
        minutes: float | None = None,
        include_facilitators: bool = False,
        progress: Progress | None = None,
        call_channel: str | None = None,
    ) -> StartResult:
        require_facilitator(actor, "start a breakout")
        if groups is not None and size is not None:
            raise BadArguments("Give either groups=N or size=N, not both.")
        for name, value in (("groups", groups), ("size", size), ("minutes", minutes)):
            if value is not None and value <= 0:
                raise BadArguments(f"{name}= must be a positive number (got {value:g}).")
        plan = self.core.plans.get(plan_slug)
        facilitator_ids = {f.user_id for f in facilitators} | {actor.person.user_id}
        keep_out = plan.grouping.keep_facilitators_out and not include_facilitators
        people = [
            p
            for p in {p.user_id: p for p in participants}.values()
            if not p.is_bot and not (keep_out and p.user_id in facilitator_ids)
        ]
        if not people:
            raise BadArguments(
                "There is nobody to split into groups: the channel has no participants besides "
                "facilitators and bots. Invite people to the channel, or add include-facilitators."
            )
        if size is None and groups is None:
            size, groups = plan.grouping.size, plan.grouping.count
        if size is not None and size < 2 and len(people) > 1:
            raise BadArguments("size=1 would put everyone alone; use size=2 or more.")
        now = self.core.now()
        active_key = f"{actor.workspace}:{home_channel}"
        try:
            with self.core.db.transaction() as s:
                if s.scalar(select(Breakout).where(Breakout.active_key == active_key)) is not None:
                    raise IllegalMove(
                        "A breakout is already running in this channel. See /breakout status, "
                        "or end it with /breakout stop before starting another."
                    )
                rows = {
                    p.user_id: repo.upsert_person(
                        s,
                        workspace=actor.workspace,
                        user_id=p.user_id,
                        full_name=p.full_name,
                        first_name=p.first_name,
                        display_name=p.display_name,
                    )
                    for p in people
                }
                for f in facilitators:
                    if f.user_id not in rows:
                        rows[f.user_id] = repo.upsert_person(
                            s,
                            workspace=actor.workspace,
                            user_id=f.user_id,
                            full_name=f.full_name,
                            first_name=f.first_name,
                            display_name=f.display_name,
                        )
                met: set[tuple[int, int]] = set()
                if plan.grouping.avoid_repeats:
                    met = repo.pairs_met_before(
                        s, workspace=actor.workspace, series=plan.series, people=[rows[p.user_id].id for p in people]
                    )
                by_id = {rows[p.user_id].id: p.user_id for p in people}
                split = grouping.split(list(by_id), size=size, count=groups, rng=self.core.rng, met_before=met)
                duration = seconds(minutes or plan.questions[0].minutes, self.core.time_scale)
                breakout = Breakout(
                    workspace=actor.workspace,
                    home_channel=home_channel,
                    active_key=active_key,
                    plan_slug=plan.slug,
                    plan=plan.to_dict(),
                    title=plan.title,
                    series=plan.series,
                    state="running",
                    question_index=0,
                    question_opened_at=now,
                    question_ends_at=now + dt.timedelta(seconds=duration),
                    round=0,
                    minutes_override=minutes,
                    time_scale=self.core.time_scale,
                    started_by=actor.person.user_id,
                    started_at=now,
                    call_channel_id=call_channel,
                )
                s.add(breakout)
                s.flush()
                for number, person_ids in enumerate(split, start=1):
                    group = Group(breakout_id=breakout.id, number=number, name=channel_name(plan.slug, number))
                    s.add(group)
                    s.flush()
                    for pid in person_ids:
                        s.add(Membership(breakout_id=breakout.id, person_id=pid, group_id=group.id))
                for f in facilitators:
                    if rows[f.user_id].id not in by_id:
                        s.add(Membership(breakout_id=breakout.id, person_id=rows[f.user_id].id, role="facilitator"))
                breakout_id = breakout.id
                layout = tuple((n, tuple(by_id[pid] for pid in ids)) for n, ids in enumerate(split, start=1))
        except IntegrityError:
            raise IllegalMove(
                "A breakout is already running in this channel. See /breakout status, or end it with /breakout stop."
            ) from None
        report = self.open_channels(breakout_id, progress=progress)
        self._schedule_current(breakout_id)
        return StartResult(breakout_id, plan.title, layout, report)

    def open_channels(self, breakout_id: int, *, progress: Progress | None = None) -> FanoutReport:
        """Make or reuse every group's channel, then post the welcome and the open question.

        Safe to run again (recovery after a crash): channels are reused and posts are idempotent.
        """
        with self.core.db.transaction() as s:
            breakout = s.get(Breakout, breakout_id)
            assert breakout is not None
            plan = plan_of(breakout)
            requests = self._channel_requests(s, breakout, plan)
            question = breakout.question_index
        report = FanoutReport(total=len(requests))
        lock = threading.Lock()

        def one(request: GroupChannelRequest) -> None:
            try:
                channel_id = self._open_channel(request)
                welcome = self.core.messages.render(
                    "welcome",
                    plan,
                    group=request.number,
                    title=plan.title,
                    group_size=len(request.members),
                    groups=len(requests),
                )
                self._post_once(
                    breakout_id,
                    request.number,
                    channel_id,
                    "welcome",
                    None,
                    Outgoing(
                        MessageKind.WELCOME,
                        welcome,
                        title=plan.title,
                        consent_options=self.core.messages.consent_options(),
                        breakout_id=breakout_id,
                    ),
                )
                self._post_once(
                    breakout_id,
                    request.number,
                    channel_id,
                    Step(StepKind.OPEN, question).key,
                    question,
                    self._question_message(plan, question, breakout_id),
                )
            except ChatError as exc:
                with lock:
                    report.failures[request.number] = str(exc)
                self._record_channel_error(breakout_id, request.number, str(exc))
            except Exception as exc:  # one group's failure must not stop the others
                log.exception("opening group %s of breakout %s failed", request.number, breakout_id)
                with lock:
                    report.failures[request.number] = f"unexpected error: {exc}"
                self._record_channel_error(breakout_id, request.number, str(exc))
            finally:
                with lock:
                    report.done += 1
                    if progress:
                        progress(f"channels {report.done}/{report.total}")

        self._fanout(one, requests)
        return report

    def _open_channel(self, request: GroupChannelRequest) -> str:
        """Make or reuse one group's channel on the platform and remember it (clearing any old error)."""
        channel_id = self.core.port.open_group_channel(request)
        self._set_channel(request.breakout_id, request.number, channel_id=channel_id, error=None)
        return channel_id

    def _record_channel_error(self, breakout_id: int, number: int, error: str) -> None:
        self._set_channel(breakout_id, number, error=error)

    def _set_channel(self, breakout_id: int, number: int, *, error: str | None, channel_id: str | None = None) -> None:
        with self.core.db.transaction() as s:
            group = s.scalar(select(Group).where(Group.breakout_id == breakout_id, Group.number == number))
            if group is None:
                return
            if channel_id is not None:
                group.channel_id = channel_id
            group.channel_error = error

    def _channel_requests(self, s: Session, breakout: Breakout, plan: Plan) -> list[GroupChannelRequest]:
        people = repo.members(s, breakout_id=breakout.id)
        facilitators = tuple(p.user_id for m, p in people if m.role == "facilitator")
        out = []
        for group in breakout.groups:
            member_ids = tuple(p.user_id for m, p in people if m.group_id == group.id)
            out.append(
                GroupChannelRequest(
                    breakout_id=breakout.id,
                    breakout_title=breakout.title,
                    plan_slug=breakout.plan_slug,
                    number=group.number,
                    name=group.name,
                    members=member_ids,
                    facilitators=facilitators,
                    home_channel=breakout.home_channel,
                    voice_rooms=plan.voice_rooms,
                    topic=f"{breakout.title}: group {group.number}",
                    call_channel=breakout.call_channel_id,
                )
            )
        return out

    def _question_message(self, plan: Plan, index: int, breakout_id: int) -> Outgoing:
        q = plan.questions[index]
        text = self.core.messages.render(
            "question", plan, question=q.text, number=index + 1, count=len(plan.questions), minutes=q.minutes
        )
        return Outgoing(
            MessageKind.QUESTION, text, title=f"Question {index + 1} of {len(plan.questions)}", breakout_id=breakout_id
        )

    def _fanout(self, work: Callable[[GroupChannelRequest], None], items: Sequence[GroupChannelRequest]) -> None:
        if len(items) <= 1:
            for item in items:
                work(item)
            return
        with ThreadPoolExecutor(
            max_workers=max(1, min(self.core.fanout_concurrency, len(items))), thread_name_prefix="fanout"
        ) as pool:
            list(pool.map(work, items))

    # ----- posting once --------------------------------------------------------------------------

    def _post_lock(self, key: tuple[int, int, str]) -> threading.Lock:
        with self._locks_guard:
            return self._post_locks.setdefault(key, threading.Lock())

    def _post_once(
        self,
        breakout_id: int,
        group_number: int,
        channel_id: str,
        step: str,
        question_index: int | None,
        message: Outgoing,
    ) -> str | None:
        """Post unless this (breakout, group, step) was already sent; returns the message id."""
        key = (breakout_id, group_number, step)
        with self._post_lock(key):
            with self.core.db.transaction() as s:
                post = s.scalar(
                    select(Post).where(
                        Post.breakout_id == breakout_id, Post.group_number == group_number, Post.step == step
                    )
                )
                if post is not None and post.state == "sent":
                    return post.message_id
                if post is None:
                    s.add(
                        Post(
                            breakout_id=breakout_id,
                            group_number=group_number,
                            step=step,
                            question_index=question_index,
                            channel_id=channel_id,
                            state="claimed",
                            posted_at=self.core.now(),
                        )
                    )
            try:
                delivery = self.core.port.post(channel_id=channel_id, message=message)
            except ChatError as exc:
                with self.core.db.transaction() as s:
                    post = self._get_post(s, key)
                    post.state, post.error = "failed", str(exc)
                raise
            with self.core.db.transaction() as s:
                post = self._get_post(s, key)
                post.state, post.message_id, post.channel_id = "sent", delivery.message_id, delivery.channel_id
                post.posted_at, post.error = self.core.now(), None
            return delivery.message_id

    @staticmethod
    def _get_post(s: Session, key: tuple[int, int, str]) -> Post:
        post = s.scalar(
            select(Post).where(Post.breakout_id == key[0], Post.group_number == key[1], Post.step == key[2])
        )
        assert post is not None
        return post

    def _post_to_groups(
        self, breakout_id: int, step: str, question_index: int | None, message: Outgoing
    ) -> FanoutReport:
        with self.core.db.transaction() as s:
            breakout = s.get(Breakout, breakout_id)
            assert breakout is not None
            requests = self._channel_requests(s, breakout, plan_of(breakout))
            channels = {g.number: g.channel_id for g in breakout.groups}
        report = FanoutReport(total=len(requests))
        lock = threading.Lock()

        def one(request: GroupChannelRequest) -> None:
            channel_id = channels.get(request.number)
            try:
                if channel_id is None:  # its channel failed at the start: try again now
                    channel_id = self._open_channel(request)
                self._post_once(breakout_id, request.number, channel_id, step, question_index, message)
            except Exception as exc:
                if not isinstance(exc, ChatError):
                    log.exception("posting %s to group %s of breakout %s failed", step, request.number, breakout_id)
                with lock:
                    report.failures[request.number] = str(exc)
            finally:
                with lock:
                    report.done += 1

        self._fanout(one, requests)
        if not report.ok:
            log.warning("breakout %s step %s: %s", breakout_id, step, report.describe())
        return report

    # ----- the clock -----------------------------------------------------------------------------

    def _schedule_current(self, breakout_id: int) -> None:
        """Put the open question's remaining steps on the clock (replacing any earlier ones)."""
        with self.core.db.transaction() as s:
            breakout = s.get(Breakout, breakout_id)
            assert breakout is not None
            if breakout.state != "running" or breakout.question_ends_at is None:
                return
            plan = plan_of(breakout)
            steps = question_steps(
                plan,
                question=breakout.question_index,
                opened_at=breakout.question_opened_at or breakout.question_ends_at,
                ends_at=breakout.question_ends_at,
                round=breakout.round,
                time_scale=breakout.time_scale,
            )
        for at, step in steps:
            self.clock.schedule(breakout_id, slot=step.job_slot, step_key=step.key, at=at)

    def fire(self, breakout_id: int, step_key: str) -> None:
        """Called by the clock. Every check is against the stored state, so a stale job does nothing."""
        step = Step.parse(step_key)
        with self.core.db.transaction() as s:
            breakout = s.get(Breakout, breakout_id)
            if breakout is None or breakout.state != "running":
                return
            current, rnd, last = breakout.question_index, breakout.round, len(breakout.plan["questions"]) - 1
            ends_at = breakout.question_ends_at
        now = self.core.now()
        if step.kind is StepKind.WARN:
            # A warning that fell due while the bot was down is stale once its question's time is up.
            in_time = ends_at is not None and now < ends_at
            if step.question == current and step.round == rnd and in_time:
                self._warn(breakout_id, step)
            return
        if (
            ends_at is not None
            and now < ends_at - EARLY_TOLERANCE
            and (step.kind is StepKind.CLOSE or step.question == current + 1)
        ):
            # Already on its way when an extension moved the end: put it back at the new time.
            self._schedule_current(breakout_id)
            return
        if step.kind is StepKind.OPEN:
            assert step.question is not None
            if step.question == current + 1:
                self._open_question(breakout_id, expected=current)
            elif step.question == current:  # advanced, but the crash came before every group had it
                self._post_question(breakout_id, current)
                self._schedule_current(breakout_id)
        elif step.kind is StepKind.CLOSE and current == last:
            self._close(breakout_id, reason="time")

    def _warn(self, breakout_id: int, step: Step) -> FanoutReport:
        with self.core.db.transaction() as s:
            breakout = s.get(Breakout, breakout_id)
            assert breakout is not None
            plan = plan_of(breakout)
        minutes = step.warning_minutes or 0
        text = self.core.messages.render(
            "warning",
            plan,
            minutes=int(minutes) if minutes == int(minutes) else minutes,
            number=(step.question or 0) + 1,
        )
        return self._post_to_groups(
            breakout_id, step.key, step.question, Outgoing(MessageKind.WARNING, text, breakout_id=breakout_id)
        )

    def _open_question(self, breakout_id: int, *, expected: int) -> FanoutReport | None:
        """Move from question ``expected`` to the next one; None if someone else already did."""
        now = self.core.now()
        try:
            with self.core.db.transaction() as s:
                breakout = s.get(Breakout, breakout_id)
                assert breakout is not None
                if breakout.state == "stopped" or breakout.question_index != expected:
                    return None
                plan = plan_of(breakout)
                nxt = expected + 1
                breakout.question_index = nxt
                breakout.question_opened_at = now
                breakout.round = 0
                if breakout.state == "paused":
                    breakout.paused_remaining = question_seconds(breakout, plan, nxt)
                    breakout.question_ends_at = None
                else:
                    breakout.question_ends_at = now + dt.timedelta(seconds=question_seconds(breakout, plan, nxt))
        except StaleDataError:
            return None  # a concurrent step or command moved the breakout first
        self.clock.cancel_breakout(breakout_id)
        report = self._post_question(breakout_id, nxt)
        self._schedule_current(breakout_id)
        return report

    def _post_question(self, breakout_id: int, index: int) -> FanoutReport:
        with self.core.db.transaction() as s:
            breakout = s.get(Breakout, breakout_id)
            assert breakout is not None
            plan = plan_of(breakout)
        return self._post_to_groups(
            breakout_id, Step(StepKind.OPEN, index).key, index, self._question_message(plan, index, breakout_id)
        )

    def _close(self, breakout_id: int, *, reason: str, attempts: int = 5) -> FanoutReport | None:
        """End the breakout; None if it had already ended. A concurrent change (a step firing at
        the same moment) makes the commit stale: the close is tried again on the fresh state."""
        now = self.core.now()
        try:
            with self.core.db.transaction() as s:
                breakout = s.get(Breakout, breakout_id)
                if breakout is None or breakout.state == "stopped":
                    return None
                breakout.state, breakout.active_key, breakout.stopped_at = "stopped", None, now
                breakout.question_ends_at, breakout.paused_remaining = None, None
        except StaleDataError:
            if attempts <= 1:
                raise IllegalMove(
                    "The breakout kept changing while I tried to end it; try /breakout stop again."
                ) from None
            return self._close(breakout_id, reason=reason, attempts=attempts - 1)
        self.clock.cancel_breakout(breakout_id)
        return self._wind_up(breakout_id, reason=reason)

    def _wind_up(self, breakout_id: int, *, reason: str) -> FanoutReport:
        """After the stop is committed: the close message in every group, then each channel tidied.

        Both are done once per group (the close post's key; a 'channel-closed' marker), so recovery
        after a crash in the middle finishes the job without repeating any of it.
        """
        with self.core.db.transaction() as s:
            breakout = s.get(Breakout, breakout_id)
            assert breakout is not None
            plan = plan_of(breakout)
            requests = self._channel_requests(s, breakout, plan)
            channels = {g.number: g.channel_id for g in breakout.groups}
            done = set(
                s.scalars(select(Post.group_number).where(Post.breakout_id == breakout_id, Post.step == CHANNEL_CLOSED))
            )
        text = self.core.messages.render("close", plan, title=plan.title, reason=reason)
        report = self._post_to_groups(
            breakout_id, "close", None, Outgoing(MessageKind.CLOSE, text, breakout_id=breakout_id)
        )
        for request in requests:
            channel_id = channels.get(request.number)
            if channel_id is None or request.number in done:
                continue
            try:
                self.core.port.close_group_channel(
                    channel_id=channel_id, request=request, archive=plan.archive_channels
                )
            except ChatError as exc:
                report.failures.setdefault(request.number, f"closing the channel: {exc}")
                continue
            with self.core.db.transaction() as s:
                s.add(
                    Post(
                        breakout_id=breakout_id,
                        group_number=request.number,
                        step=CHANNEL_CLOSED,
                        channel_id=channel_id,
                        state="sent",
                        posted_at=self.core.now(),
                    )
                )
        return report

    # ----- the facilitator's commands ------------------------------------------------------------

    def _steerable(self, actor: Actor, channel_id: str | None, breakout_id: int | None, what: str) -> Breakout:
        require_facilitator(actor, what)
        with self.core.db.transaction() as s:
            breakout = self.find(s, workspace=actor.workspace, channel_id=channel_id, breakout_id=breakout_id)
            if breakout.state == "stopped":
                raise IllegalMove(
                    f"Breakout {breakout.id} ({breakout.title}) has already ended, so you cannot {what}. "
                    "Start a new one with /breakout start PLAN."
                )
            s.expunge(breakout)
            return breakout

    def advance(self, actor: Actor, *, channel_id: str | None = None, breakout_id: int | None = None) -> str:
        breakout = self._steerable(actor, channel_id, breakout_id, "skip ahead")
        last = len(breakout.plan["questions"]) - 1
        if breakout.question_index >= last:
            report = self._close(breakout.id, reason="skipped")
            return f"That was the last question, so {breakout.title} has ended." + _failures(report)
        report = self._open_question(breakout.id, expected=breakout.question_index)
        if report is None:
            return "The breakout moved on at the same moment; see /breakout status."
        return f"Moved to question {breakout.question_index + 2} of {last + 1}." + _failures(report)

    def extend(
        self, actor: Actor, *, minutes: float, channel_id: str | None = None, breakout_id: int | None = None
    ) -> str:
        if minutes <= 0 or minutes > 240:
            raise BadArguments("Extend by a number of minutes between 1 and 240, e.g. /breakout extend 5.")
        breakout = self._steerable(actor, channel_id, breakout_id, "extend it")
        extra = seconds(minutes, breakout.time_scale)
        try:
            with self.core.db.transaction() as s:
                row = s.get(Breakout, breakout.id)
                assert row is not None
                row.round += 1
                if row.state == "paused":
                    row.paused_remaining = (row.paused_remaining or 0) + extra
                else:
                    assert row.question_ends_at is not None
                    row.question_ends_at = row.question_ends_at + dt.timedelta(seconds=extra)
                index, rnd, state = row.question_index, row.round, row.state
                if state == "paused" or row.question_ends_at is None:
                    left = row.paused_remaining or 0.0
                else:
                    left = (row.question_ends_at - self.core.now()).total_seconds()
        except StaleDataError:
            raise IllegalMove("The breakout changed at the same moment; try again.") from None
        if state == "running":
            self.clock.cancel_breakout(breakout.id)
            self._schedule_current(breakout.id)
        note = f"The facilitator added {minutes:g} minute{'s' if minutes != 1 else ''} to this question."
        self._post_to_groups(
            breakout.id,
            f"q{index}:extend:r{rnd}",
            index,
            Outgoing(MessageKind.BROADCAST, note, breakout_id=breakout.id),
        )
        return f"Question {index + 1} now has {format_duration(left)} left."

    def pause(self, actor: Actor, *, channel_id: str | None = None, breakout_id: int | None = None) -> str:
        breakout = self._steerable(actor, channel_id, breakout_id, "pause it")
        if breakout.state == "paused":
            raise IllegalMove("The breakout is already paused; /breakout resume carries on.")
        try:
            with self.core.db.transaction() as s:
                row = s.get(Breakout, breakout.id)
                if row is None or row.state != "running" or row.question_ends_at is None:
                    raise IllegalMove(
                        "The breakout is not running now (it was paused or ended meanwhile); see /breakout status."
                    )
                row.paused_remaining = max(0.0, (row.question_ends_at - self.core.now()).total_seconds())
                row.question_ends_at, row.state = None, "paused"
                left = row.paused_remaining
        except StaleDataError:
            raise IllegalMove("The breakout moved on at that moment; try /breakout pause again.") from None
        self.clock.cancel_breakout(breakout.id)
        return f"Paused with {format_duration(left)} left on question {breakout.question_index + 1}. /breakout resume carries on."

    def resume(self, actor: Actor, *, channel_id: str | None = None, breakout_id: int | None = None) -> str:
        breakout = self._steerable(actor, channel_id, breakout_id, "resume it")
        if breakout.state != "paused":
            raise IllegalMove("The breakout is not paused.")
        with self.core.db.transaction() as s:
            row = s.get(Breakout, breakout.id)
            assert row is not None
            now = self.core.now()
            left = row.paused_remaining or 0.0
            row.question_ends_at = now + dt.timedelta(seconds=left)
            row.question_opened_at = min(row.question_opened_at or now, now)
            row.state, row.paused_remaining = "running", None
        self._schedule_current(breakout.id)
        return f"Resumed: {format_duration(left)} left on question {breakout.question_index + 1}."

    def broadcast(
        self, actor: Actor, *, text: str, channel_id: str | None = None, breakout_id: int | None = None
    ) -> str:
        text = text.strip()
        if not text:
            raise BadArguments("Say what to broadcast: /breakout broadcast Five minutes left, please wrap up.")
        breakout = self._steerable(actor, channel_id, breakout_id, "broadcast")
        plan = plan_of(breakout)
        message = self.core.messages.render("broadcast", plan, text=text)
        # Each broadcast is its own step: two sent at the same moment are two posts, not one.
        report = self._post_to_groups(
            breakout.id,
            f"broadcast:{uuid.uuid4().hex[:16]}",
            breakout.question_index,
            Outgoing(MessageKind.BROADCAST, message, title="From the facilitator", breakout_id=breakout.id),
        )
        return f"Sent to {report.total - len(report.failures)} of {report.total} groups." + _failures(report)

    def stop(self, actor: Actor, *, channel_id: str | None = None, breakout_id: int | None = None) -> str:
        breakout = self._steerable(actor, channel_id, breakout_id, "stop it")
        report = self._close(breakout.id, reason="stopped")
        if report is None:
            return (
                f"{breakout.title} (breakout {breakout.id}) had just ended on its own. Organisers can pull "
                f"the write-up with /summary {breakout.id}."
            )
        return (
            f"Stopped {breakout.title} (breakout {breakout.id}). Organisers can now pull the write-up with "
            f"/summary {breakout.id}." + _failures(report)
        )

    def status(self, actor: Actor, *, channel_id: str | None = None, breakout_id: int | None = None) -> Status:
        with self.core.db.transaction() as s:
            breakout = self.find(s, workspace=actor.workspace, channel_id=channel_id, breakout_id=breakout_id)
            plan = plan_of(breakout)
            counts = repo.quote_counts(s, breakout_id=breakout.id)
            people = repo.members(s, breakout_id=breakout.id)
            groups = tuple(
                GroupStatus(
                    g.number,
                    g.channel_id,
                    sum(1 for m, _ in people if m.group_id == g.id),
                    counts.get(g.id, 0),
                    g.channel_error,
                )
                for g in breakout.groups
            )
            if breakout.state == "paused":
                left = breakout.paused_remaining
            elif breakout.state == "running" and breakout.question_ends_at:
                left = max(0.0, (breakout.question_ends_at - self.core.now()).total_seconds())
            else:
                left = None
            index = min(breakout.question_index, len(plan.questions) - 1)
            return Status(
                breakout.id,
                breakout.title,
                breakout.plan_slug,
                breakout.state,
                index + 1,
                len(plan.questions),
                plan.questions[index].text,
                left,
                groups,
                sum(1 for m, _ in people if m.role == "participant"),
                sum(counts.values()),
            )

    # ----- after a restart -----------------------------------------------------------------------

    def recover(self) -> list[int]:
        """Finish what a crash interrupted: missing channels and posts, and the open question's steps.

        Jobs themselves survive in the job store; this covers a crash between committing a change
        and scheduling or posting for it.
        """
        mine = f"{self.core.port.platform}:"  # another platform's bot on this database recovers its own
        with self.core.db.transaction() as s:
            ids = [
                b.id
                for b in s.scalars(
                    select(Breakout).where(
                        Breakout.state == "running", Breakout.workspace.startswith(mine, autoescape=True)
                    )
                )
            ]
        for breakout_id in ids:
            with self.core.db.transaction() as s:
                breakout = s.get(Breakout, breakout_id)
                assert breakout is not None
                expected = len(breakout.groups) * 2
                sent = (
                    s.scalar(
                        select(func.count()).where(
                            Post.breakout_id == breakout_id, Post.state == "sent", Post.step.in_(["welcome", "q0:open"])
                        )
                    )
                    or 0
                )
                index = breakout.question_index
            if sent < expected and index == 0:
                self.open_channels(breakout_id)
            else:
                self._post_question(breakout_id, index)
            pending = {key for key, _ in self.clock.pending(breakout_id)}
            if not pending:
                self._schedule_current(breakout_id)
        with self.core.db.transaction() as s:
            paused = list(
                s.scalars(
                    select(Breakout.id).where(
                        Breakout.state == "paused", Breakout.workspace.startswith(mine, autoescape=True)
                    )
                )
            )
            recent = self.core.now() - dt.timedelta(days=1)
            unfinished = [
                b.id
                for b in s.scalars(
                    select(Breakout).where(
                        Breakout.state == "stopped",
                        Breakout.stopped_at >= recent,
                        Breakout.workspace.startswith(mine, autoescape=True),
                    )
                )
                if (s.scalar(select(func.count()).where(Post.breakout_id == b.id, Post.step == CHANNEL_CLOSED)) or 0)
                < sum(1 for g in b.groups if g.channel_id)
            ]
        for breakout_id in paused:  # a question posted by 'next' while paused may have been cut short
            with self.core.db.transaction() as s:
                index = s.get(Breakout, breakout_id).question_index  # type: ignore[union-attr]
            self._post_question(breakout_id, index)
        for breakout_id in unfinished:  # stopped, but the close posts or the tidying were cut short
            self._wind_up(breakout_id, reason="stopped")
        return ids + paused + unfinished


def require_facilitator(actor: Actor, what: str) -> None:
    if not actor.is_facilitator:
        raise only(Role.FACILITATOR, what)


def require_organiser(actor: Actor, what: str) -> None:
    if not actor.is_organiser:
        raise only(Role.ORGANISER, what)


def _failures(report: FanoutReport | None) -> str:
    if report is None or report.ok:
        return ""
    return " Problems: " + "; ".join(f"group {n}: {why}" for n, why in sorted(report.failures.items())) + "."
