"""A slash command runs once: the same signed request sent again within Slack's 5-minute signature
window (a replay) is acknowledged and does nothing, in HTTP mode and in Socket Mode alike."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

from bot.sandbox.slack import SlackSandbox, sign
from bot.sandbox.slack.delivery import SLASH_COMMANDS, Delivery
from bot.sandbox.slack.http_mode import encode
from bot.sandbox.slack.sandbox import VERIFICATION_TOKEN
from bot.services.context import Core
from bot.services.messages import MessageBook
from bot.services.plans import PlanLibrary
from bot.services.replay import KEEP, HandledRequests
from bot.store.database import Database

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"


def question_posts(call, number: int) -> list[int]:
    """How many times each group channel was shown question ``number``."""
    return [len(call.posts(c, header=f"Question {number} of")) for c in call.group_channels()]


def signed_command(sb: SlackSandbox, user, channel, text: str) -> tuple[dict, dict[str, str]]:
    """A /breakout payload as Slack sends it, and its headers, signed once (what an attacker would copy)."""
    token = sb._new_response_url("command", user.id, channel.id)
    payload = {
        "token": VERIFICATION_TOKEN,
        "team_id": sb.team_id,
        "team_domain": sb.workspace.team_domain,
        "channel_id": channel.id,
        "channel_name": channel.name,
        "user_id": user.id,
        "user_name": user.name,
        "command": "/breakout",
        "text": text,
        "api_app_id": sb.workspace.app_id,
        "is_enterprise_install": "false",
        "response_url": f"{sb.base_url}response/{token}",
        "trigger_id": f"{int(time.time())}.123456789.{token[:8]}",
    }
    body, content_type = encode(Delivery(kind=SLASH_COMMANDS, payload=payload))
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign(sb.signing_secret, timestamp, body),
    }
    return payload, headers


def test_a_signed_next_replayed_four_times_over_http_moves_the_breakout_once(call_factory) -> None:
    call = call_factory(mode="http")
    started = call.answer(call.breakout("start team-retro-chatham-house groups=3"))  # three questions
    assert started.startswith("Started What made this year hard"), started
    assert question_posts(call, 1) == [1, 1, 1]
    payload, headers = signed_command(call.sb, call.fiona, call.home, "next")
    answers = [call.sb.send_raw(SLASH_COMMANDS, payload, headers=headers) for _ in range(5)]  # the original + 4
    assert [status for status, _ in answers] == [200] * 5
    assert [body for _, body in answers[1:]] == [""] * 4  # a replay is acked with nothing to show
    call.sb.wait_until(lambda: question_posts(call, 2) == [1, 1, 1], timeout=10, message="question 2 in every group")
    time.sleep(1.5)  # room for any replay that got through to post question 3
    assert question_posts(call, 2) == [1, 1, 1]
    assert question_posts(call, 3) == [0, 0, 0]
    # A new /breakout next (a new trigger_id) still moves it on.
    call.answer(call.breakout("next"))
    call.sb.wait_until(lambda: question_posts(call, 3) == [1, 1, 1], timeout=10, message="question 3 in every group")


def test_a_command_envelope_sent_again_over_socket_mode_runs_once(call_factory) -> None:
    call = call_factory(mode="socket")
    call.answer(call.breakout("start team-retro-chatham-house groups=2"))
    first = call.breakout("next")
    call.answer(first)
    for _ in range(3):  # one after the other: the sandbox matches an ack to its envelope by id
        assert call.sb.redeliver(first.delivery).wait(5)  # acked, so whoever replays hears "got it"
    time.sleep(1.5)
    assert question_posts(call, 2) == [1, 1]
    assert question_posts(call, 3) == [0, 0]


def _handled(url: str, now: list[dt.datetime]) -> tuple[HandledRequests, Database]:
    db = Database(url)
    core = Core(
        db=db,
        port=None,  # type: ignore[arg-type]  # not asked for: this service only uses the database
        plans=PlanLibrary(PROMPTS),
        messages=MessageBook(PROMPTS),
        now=lambda: now[0],
    )
    return HandledRequests(core), db


def test_first_time_once_per_key_even_when_deliveries_race(database_url: str) -> None:
    now = [dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)]
    handled, db = _handled(database_url, now)
    other, other_db = _handled(database_url, now)  # a second process on the same database
    try:
        assert handled.first_time("slack:T1:trigger:1") is True
        assert handled.first_time("slack:T1:trigger:1") is False
        assert other.first_time("slack:T1:trigger:1") is False
        assert other.first_time("slack:T1:trigger:2") is True
        results: list[bool] = []
        start = threading.Barrier(8)

        def deliver(service: HandledRequests) -> None:
            start.wait()
            results.append(service.first_time("slack:T1:trigger:raced"))

        threads = [threading.Thread(target=deliver, args=(handled if i % 2 else other,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [False] * 7 + [True]
    finally:
        db.dispose()
        other_db.dispose()


def test_handled_ids_are_pruned_after_the_signature_window(database_url: str) -> None:
    from sqlalchemy import func, select

    from bot.store.models import HandledRequest

    now = [dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)]
    handled, db = _handled(database_url, now)
    try:
        assert handled.first_time("old") is True
        now[0] += KEEP + dt.timedelta(minutes=1)
        assert handled.first_time("new") is True
        with db.transaction() as session:
            kept = session.scalars(select(HandledRequest.id)).all()
            assert kept == ["new"], kept
            assert session.scalar(select(func.count()).select_from(HandledRequest)) == 1
    finally:
        db.dispose()


def test_http_mode_serves_a_burst_on_a_pool_sized_for_its_threads(sb: SlackSandbox, tmp_path: Path) -> None:
    """waitress, with BREAKOUT_HTTP_THREADS threads and a deep backlog: 100 signed requests at once
    are all answered, and the database pool has a connection for each thread."""
    import asyncio

    import aiohttp

    from bot.adapters.slack.runner import SlackBot
    from bot.config import Settings

    settings = Settings.from_mapping(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'burst.db'}",
            "BREAKOUT_PROMPTS_DIR": str(PROMPTS),
            "SLACK_BOT_TOKEN": sb.bot_token,
            "SLACK_SIGNING_SECRET": sb.signing_secret,
            "SLACK_API_URL": sb.api_url,
            "SLACK_MODE": "http",
            "BREAKOUT_HTTP_THREADS": "6",
        }
    )
    assert settings.http_backlog == 1024
    with SlackBot(settings, http_host="127.0.0.1", http_port=0, clock_name=f"burst-{tmp_path.name}") as bot:
        assert bot.core.db.engine.pool.size() == 6 + 4  # type: ignore[attr-defined]
        body = b'{"token": "t", "challenge": "c-1", "type": "url_verification"}'

        async def burst() -> list[tuple[int, str]]:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=True)) as session:

                async def one() -> tuple[int, str]:
                    timestamp = str(int(time.time()))
                    headers = {
                        "Content-Type": "application/json",
                        "X-Slack-Request-Timestamp": timestamp,
                        "X-Slack-Signature": sign(sb.signing_secret, timestamp, body),
                    }
                    async with session.post(bot.url or "", data=body, headers=headers) as resp:
                        return resp.status, await resp.text()

                return await asyncio.gather(*(one() for _ in range(100)))

        answers = asyncio.run(burst())
        assert len(answers) == 100 and all(status == 200 and "c-1" in text for status, text in answers), answers
