"""A post's idempotency key on Slack: carried in message metadata, read back from conversations.history."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.adapters.slack.port import POST_EVENT_TYPE, SlackPort
from bot.sandbox.slack import SlackSandbox
from bot.services.port import MessageKind, Outgoing


def test_metadata_comes_back_only_when_history_asks_for_it(sb: SlackSandbox, client: WebClient) -> None:
    channel = sb.add_channel("general", [])
    meta = {"event_type": "breakout_post", "event_payload": {"key": "1:1:q0:open"}}
    client.chat_postMessage(channel=channel.id, text="hello", metadata=meta)
    plain = client.conversations_history(channel=channel.id)["messages"]
    assert plain[0]["text"] == "hello" and "metadata" not in plain[0]
    full = client.conversations_history(channel=channel.id, include_all_metadata=True)["messages"]
    assert full[0]["metadata"] == meta
    with pytest.raises(SlackApiError, match="invalid_metadata_format"):
        client.chat_postMessage(
            channel=channel.id, text="x", metadata={"event_type": "no spaces!", "event_payload": {}}
        )


def test_find_post_reads_history_back_by_key_across_pages(sb: SlackSandbox, client: WebClient) -> None:
    channel = sb.add_channel("general", [])
    chat = SlackPort(client)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    sb.history_limit = 2  # several pages
    long = chat.post(
        channel_id=channel.id, message=Outgoing(MessageKind.QUESTION, "word " * 9000, title="Q", key="7:1:q0:open")
    )
    for n in range(4):
        chat.post(channel_id=channel.id, message=Outgoing(MessageKind.WARNING, f"warning {n}", key=f"7:1:w{n}"))
    posted = sb.bot_messages(channel)
    assert len(posted) >= 7
    assert all(m["metadata"]["event_type"] == POST_EVENT_TYPE for m in posted)
    msg = Outgoing(MessageKind.QUESTION, "ignored on Slack")
    assert chat.find_post(channel_id=channel.id, key="7:1:q0:open", message=msg, since=since) == long  # its first part
    assert chat.find_post(channel_id=channel.id, key="7:1:w2", message=msg, since=since) is not None
    assert chat.find_post(channel_id=channel.id, key="7:1:w9", message=msg, since=since) is None
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    assert chat.find_post(channel_id=channel.id, key="7:1:w2", message=msg, since=later) is None
    assert len(sb.calls("conversations.history")) > 4


def test_a_held_answer_leaves_the_message_posted_while_the_call_is_in_flight(
    sb: SlackSandbox, client: WebClient
) -> None:
    channel = sb.add_channel("general", [])
    sb.faults.hold("chat.postMessage", 1.0, times=1)
    answered = threading.Event()

    def post() -> None:
        client.chat_postMessage(channel=channel.id, text="in flight")
        answered.set()

    threading.Thread(target=post, daemon=True).start()
    sb.wait_until(lambda: sb.bot_messages(channel), timeout=5, message="the message stored")
    time.sleep(0.3)
    assert not answered.is_set()  # Slack has it; the caller does not know yet
    assert answered.wait(5)
