"""At most one post per (breakout, group, step), through crashes and a second process.

A post handed to the platform but never confirmed (the process died between the two) is marked
"sending"; the next attempt finds it in its channel by its key and does not post it again.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from bot.adapters.local import LocalChat
from bot.domain.timeline import Step, StepKind
from bot.services.fanout import Fanout, GroupPost
from bot.services.port import Delivery, MessageKind, Outgoing
from bot.store.models import Breakout, Group, Post
from tests.conftest import PROMPTS
from tests.core.harness import SLOW_PLAN, Call, prompts_copy


class Killed(BaseException):
    """The process dies: nothing after this line of the attempt runs."""


@dataclass
class DyingChat(LocalChat):
    """The platform takes the post; the process dies before it hears back (once, when armed)."""

    die_after_post: bool = False
    hold: float = 0.0  # seconds the platform takes to answer, the post already stored

    def post(self, *, channel_id: str, message: Outgoing) -> Delivery:
        delivery = super().post(channel_id=channel_id, message=message)
        if self.hold:
            time.sleep(self.hold)
        if self.die_after_post:
            self.die_after_post = False
            raise Killed()
        return delivery


@pytest.fixture
def call(database_url, tmp_path):
    c = Call(
        database_url, prompts_copy(tmp_path, PROMPTS, {"slow": SLOW_PLAN}), time_scale=0.02, people=6, chat=DyingChat()
    )
    c.facilitator_types("start slow groups=2")
    yield c
    c.close()


def _group(call: Call, number: int) -> tuple[int, str]:
    with call.app.core.db.transaction() as s:
        group = s.scalar(select(Group).join(Breakout).where(Group.number == number))
        assert group is not None and group.channel_id is not None
        return group.breakout_id, group.channel_id


def _row(call: Call, breakout_id: int, number: int, step: str) -> Post:
    with call.app.core.db.transaction() as s:
        row = s.scalar(
            select(Post).where(Post.breakout_id == breakout_id, Post.group_number == number, Post.step == step)
        )
        assert row is not None
        return row


BROADCAST = GroupPost(Step(StepKind.BROADCAST, token="t1"), Outgoing(MessageKind.BROADCAST, "Five minutes left, all"))


def test_a_post_that_reached_the_platform_before_a_crash_is_found_not_sent_again(call):
    chat: DyingChat = call.chat  # type: ignore[assignment]
    breakout_id, channel = _group(call, 1)
    before = len(call.posts_in(channel))

    chat.die_after_post = True
    with pytest.raises(Killed):
        call.app.lifecycle.fanout.post_once(breakout_id, 1, channel, BROADCAST)
    row = _row(call, breakout_id, 1, BROADCAST.step.key)
    assert row.state == "sending" and row.sending_at is not None and row.message_id is None
    assert len(call.posts_in(channel)) == before + 1  # it is on the platform

    # Recovery, in a new process: the post is looked up by its key and confirmed, not posted again.
    call.restart()
    message_id = call.app.lifecycle.fanout.post_once(breakout_id, 1, channel, BROADCAST)
    posts = call.posts_in(channel)
    assert len(posts) == before + 1
    assert message_id == posts[-1].message_id
    row = _row(call, breakout_id, 1, BROADCAST.step.key)
    assert row.state == "sent" and row.message_id == message_id


def test_a_post_marked_sending_that_never_arrived_is_sent_once(call):
    breakout_id, channel = _group(call, 2)
    before = len(call.posts_in(channel))
    call.app.lifecycle.fanout.post_once(breakout_id, 2, channel, BROADCAST)
    # As if the platform had lost it: the row says "sending", the channel does not have it.
    call.chat.messages[channel].pop()
    with call.app.core.db.transaction() as s:
        row = s.scalar(
            select(Post).where(Post.breakout_id == breakout_id, Post.group_number == 2, Post.step == BROADCAST.step.key)
        )
        row.state, row.message_id = "sending", None

    message_id = call.app.lifecycle.fanout.post_once(breakout_id, 2, channel, BROADCAST)
    again = call.app.lifecycle.fanout.post_once(breakout_id, 2, channel, BROADCAST)
    posts = call.posts_in(channel)
    assert len(posts) == before + 1 and posts[-1].message_id == message_id == again
    assert _row(call, breakout_id, 2, BROADCAST.step.key).state == "sent"


def test_two_fanouts_posting_one_key_at_once_post_it_once(call, database_url):
    """Two fan-outs share no in-process lock, as two processes of a fleet: on PostgreSQL the advisory
    lock keeps the second waiting until the first is confirmed. (SQLite is one process.)"""
    if not database_url.startswith("postgresql"):
        pytest.skip("one process on SQLite")
    chat: DyingChat = call.chat  # type: ignore[assignment]
    chat.hold = 0.5
    breakout_id, channel = _group(call, 1)
    before = len(call.posts_in(channel))
    post = GroupPost(Step(StepKind.BROADCAST, token="t2"), Outgoing(MessageKind.BROADCAST, "Back to the main room"))
    results: list[str | None] = []
    fanouts = [Fanout(call.app.core), Fanout(call.app.core)]
    threads = [
        threading.Thread(target=lambda f=f: results.append(f.post_once(breakout_id, 1, channel, post))) for f in fanouts
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(results) == 2 and results[0] == results[1]
    assert len(call.posts_in(channel)) == before + 1
