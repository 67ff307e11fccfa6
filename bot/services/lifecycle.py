"""The breakout's use cases: start, skip ahead, extend, pause, resume, broadcast, stop, and the clock's steps.

State lives in the database and every change is a short transaction with optimistic locking
(``Breakout.version``), so a scheduled step and a facilitator's command that race cannot both win. What a
move does to the state is decided in ``bot.domain.breakout``; posting to the groups happens after the
state is committed, through ``Fanout``, which claims each post under its idempotency key. Finishing
what a crash interrupted is ``bot.services.recovery``; the words of a status are ``bot.services.status``.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bot.domain import grouping
from bot.domain.breakout import BreakoutState, Due, Phase, channel_name, question_seconds, what_is_due
from bot.domain.plan import Plan
from bot.domain.timeline import Step, StepKind, question_steps, seconds
from bot.scheduling.clock import Clock
from bot.services.access import require_facilitator
from bot.services.context import Actor, Core
from bot.services.errors import BadArguments, IllegalMove
from bot.services.fanout import Fanout, GroupPost, Progress, group_requests
from bot.services.locator import Purpose, locate_breakout
from bot.services.port import FanoutReport, GroupChannelRequest, MessageKind, Outgoing, PersonInfo
from bot.services.status import GroupStatus, Status, describe_problems, format_duration
from bot.store import repository as repo
from bot.store.models import Breakout, Group, Membership, Person

# The longest extension one command may add, in minutes.
MAX_EXTEND_MINUTES = 240


@dataclass(frozen=True)
class StartResult:
    breakout_id: int
    title: str
    groups: tuple[tuple[int, tuple[str, ...]], ...]  # (number, member user ids)
    report: FanoutReport

    def describe(self) -> str:
        sizes = ", ".join(str(len(m)) for _, m in self.groups)
        return (
            f"Started {self.title} (breakout {self.breakout_id}): {len(self.groups)} groups ({sizes} people). "
            f"{self.report.describe()}."
        )


def state_of(breakout: Breakout, plan: Plan) -> BreakoutState:
    return BreakoutState(
        phase=Phase(breakout.state),
        question=breakout.question_index,
        question_count=len(plan.questions),
        round=breakout.round,
        opened_at=breakout.question_opened_at,
        ends_at=breakout.question_ends_at,
        paused_left=breakout.paused_remaining,
    )


def _store(breakout: Breakout, state: BreakoutState) -> None:
    """Write a new state onto the row; unchanged columns are not written (nor is the version bumped)."""
    breakout.state = state.phase.value
    breakout.question_index = state.question
    breakout.round = state.round
    breakout.question_opened_at = state.opened_at
    breakout.question_ends_at = state.ends_at
    breakout.paused_remaining = state.paused_left


def _load(s: Session, breakout_id: int) -> tuple[Breakout, Plan]:
    loaded = repo.breakout_with_plan(s, breakout_id)
    assert loaded is not None, f"breakout {breakout_id} is gone"
    return loaded


log = logging.getLogger(__name__)


def _names_in_use(s: Session, *, workspace: str, besides: int) -> set[str]:
    """Group channel names held by the workspace's other running (or paused) breakouts."""
    return set(
        s.scalars(
            select(Group.name)
            .join(Breakout, Group.breakout_id == Breakout.id)
            .where(Breakout.workspace == workspace, Breakout.state != Phase.STOPPED.value, Breakout.id != besides)
        )
    )


# A close step that failed (a person could not be moved back, Discord was down) is tried again after
# these many seconds, doubling up to the last, until it is done.
TIDY_RETRY_FIRST = 5.0
TIDY_RETRY_MOST = 300.0
TIDY_GIVE_UP = dt.timedelta(days=1)  # as recovery: a breakout stopped longer ago is left as it is


class Lifecycle:
    def __init__(self, core: Core, clock: Clock):
        self.core = core
        self.clock = clock
        self.fanout = Fanout(core)
        self._tidy_attempts: dict[int, int] = {}  # breakout -> close retries so far (for the backoff)

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
            raise BadArguments("Give either a number of groups or a group size, not both.")
        for name, value in (("groups", groups), ("size", size), ("minutes", minutes)):
            if value is not None and value <= 0:
                raise BadArguments(f"The {name} option must be a positive number (got {value:g}).")
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
                "facilitators and bots. Invite people to the channel, or start again with the include-facilitators "
                "option to put facilitators into groups too."
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
                rows: dict[str, Person] = {}
                for p in (*people, *facilitators):  # facilitators kept out of the groups are people too
                    if p.user_id not in rows:
                        rows[p.user_id] = repo.upsert_person(
                            s,
                            workspace=actor.workspace,
                            user_id=p.user_id,
                            full_name=p.full_name,
                            first_name=p.first_name,
                            display_name=p.display_name,
                        )
                met: set[tuple[int, int]] = set()
                if plan.grouping.avoid_repeats:
                    met = repo.pairs_met_before(
                        s, workspace=actor.workspace, series=plan.series, people=[rows[p.user_id].id for p in people]
                    )
                by_id = {rows[p.user_id].id: p.user_id for p in people}
                split = grouping.split(list(by_id), size=size, count=groups, rng=self.core.rng, met_before=met)
                duration = question_seconds(plan, 0, minutes_override=minutes, time_scale=self.core.time_scale)
                breakout = Breakout(
                    workspace=actor.workspace,
                    home_channel=home_channel,
                    active_key=active_key,
                    plan_slug=plan.slug,
                    plan=plan.to_dict(),
                    title=plan.title,
                    series=plan.series,
                    state=Phase.RUNNING.value,
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
                taken = _names_in_use(s, workspace=actor.workspace, besides=breakout.id)
                for number, person_ids in enumerate(split, start=1):
                    name = channel_name(plan.slug, number)
                    if name in taken:  # another running breakout of this plan has it: this one gets its own
                        name = channel_name(plan.slug, number, breakout_id=breakout.id)
                    group = Group(breakout_id=breakout.id, number=number, name=name)
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
        self.schedule_current(breakout_id)
        return StartResult(breakout_id, plan.title, layout, report)

    def open_channels(self, breakout_id: int, *, progress: Progress | None = None) -> FanoutReport:
        """Make or reuse every group's channel, then post the welcome and the open question.

        Safe to run again (recovery after a crash): channels are reused and posts are idempotent.
        """
        with self.core.db.transaction() as s:
            breakout, plan = _load(s, breakout_id)
            requests = group_requests(s, breakout, plan)
            question = breakout.question_index
        opening = self._question_post(plan, question, breakout_id)

        def posts(request: GroupChannelRequest) -> list[GroupPost]:
            welcome = self.core.messages.render(
                "welcome",
                plan,
                group=request.number,
                title=plan.title,
                group_size=len(request.members),
                groups=len(requests),
            )
            message = Outgoing(
                MessageKind.WELCOME,
                welcome,
                title=plan.title,
                consent_options=self.core.messages.consent_options(),
                breakout_id=breakout_id,
            )
            return [GroupPost(Step(StepKind.WELCOME), message), opening]

        return self.fanout.open_channels(breakout_id, requests, posts, progress=progress)

    def _question_post(self, plan: Plan, index: int, breakout_id: int) -> GroupPost:
        q = plan.questions[index]
        text = self.core.messages.render(
            "question", plan, question=q.text, number=index + 1, count=len(plan.questions), minutes=q.minutes
        )
        message = Outgoing(
            MessageKind.QUESTION, text, title=f"Question {index + 1} of {len(plan.questions)}", breakout_id=breakout_id
        )
        return GroupPost(Step(StepKind.OPEN, index), message, question_index=index)

    # ----- the facilitator's commands ------------------------------------------------------------

    def _steerable(
        self, actor: Actor, channel_id: str | None, breakout_id: int | None, what: str
    ) -> tuple[Breakout, Plan]:
        """The breakout to steer, detached from its session, with its plan; refused once it has ended."""
        require_facilitator(actor, what)
        with self.core.db.transaction() as s:
            breakout = locate_breakout(s, actor, purpose=Purpose.STEER, breakout_id=breakout_id, channel_id=channel_id)
            if breakout.state == Phase.STOPPED:
                raise IllegalMove(
                    f"Breakout {breakout.id} ({breakout.title}) has already ended, so you cannot {what}. "
                    "Start a new one with /breakout start PLAN."
                )
            plan = repo.plan_of(breakout)
            s.expunge(breakout)
            return breakout, plan

    def advance(self, actor: Actor, *, channel_id: str | None = None, breakout_id: int | None = None) -> str:
        breakout, plan = self._steerable(actor, channel_id, breakout_id, "skip ahead")
        count = len(plan.questions)
        if state_of(breakout, plan).on_last_question:
            report = self._close(breakout.id, reason="skipped")
            return f"That was the last question, so {breakout.title} has ended." + describe_problems(report)
        report = self._open_question(breakout.id, expected=breakout.question_index)
        if report is None:
            return "The breakout moved on at the same moment; see /breakout status."
        return f"Moved to question {breakout.question_index + 2} of {count}." + describe_problems(report)

    def extend(
        self, actor: Actor, *, minutes: float, channel_id: str | None = None, breakout_id: int | None = None
    ) -> str:
        if minutes <= 0 or minutes > MAX_EXTEND_MINUTES:
            raise BadArguments(
                f"Extend by a number of minutes between 1 and {MAX_EXTEND_MINUTES}, e.g. /breakout extend 5."
            )
        breakout, _ = self._steerable(actor, channel_id, breakout_id, "extend it")
        extra = seconds(minutes, breakout.time_scale)
        try:
            with self.core.db.transaction() as s:
                row, plan = _load(s, breakout.id)
                state = state_of(row, plan).extended(extra)
                _store(row, state)
                left = state.seconds_left(self.core.now()) or 0.0  # as committed, before the posting
        except StaleDataError:
            raise IllegalMove("The breakout changed at the same moment; try again.") from None
        if state.phase is Phase.RUNNING:
            self.clock.cancel_breakout(breakout.id)
            self.schedule_current(breakout.id)
        note = f"The facilitator added {minutes:g} minute{'s' if minutes != 1 else ''} to this question."
        self.fanout.post_to_groups(
            breakout.id,
            GroupPost(
                Step(StepKind.EXTEND, state.question, round=state.round),
                Outgoing(MessageKind.BROADCAST, note, breakout_id=breakout.id),
                question_index=state.question,
            ),
        )
        return f"Question {state.question + 1} now has {format_duration(left)} left."

    def pause(self, actor: Actor, *, channel_id: str | None = None, breakout_id: int | None = None) -> str:
        breakout, _ = self._steerable(actor, channel_id, breakout_id, "pause it")
        if breakout.state == Phase.PAUSED:
            raise IllegalMove("The breakout is already paused; /breakout resume carries on.")
        try:
            with self.core.db.transaction() as s:
                loaded = repo.breakout_with_plan(s, breakout.id)
                if loaded is None or not state_of(*loaded).can_pause:
                    raise IllegalMove(
                        "The breakout is not running now (it was paused or ended meanwhile); see /breakout status."
                    )
                row, plan = loaded
                state = state_of(row, plan).paused(self.core.now())
                _store(row, state)
        except StaleDataError:
            raise IllegalMove("The breakout moved on at that moment; try /breakout pause again.") from None
        self.clock.cancel_breakout(breakout.id)
        left = format_duration(state.paused_left or 0.0)
        return f"Paused with {left} left on question {breakout.question_index + 1}. /breakout resume carries on."

    def resume(self, actor: Actor, *, channel_id: str | None = None, breakout_id: int | None = None) -> str:
        breakout, _ = self._steerable(actor, channel_id, breakout_id, "resume it")
        if breakout.state != Phase.PAUSED:
            raise IllegalMove("The breakout is not paused.")
        with self.core.db.transaction() as s:
            row, plan = _load(s, breakout.id)
            before = state_of(row, plan)
            _store(row, before.resumed(self.core.now()))
        self.schedule_current(breakout.id)
        left = format_duration(before.paused_left or 0.0)
        return f"Resumed: {left} left on question {breakout.question_index + 1}."

    def broadcast(
        self, actor: Actor, *, text: str, channel_id: str | None = None, breakout_id: int | None = None
    ) -> str:
        text = text.strip()
        if not text:
            raise BadArguments("Say what to broadcast: /breakout broadcast Five minutes left, please wrap up.")
        breakout, plan = self._steerable(actor, channel_id, breakout_id, "broadcast")
        message = self.core.messages.render("broadcast", plan, text=text)
        # Each broadcast is its own step: two sent at the same moment are two posts, not one.
        report = self.fanout.post_to_groups(
            breakout.id,
            GroupPost(
                Step(StepKind.BROADCAST, token=uuid.uuid4().hex[:16]),
                Outgoing(MessageKind.BROADCAST, message, title="From the facilitator", breakout_id=breakout.id),
                question_index=breakout.question_index,
            ),
        )
        return f"Sent to {report.total - len(report.failures)} of {report.total} groups." + describe_problems(report)

    def stop(self, actor: Actor, *, channel_id: str | None = None, breakout_id: int | None = None) -> str:
        breakout, _ = self._steerable(actor, channel_id, breakout_id, "stop it")
        report = self._close(breakout.id, reason="stopped")
        if report is None:
            return (
                f"{breakout.title} (breakout {breakout.id}) had just ended on its own. Organisers can pull "
                f"the write-up with /summary {breakout.id}."
            )
        return (
            f"Stopped {breakout.title} (breakout {breakout.id}). Organisers can now pull the write-up with "
            f"/summary {breakout.id}." + describe_problems(report)
        )

    def status(self, actor: Actor, *, channel_id: str | None = None, breakout_id: int | None = None) -> Status:
        with self.core.db.transaction() as s:
            breakout = locate_breakout(s, actor, purpose=Purpose.STEER, breakout_id=breakout_id, channel_id=channel_id)
            plan = repo.plan_of(breakout)
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
            index = min(breakout.question_index, len(plan.questions) - 1)
            return Status(
                breakout.id,
                breakout.title,
                breakout.plan_slug,
                breakout.state,
                index + 1,
                len(plan.questions),
                plan.questions[index].text,
                state_of(breakout, plan).seconds_left(self.core.now()),
                groups,
                sum(1 for m, _ in people if m.role == "participant"),
                sum(counts.values()),
            )

    # ----- the clock -----------------------------------------------------------------------------

    def schedule_current(self, breakout_id: int) -> None:
        """Put the open question's remaining steps on the clock (replacing any earlier ones)."""
        with self.core.db.transaction() as s:
            breakout, plan = _load(s, breakout_id)
            if breakout.state != Phase.RUNNING or breakout.question_ends_at is None:
                return
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
        if step.kind is StepKind.CHANNEL_CLOSED:  # a close step that failed, tried again
            self.tidy(breakout_id)
            return
        with self.core.db.transaction() as s:
            loaded = repo.breakout_with_plan(s, breakout_id)
            if loaded is None:
                return
            breakout, plan = loaded
            state = state_of(breakout, plan)
        due = what_is_due(state, step, self.core.now())
        if due is Due.WARN:
            self._warn(breakout_id, plan, step)
        elif due is Due.RESCHEDULE:
            self.schedule_current(breakout_id)
        elif due is Due.OPEN_NEXT:
            self._open_question(breakout_id, expected=state.question)
        elif due is Due.REPOST_OPEN:
            self.post_question(breakout_id, state.question)
            self.schedule_current(breakout_id)
        elif due is Due.CLOSE:
            self._close(breakout_id, reason="time")

    def _warn(self, breakout_id: int, plan: Plan, step: Step) -> FanoutReport:
        minutes = step.warning_minutes or 0
        text = self.core.messages.render(
            "warning",
            plan,
            minutes=int(minutes) if minutes == int(minutes) else minutes,
            number=(step.question or 0) + 1,
        )
        return self.fanout.post_to_groups(
            breakout_id,
            GroupPost(step, Outgoing(MessageKind.WARNING, text, breakout_id=breakout_id), question_index=step.question),
        )

    def _open_question(self, breakout_id: int, *, expected: int) -> FanoutReport | None:
        """Move from question ``expected`` to the next one; None if someone else already did."""
        try:
            with self.core.db.transaction() as s:
                breakout, plan = _load(s, breakout_id)
                if breakout.state == Phase.STOPPED or breakout.question_index != expected:
                    return None
                duration = question_seconds(
                    plan, expected + 1, minutes_override=breakout.minutes_override, time_scale=breakout.time_scale
                )
                _store(breakout, state_of(breakout, plan).advanced(self.core.now(), duration))
        except StaleDataError:
            return None  # a concurrent step or command moved the breakout first
        self.clock.cancel_breakout(breakout_id)
        report = self.post_question(breakout_id, expected + 1)
        self.schedule_current(breakout_id)
        return report

    def post_question(self, breakout_id: int, index: int) -> FanoutReport:
        """Post question ``index`` to every group that does not have it yet."""
        with self.core.db.transaction() as s:
            _, plan = _load(s, breakout_id)
        return self.fanout.post_to_groups(breakout_id, self._question_post(plan, index, breakout_id))

    def _close(self, breakout_id: int, *, reason: str, attempts: int = 5) -> FanoutReport | None:
        """End the breakout; None if it had already ended. A concurrent change (a step firing at
        the same moment) makes the commit stale: the close is tried again on the fresh state."""
        try:
            with self.core.db.transaction() as s:
                loaded = repo.breakout_with_plan(s, breakout_id)
                if loaded is None or loaded[0].state == Phase.STOPPED:
                    return None
                breakout, plan = loaded
                _store(breakout, state_of(breakout, plan).stopped())
                breakout.active_key, breakout.stopped_at = None, self.core.now()
        except StaleDataError:
            if attempts <= 1:
                raise IllegalMove(
                    "The breakout kept changing while I tried to end it; try /breakout stop again."
                ) from None
            return self._close(breakout_id, reason=reason, attempts=attempts - 1)
        self.clock.cancel_breakout(breakout_id)
        return self.wind_up(breakout_id, reason=reason)

    def wind_up(self, breakout_id: int, *, reason: str) -> FanoutReport:
        """After the stop is committed: the close message in every group, then each channel tidied.

        Both are done once per group (the close post's key; a 'channel closed' marker), so recovery
        after a crash in the middle finishes the job without repeating any of it.
        """
        with self.core.db.transaction() as s:
            _, plan = _load(s, breakout_id)
        text = self.core.messages.render("close", plan, title=plan.title, reason=reason)
        report = self.fanout.post_to_groups(
            breakout_id, GroupPost(Step(StepKind.CLOSE), Outgoing(MessageKind.CLOSE, text, breakout_id=breakout_id))
        )
        self.tidy(breakout_id, report)
        return report

    def tidy(self, breakout_id: int, report: FanoutReport | None = None) -> bool:
        """Each group's close steps that are not done yet; what failed goes back on the clock with
        a growing wait, so a person who hung up or an outage never leaves a room behind. True when
        every group is tidied."""
        report = report if report is not None else FanoutReport(total=0)
        left = self.fanout.close_channels(breakout_id, report)
        if not left:
            self._tidy_attempts.pop(breakout_id, None)
            return True
        attempt = self._tidy_attempts.get(breakout_id, 0)
        self._tidy_attempts[breakout_id] = attempt + 1
        with self.core.db.transaction() as s:
            breakout, _ = _load(s, breakout_id)
            scale = min(1.0, breakout.time_scale or 1.0)  # a compressed run (demo, tests) retries sooner
            stopped_at = breakout.stopped_at
        if stopped_at is not None and self.core.now() - stopped_at > TIDY_GIVE_UP:
            log.warning("breakout %s: groups %s still not tidied after a day; giving up", breakout_id, left)
            self._tidy_attempts.pop(breakout_id, None)
            return False
        wait = min(TIDY_RETRY_MOST, TIDY_RETRY_FIRST * 2**attempt) * scale
        step = Step(StepKind.CHANNEL_CLOSED)
        log.info("breakout %s: groups %s not tidied yet; trying again in %ss", breakout_id, left, wait)
        self.clock.schedule(
            breakout_id, slot=step.job_slot, step_key=step.key, at=self.core.now() + dt.timedelta(seconds=wait)
        )
        return False
