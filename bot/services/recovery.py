"""After a restart: finish what a crash interrupted.

The clock's jobs survive in the job store; this covers a crash between committing a change and
scheduling or posting for it. Every action here is idempotent (channels are reused, posts are claimed
under their keys, a tidied channel is marked), so running it after a clean shutdown does nothing.
A group whose close failed (marked failed, not sent) is tried again here and then on the clock.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bot.domain.breakout import Phase
from bot.domain.timeline import Step, StepKind
from bot.services.fanout import CHANNEL_CLOSED
from bot.services.lifecycle import Lifecycle
from bot.store.models import Breakout, Post

# A breakout stopped longer ago than this is not tidied any more: its channels are left as they are.
TIDY_WITHIN = dt.timedelta(days=1)
# What every group gets when its channel opens; fewer sent means the start was cut short.
CLOSE_STEP = Step(StepKind.CLOSE).key
OPENING_STEPS = (Step(StepKind.WELCOME).key, Step(StepKind.OPEN, 0).key)


class Recovery:
    def __init__(self, lifecycle: Lifecycle):
        self.lifecycle = lifecycle
        self.core = lifecycle.core

    def run(self) -> list[int]:
        """Missing channels and posts, the open question's steps, and stops cut short; the ids touched."""
        mine = f"{self.core.port.platform}:"  # another platform's bot on this database recovers its own
        lc = self.lifecycle
        with self.core.db.transaction() as s:
            running = self._ids(s, mine, Phase.RUNNING)
        for breakout_id in running:
            with self.core.db.transaction() as s:
                breakout = _breakout(s, breakout_id)
                expected = len(breakout.groups) * len(OPENING_STEPS)
                sent = _count(s, Post.breakout_id == breakout_id, Post.state == "sent", Post.step.in_(OPENING_STEPS))
                index = breakout.question_index
            if sent < expected and index == 0:
                lc.open_channels(breakout_id)
            else:
                lc.post_question(breakout_id, index)
            # Always, not only when nothing is pending: the clock drops a job as it starts it, so a step
            # that was running when the firing process died (a warning, say) is in no store any more.
            # Steps already posted are claimed under their keys and post nothing again.
            lc.schedule_current(breakout_id)
        with self.core.db.transaction() as s:
            paused = self._ids(s, mine, Phase.PAUSED)
            recent = self.core.now() - TIDY_WITHIN
            unfinished = [
                b.id
                for b in s.scalars(
                    select(Breakout).where(
                        Breakout.state == Phase.STOPPED.value,
                        Breakout.stopped_at >= recent,
                        Breakout.workspace.startswith(mine, autoescape=True),
                    )
                )
                if min(
                    _count(s, Post.breakout_id == b.id, Post.step == step, Post.state == "sent")
                    for step in (CHANNEL_CLOSED.key, CLOSE_STEP)
                )
                < sum(1 for g in b.groups if g.channel_id)
            ]
        for breakout_id in paused:  # a question posted by 'next' while paused may have been cut short
            with self.core.db.transaction() as s:
                index = _breakout(s, breakout_id).question_index
            lc.post_question(breakout_id, index)
        for breakout_id in unfinished:  # stopped, but the close posts or the tidying were cut short or failed:
            lc.wind_up(breakout_id, reason="stopped")  # what fails again goes on the clock, with backoff
        return running + paused + unfinished

    @staticmethod
    def _ids(s: Session, prefix: str, phase: Phase) -> list[int]:
        return list(
            s.scalars(
                select(Breakout.id)
                .where(Breakout.state == phase.value, Breakout.workspace.startswith(prefix, autoescape=True))
                .order_by(Breakout.id)
            )
        )


def _breakout(s: Session, breakout_id: int) -> Breakout:
    breakout = s.get(Breakout, breakout_id)
    assert breakout is not None, f"breakout {breakout_id} is gone"
    return breakout


def _count(s: Session, *where: ColumnElement[bool]) -> int:
    return s.scalar(select(func.count()).select_from(Post).where(*where)) or 0
