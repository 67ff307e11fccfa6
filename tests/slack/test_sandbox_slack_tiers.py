"""Slack's rate tiers on the sandbox: per workspace and method, 429 with Retry-After, on a scaled clock."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.adapters.slack.client import RetryAfterHandler
from bot.sandbox.slack import TIERS, SlackSandbox
from bot.sandbox.slack.tiers import PER_CHANNEL, TIER_2, TIER_3, TIER_4
from bot.sandbox.slack.web_api import METHODS


class FakeClock:
    """Slack time the test moves by hand, so no test waits for a bucket to refill."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ticking(clock: FakeClock) -> Iterator[SlackSandbox]:
    with SlackSandbox(clock=clock) as sandbox:
        yield sandbox


def bare(sb: SlackSandbox) -> WebClient:
    """A client that does not retry, so a 429 surfaces."""
    return WebClient(token=sb.bot_token, base_url=sb.api_url, retry_handlers=[])


def retry_after_of(call) -> int:
    with pytest.raises(SlackApiError) as raised:
        call()
    response = raised.value.response
    assert response.status_code == 429 and response["error"] == "ratelimited"
    header = response.headers["Retry-After"]
    return int(header[0] if isinstance(header, list) else header)


def test_every_method_the_sandbox_serves_has_its_published_tier() -> None:
    assert set(METHODS) <= set(TIERS)
    assert TIERS["users.info"] == TIER_4 and TIERS["conversations.members"] == TIER_4
    assert TIERS["conversations.list"] == TIER_2 and TIERS["conversations.create"] == TIER_2
    assert TIERS["users.list"] == TIER_2 and TIERS["conversations.invite"] == TIER_3
    assert TIERS["chat.postEphemeral"] == TIER_4 and TIERS["views.publish"] == TIER_4
    assert PER_CHANNEL["chat.postMessage"].per_minute == 60


def test_a_tier_2_method_takes_a_minutes_burst_then_answers_429_until_it_refills(
    ticking: SlackSandbox, clock: FakeClock
) -> None:
    client = bare(ticking)
    for i in range(20):
        client.conversations_create(name=f"breakout-{i}")
    assert retry_after_of(lambda: client.conversations_create(name="breakout-20")) == 3  # 20 a minute
    assert "breakout-20" not in {c.name for c in ticking.workspace.channels.values()}
    clock.now += 2.9
    assert retry_after_of(lambda: client.conversations_create(name="breakout-20")) == 1
    clock.now += 0.1
    assert client.conversations_create(name="breakout-20")["ok"]
    refused = ticking.throttled("conversations.create")
    assert [(c.status, c.error, c.retry_after) for c in refused] == [(429, "ratelimited", 3), (429, "ratelimited", 1)]
    assert ticking.throttled() == refused


def test_limits_are_per_method(ticking: SlackSandbox) -> None:
    client = bare(ticking)
    for _ in range(20):
        client.conversations_list()
    retry_after_of(client.conversations_list)
    ada = ticking.add_user("Ada Lovelace")
    for _ in range(100):
        client.users_info(user=ada.id)  # Tier 4: a hundred, whatever conversations.list has spent
    assert retry_after_of(lambda: client.users_info(user=ada.id)) == 1
    assert {c.method for c in ticking.throttled()} == {"conversations.list", "users.info"}


def test_post_message_is_limited_per_channel_and_across_the_workspace(ticking: SlackSandbox, clock: FakeClock) -> None:
    client = bare(ticking)
    ada = ticking.add_user("Ada Lovelace")
    channels = [ticking.add_channel(f"group-{i}", [ada]) for i in range(61)]
    for _ in range(5):
        client.chat_postMessage(channel=channels[0].id, text="burst")
    assert retry_after_of(lambda: client.chat_postMessage(channel=channels[0].id, text="one too many")) == 1
    client.chat_postMessage(channel=channels[1].id, text="another channel is not held up")
    # Several hundred a minute across the workspace: 300 at once, the 301st waits.
    for channel in channels[2:60]:
        for _ in range(5):
            client.chat_postMessage(channel=channel.id, text="fan-out")
    for _ in range(4):
        client.chat_postMessage(channel=channels[60].id, text="fan-out")
    assert len(ticking.calls("chat.postMessage")) - len(ticking.throttled()) == 300
    assert retry_after_of(lambda: client.chat_postMessage(channel=channels[60].id, text="x")) == 1
    assert [c.args["channel"] for c in ticking.throttled()] == [channels[0].id, channels[60].id]
    clock.now += 1.0
    client.chat_postMessage(channel=channels[0].id, text="a second later")


def test_the_time_scale_shrinks_the_wait_but_not_the_header(clock: FakeClock) -> None:
    with SlackSandbox(clock=clock, time_scale=0.01) as sb:
        client = bare(sb)
        for i in range(20):
            client.conversations_create(name=f"breakout-{i}")
        assert retry_after_of(lambda: client.conversations_create(name="late")) == 3  # Slack seconds
        clock.now += 0.03  # three Slack seconds at 0.01
        assert client.conversations_create(name="late")["ok"]
        started = time.perf_counter()
        sb.sleep(3)
        assert time.perf_counter() - started < 0.5


def test_slack_sdks_own_handler_reads_the_whole_seconds_and_retries(sb: SlackSandbox) -> None:
    ada = sb.add_user("Ada Lovelace")
    channel = sb.add_channel("general", [ada])
    client = WebClient(token=sb.bot_token, base_url=sb.api_url, retry_handlers=[RateLimitErrorRetryHandler(1)])
    for i in range(6):
        client.chat_postMessage(channel=channel.id, text=f"message {i}")  # the sixth waits a Slack second
    assert len(sb.messages(channel)) == 6
    (refused,) = sb.throttled("chat.postMessage")
    assert refused.retry_after == 1
    after = [c for c in sb.calls("chat.postMessage") if c.at > refused.at]
    assert after and after[0].ok and after[0].at - refused.at >= 1.0


def test_the_bots_handler_on_the_sandbox_clock_rides_out_a_burst_quickly() -> None:
    with SlackSandbox(time_scale=0.01) as sb:
        handler = RetryAfterHandler(sleep=sb.sleep, rng=random.Random(1))
        client = WebClient(token=sb.bot_token, base_url=sb.api_url, retry_handlers=[handler])
        started = time.perf_counter()
        for i in range(30):
            client.conversations_create(name=f"breakout-{i}")
        elapsed = time.perf_counter() - started
        assert len([c for c in sb.workspace.channels.values() if c.name.startswith("breakout-")]) == 30
        assert sb.throttled("conversations.create")  # ten beyond the burst: some were refused and retried
        assert elapsed < 10  # 10 x 3 Slack seconds at 0.01, not half a minute


def test_tiers_can_be_lifted_for_tests_about_something_else() -> None:
    with SlackSandbox(rate_tiers=False) as sb:
        client = bare(sb)
        for i in range(30):
            client.conversations_create(name=f"breakout-{i}")
        assert sb.throttled() == []


def test_injected_rate_limits_are_not_counted_as_tiers(sb: SlackSandbox) -> None:
    sb.faults.rate_limit("auth.test", times=1, retry_after=7)
    assert retry_after_of(bare(sb).auth_test) == 7
    (call,) = sb.calls("auth.test")
    assert (call.fault, call.retry_after) == ("rate_limit", 7)
    assert sb.throttled() == []


@pytest.mark.slack_time_scale(0.02)  # a Slack minute in 1.2 s
def test_a_thirty_group_start_copes_with_the_tiers(call_factory) -> None:
    # 120 people: 122 users.info, beyond Tier 4's hundred at once.
    call = call_factory(people=120)
    started = call.answer(call.breakout("start kindness-in-education size=4"), timeout=60)
    assert "30 groups" in started and "all 30 groups done" in started, started
    assert call.sb.throttled("users.info")  # refused, retried after Retry-After, and done
    groups = call.group_channels()
    assert len(groups) == 30
    for c in groups:
        assert len(call.posts(c, header="Question 1 of")) == 1, c.name
