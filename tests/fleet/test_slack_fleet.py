"""Three real bot processes (`breakout-bot run slack`) on one PostgreSQL and one Slack workspace.

Slack spreads Socket Mode envelopes over the app's connections, so commands and replies land on
whichever process; exactly one process fires the clock, and after a ``kill -9`` of that one a standby
takes over and every remaining step is posted once in every group.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.sandbox.slack import SlackSandbox
from tests.conftest import PROMPTS, _postgres_url
from tests.core.harness import QUICK_PLAN, prompts_copy
from tests.fleet.processes import BotProcess, bot_env

pytestmark = pytest.mark.skipif(not _postgres_url(), reason="a fleet needs PostgreSQL (BREAKOUT_TEST_DATABASE_URL)")
TIME_SCALE = 0.1  # one-minute questions last 6 s, the warning comes 3 s before the end


@pytest.fixture
def sb() -> Iterator[SlackSandbox]:
    with SlackSandbox(ack_timeout=1.0, connect_wait=5.0) as sandbox:
        yield sandbox


def test_three_processes_run_a_breakout_and_survive_kill_9_of_the_firing_one(
    sb: SlackSandbox, pg_url: str, tmp_path: Path
) -> None:
    fiona = sb.add_user("Fiona Mensah", display_name="Fiona", is_admin=True)
    people = [sb.add_user(f"Person{i} Guest{i}", display_name=f"Person{i}") for i in range(9)]
    home = sb.add_channel("community-call", [fiona, *people])
    prompts = prompts_copy(tmp_path, PROMPTS, {"quick": QUICK_PLAN})
    env = bot_env(sb, pg_url, prompts, time_scale=TIME_SCALE)
    bots: list[BotProcess] = []
    try:
        for _ in range(3):
            bots.append(BotProcess(env))
        sb.wait_until(lambda: len(sb.socket_mode.connections) == 3, timeout=60, message="three connections")
        sb.wait_until(lambda: sum(b.fires for b in bots) == 1, timeout=30, message="one firing process")

        result = fiona.run_command(home, "/breakout", "start quick groups=3")
        sb.wait_until(
            lambda: result.responses and result.responses[-1].text.startswith("Started"),
            timeout=60,
            message="the start's answer",
        )
        groups = sorted(
            (c for c in sb.workspace.channels.values() if c.name.startswith("breakout-")), key=lambda c: c.name
        )
        assert len(groups) == 3
        # Replies land on whichever process holds the envelope; each is kept once.
        for person in people:
            channel = next(g for g in groups if person.id in g.members)
            person.post(channel, f"{person.user.display_name} says the handover was kind.")

        firing = next(b for b in bots if b.fires)
        time.sleep(1.0)  # the first question is up; its warning is still ahead
        firing.kill()
        killed_at = time.monotonic()
        sb.wait_until(
            lambda: sum(b.fires for b in bots if b is not firing) == 1, timeout=15, message="a standby to take over"
        )
        takeover = time.monotonic() - killed_at

        def closed() -> bool:
            return all(any(m["text"].startswith("Time is up") for m in sb.bot_messages(g)) for g in groups)

        sb.wait_until(closed, timeout=60, message="the close in every group")
        time.sleep(1.0)  # anything doubled would show by now
        for g in groups:
            headers = [
                b["text"]["text"]
                for m in sb.bot_messages(g, threads=False)
                for b in m.get("blocks", [])
                if b.get("type") == "header"
            ]
            questions = [h for h in headers if h.startswith("Question")]
            assert len(questions) == 2 and questions[0] != questions[1], (g.name, headers)
            closes = [m for m in sb.bot_messages(g, threads=False) if m["text"].startswith("Time is up")]
            assert len(closes) == 1, g.name
        assert takeover < 15
        engine = create_engine(pg_url)
        try:
            with engine.connect() as conn:
                texts = conn.execute(text("SELECT text FROM quotes")).scalars().all()
        finally:
            engine.dispose()
        assert sorted(texts) == sorted(f"{p.user.display_name} says the handover was kind." for p in people)
    finally:
        for b in bots:
            b.stop()
