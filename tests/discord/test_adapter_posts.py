"""A post on Discord is made once under its key: the nonce (with enforce_nonce) and the history.

Discord keeps a message's nonce only briefly (it answers a repeated one with the message it made) and
does not give it back in history, so recovery matches the bot's own post by its content since the claim.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.adapters.discord.port import DiscordPort
from bot.domain.timeline import Step, StepKind
from bot.sandbox.discord import DiscordSandbox
from bot.services.fanout import GroupPost
from bot.services.port import MessageKind, Outgoing, post_key
from bot.store.models import Group, Post
from tests.conftest import PROMPTS
from tests.core.harness import prompts_copy

from .harness import SLOW_TEXT_ONLY, DiscordCall


@pytest.fixture
def call(sandbox: DiscordSandbox, database_url: str, tmp_path) -> Iterator[DiscordCall]:
    c = DiscordCall(sandbox, database_url, prompts_copy(tmp_path, PROMPTS, {"slow-text": SLOW_TEXT_ONLY}))
    c.fiona.run_command(c.chat, "breakout start", plan="slow-text").wait(messages=1, timeout=15)
    yield c
    c.close()


def _group_one(call: DiscordCall) -> tuple[int, str]:
    assert call.runtime is not None
    with call.runtime.app.core.db.transaction() as s:
        group = s.scalar(select(Group).where(Group.number == 1))
        assert group is not None and group.channel_id is not None
        return group.breakout_id, group.channel_id


def test_a_post_discord_took_before_a_crash_is_found_in_history_not_posted_again(call: DiscordCall) -> None:
    assert call.runtime is not None
    app = call.runtime.app
    port = app.core.port
    assert isinstance(port, DiscordPort)
    breakout_id, channel_id = _group_one(call)
    channel = next(c for c in call.group_channels() if str(c.id) == channel_id)
    post = GroupPost(Step(StepKind.BROADCAST, token="d1"), Outgoing(MessageKind.BROADCAST, "Two minutes, everyone"))
    key = post_key(breakout_id, 1, post.step.key)
    # What a killed process leaves: Discord has the message, the row says "sending".
    started = dt.datetime.now(dt.UTC)
    made = port.post(channel_id=channel_id, message=replace(post.message, key=key))
    with app.core.db.transaction() as s:
        s.add(
            Post(
                breakout_id=breakout_id,
                group_number=1,
                step=post.step.key,
                channel_id=channel_id,
                state="sending",
                posted_at=app.core.now(),
                sending_at=started,
            )
        )
    before = call.bot_posts(channel)

    # History gives no nonce back (as Discord): the bot's own post with that content since the claim is it.
    async def nonce_read_back() -> object:
        assert call.runtime is not None
        fetched = await call.runtime.bot.get_channel(int(channel_id)).fetch_message(int(made.message_id))  # type: ignore[union-attr]
        return fetched.nonce

    assert call.thread is not None and call.thread.call(nonce_read_back()) is None
    assert port.find_post(channel_id=channel_id, key=key, message=post.message, since=started) == made
    assert (
        port.find_post(
            channel_id=channel_id,
            key=key,
            message=post.message,
            since=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1),
        )
        is None
    )
    other = Outgoing(MessageKind.BROADCAST, "Never posted")
    assert (
        port.find_post(channel_id=channel_id, key=post_key(breakout_id, 1, "x"), message=other, since=started) is None
    )

    message_id = app.lifecycle.fanout.post_once(breakout_id, 1, channel_id, post)
    assert message_id == made.message_id
    assert call.bot_posts(channel) == before
    with app.core.db.transaction() as s:
        row = s.scalar(select(Post).where(Post.breakout_id == breakout_id, Post.step == post.step.key))
        assert row is not None and row.state == "sent" and row.message_id == made.message_id


def test_the_same_key_posted_twice_within_minutes_makes_one_message(call: DiscordCall) -> None:
    """The nonce derived from the key, with enforce_nonce: Discord answers with the message it made."""
    assert call.runtime is not None
    port = call.runtime.app.core.port
    breakout_id, channel_id = _group_one(call)
    channel = next(c for c in call.group_channels() if str(c.id) == channel_id)
    message = Outgoing(MessageKind.BROADCAST, "Back to the main room in one minute")
    before = len(call.bot_posts(channel))
    keyed = replace(message, key=post_key(breakout_id, 1, "broadcast:d2"))
    first = port.post(channel_id=channel_id, message=keyed)
    again = port.post(channel_id=channel_id, message=keyed)
    assert first == again
    assert len(call.bot_posts(channel)) == before + 1
    # Another key is another post, even with the same words.
    third = port.post(channel_id=channel_id, message=replace(message, key=post_key(breakout_id, 1, "broadcast:d3")))
    assert third != first and len(call.bot_posts(channel)) == before + 2
