"""Kills aimed at posts in flight: no post doubled when the firing process dies mid-post.

Three real bot processes (`python -m bot run slack`) on one PostgreSQL and the Slack sandbox. The
sandbox stores each `chat.postMessage` at once but holds its answer, so the firing process is killed
(SIGKILL) after Slack has the post and before the process could mark it sent. The standby that takes
over finds the post in the channel's history by its metadata key and does not post it again.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bot.sandbox.slack import SlackSandbox
from tests.conftest import PROMPTS, _postgres_url
from tests.core.harness import QUICK_PLAN, prompts_copy
from tests.fleet.processes import BotProcess, bot_env

pytestmark = pytest.mark.skipif(not _postgres_url(), reason="a fleet needs PostgreSQL (BREAKOUT_TEST_DATABASE_URL)")
TIME_SCALE = 0.2  # one-minute questions last 12 s, the warning comes 6 s before the end
HOLD = 3.0  # seconds the sandbox holds chat.postMessage's answer, the message already stored
GROUPS = 3


@pytest.fixture
def sb() -> Iterator[SlackSandbox]:
    with SlackSandbox(ack_timeout=1.0, connect_wait=5.0) as sandbox:
        yield sandbox


def _key(message: dict[str, Any]) -> str | None:
    meta = message.get("metadata") or {}
    return (meta.get("event_payload") or {}).get("key")


def _headers(message: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in message.get("blocks", []) if b.get("type") == "header"]


def test_kill_9_while_posts_are_in_flight_doubles_nothing(sb: SlackSandbox, pg_url: str, tmp_path: Path) -> None:
    fiona = sb.add_user("Fiona Mensah", display_name="Fiona", is_admin=True)
    people = [sb.add_user(f"Person{i} Guest{i}", display_name=f"Person{i}") for i in range(3 * GROUPS)]
    home = sb.add_channel("community-call", [fiona, *people])
    env = bot_env(sb, pg_url, prompts_copy(tmp_path, PROMPTS, {"quick": QUICK_PLAN}), time_scale=TIME_SCALE)
    bots: list[BotProcess] = []
    killed: list[BotProcess] = []
    try:
        for _ in range(3):
            bots.append(BotProcess(env))
        sb.wait_until(lambda: len(sb.socket_mode.connections) == 3, timeout=60, message="three connections")
        sb.wait_until(lambda: sum(b.fires for b in bots) == 1, timeout=30, message="one firing process")

        result = fiona.run_command(home, "/breakout", f"start quick groups={GROUPS}")
        sb.wait_until(
            lambda: result.responses and result.responses[-1].text.startswith("Started"),
            timeout=60,
            message="the start's answer",
        )
        groups = sorted(
            (c for c in sb.workspace.channels.values() if c.name.startswith("breakout-")), key=lambda c: c.name
        )
        assert len(groups) == GROUPS

        def kill_firing_when(posted: Callable[[dict[str, Any]], bool], what: str) -> None:
            """Hold chat.postMessage's answers; kill -9 the firing process once Slack has such a post
            and its answer is still held; wait for a standby to take over."""
            firing = next(b for b in bots if b.fires and b not in killed)
            fault = sb.faults.hold("chat.postMessage", HOLD)
            sb.wait_until(
                lambda: any(posted(m) for g in groups for m in sb.bot_messages(g, threads=False)),
                timeout=60,
                message=what,
            )
            assert sb._in_flight.get("chat.postMessage", 0) > 0  # its answer has not gone back yet
            firing.kill()
            killed.append(firing)
            fault.times = 0  # the standby's posts go through at once
            sb.wait_until(
                lambda: sum(b.fires for b in bots if b not in killed) == 1, timeout=15, message="a standby to fire"
            )

        kill_firing_when(lambda m: "Question 2 of 2" in _headers(m), "question 2 in a group channel")
        kill_firing_when(lambda m: m["text"].startswith("Time is up"), "the close in a group channel")

        def closed() -> bool:
            return all(any(m["text"].startswith("Time is up") for m in sb.bot_messages(g)) for g in groups)

        sb.wait_until(closed, timeout=90, message="the close in every group")
        time.sleep(2.0)  # anything doubled would show by now

        for g in groups:
            posts = sb.bot_messages(g, threads=False)
            keys = Counter(k for k in (_key(m) for m in posts) if k is not None)
            assert [k for k, n in keys.items() if n > 1] == [], (g.name, keys)  # 0 doubled
            questions = [h for m in posts for h in _headers(m) if h.startswith("Question")]
            assert sorted(questions) == ["Question 1 of 2", "Question 2 of 2"], (g.name, questions)
            assert sum(m["text"].startswith("Time is up") for m in posts) == 1, g.name
        # The scenario happened: a standby found a post the killed process had made and did not confirm.
        survivors_log = "".join(line for b in bots if b not in killed for line in b.log)
        assert "was already in its channel" in survivors_log
        engine = create_engine(pg_url)
        try:
            with engine.connect() as conn:
                states = conn.execute(text("SELECT state, count(*) FROM posts GROUP BY state")).all()
        finally:
            engine.dispose()
        assert {state for state, _ in states} == {"sent"}, states
    finally:
        for b in bots:
            b.stop()
