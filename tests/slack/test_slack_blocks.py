"""mrkdwn escaping and Slack's limits, checked with Slack's own rules as the sandbox models them."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.slack import blocks as bk
from bot.adapters.slack.mrkdwn import MAX_SECTION, escape, split_text, unescape
from bot.domain.consent import Level
from bot.domain.summary import QuestionSection, QuoteLine, Summary
from bot.sandbox.slack.blocks import validate_blocks
from bot.services.port import ConsentOption, MessageKind, Outgoing


@given(st.text())
def test_escape_leaves_no_markup_and_round_trips(text: str) -> None:
    escaped = escape(text)
    assert "<" not in escaped and ">" not in escaped
    assert unescape(escaped) == text


@given(st.text(alphabet=st.sampled_from("ab &<>\n"), max_size=9000), st.integers(min_value=20, max_value=3000))
@settings(max_examples=60)
def test_split_text_respects_the_limit_and_keeps_entities_whole(text: str, limit: int) -> None:
    escaped = escape(text)
    pieces = split_text(escaped, limit)
    assert all(len(p) <= limit for p in pieces)
    for p in pieces:
        assert unescape(p).count("&") == p.count("&amp;")  # no "&am" + "p;" split
    assert "".join(pieces).replace(" ", "").replace("\n", "") == escaped.replace(" ", "").replace("\n", "")


def test_outgoing_question_with_consent_buttons_is_valid_block_kit() -> None:
    options = tuple(ConsentOption(level, f"Label for {level.value}") for level in Level)
    message = Outgoing(MessageKind.WELCOME, "Welcome <!here> & hello " + "x" * 7000, title="T" * 200,
                       consent_options=options, breakout_id=7)
    text, blocks = bk.outgoing(message)
    assert validate_blocks(blocks) == []
    assert "<!here>" not in text and "&lt;!here&gt;" in blocks[1]["text"]["text"]
    assert len(blocks[0]["text"]["text"]) == 150  # header cut to Slack's limit
    buttons = blocks[-1]["elements"]
    assert [bk.parse_consent_value(b["value"]) for b in buttons] == [(7, level) for level in Level]


def test_a_long_summary_is_split_into_valid_messages() -> None:
    quotes = tuple(QuoteLine(label=f"Person {i}", text=f"<!channel> quote {i} " + "word " * 150, group=1,
                             question=1) for i in range(120))
    summary = Summary(title="Kindness <b>", date=dt.date(2024, 1, 18), participant_count=120, group_count=10,
                      questions=(QuestionSection(1, "Why?", quotes), QuestionSection(2, "How?", ())))
    messages = bk.summary_messages(summary)
    assert len(messages) >= 2
    for _, blocks in messages:
        assert len(blocks) <= 50 and validate_blocks(blocks) == []
        assert all(len(b["text"]["text"]) <= MAX_SECTION for b in blocks if b["type"] == "section")
    everything = str(messages)
    assert "<!channel>" not in everything and everything.count("&lt;!channel&gt;") == 120
    assert "No quotes for this question." in everything


def test_reply_payload_is_private_and_escaped() -> None:
    payload = bk.reply_payload("Usage: /breakout <subcommand>\n  start PLAN")
    assert payload["response_type"] == "ephemeral"
    assert "&lt;subcommand&gt;" in payload["text"] and validate_blocks(payload["blocks"]) == []


def test_rate_limit_handler_waits_retry_after(sb) -> None:
    from slack_sdk import WebClient

    from bot.adapters.slack.client import RetryAfterHandler

    waits: list[float] = []
    client = WebClient(token=sb.bot_token, base_url=sb.api_url, retry_handlers=[RetryAfterHandler(sleep=waits.append)])
    sb.faults.rate_limit("auth.test", times=2, retry_after=30)
    assert client.auth_test()["ok"]
    assert len(waits) == 2 and all(30 <= w <= 36.1 for w in waits)
    assert [c.status for c in sb.calls("auth.test")] == [429, 429, 200]
