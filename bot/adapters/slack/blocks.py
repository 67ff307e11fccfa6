"""Block Kit builders: the bot's messages, the consent buttons, and the summary as Slack messages.

Every string from the core is plain text and is escaped here (``mrkdwn.escape``); the limits
(50 blocks, 3,000 characters a section, 150 a header, 75 a button) are applied here too, so a
long question or summary is split rather than refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.consent import Level
from bot.domain.summary import QuoteLine, Summary
from bot.services.port import ConsentOption, Outgoing

from .mrkdwn import (
    MAX_BUTTON,
    MAX_FALLBACK,
    MAX_HEADER,
    batches,
    escape,
    sections,
    truncate,
)

Block = dict[str, Any]
CONSENT_ACTION_PREFIX = "consent_"
#: The message shortcuts' callback ids (deploy/slack-manifest.yaml names them the same).
TAKE_OUT_SHORTCUT = "leave_out_of_write_up"
PUT_BACK_SHORTCUT = "put_back_in_write_up"


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, MAX_HEADER), "emoji": False}}


def context(text_mrkdwn: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text_mrkdwn, 3000)}]}


def consent_actions(options: Sequence[ConsentOption], breakout_id: int | None) -> Block:
    """One button per naming choice; the value carries the breakout so a click needs no lookup."""
    return {
        "type": "actions",
        "block_id": f"consent:{breakout_id or 0}",
        "elements": [
            {
                "type": "button",
                "action_id": f"{CONSENT_ACTION_PREFIX}{o.level.value}",
                "text": {"type": "plain_text", "text": truncate(o.label, MAX_BUTTON), "emoji": False},
                "value": f"{breakout_id or 0}:{o.level.value}",
            }
            for o in options
        ],
    }


def parse_consent_value(value: str) -> tuple[int | None, Level]:
    """The (breakout id, level) a consent button carries; ValueError when it is not one of ours."""
    breakout, _, level = value.partition(":")
    number = int(breakout)
    return (number or None), Level(level)


def outgoing(message: Outgoing) -> tuple[str, list[Block]]:
    """(fallback text, blocks) for a timeline message."""
    blocks: list[Block] = []
    if message.title:
        blocks.append(header(message.title))
    blocks += sections(escape(message.text))
    if message.consent_options:
        blocks.append(consent_actions(message.consent_options, message.breakout_id))
    fallback = f"{message.title}: {message.text}" if message.title else message.text
    return truncate(escape(fallback), MAX_FALLBACK), blocks


def private(
    text: str, consent_options: Sequence[ConsentOption] = (), breakout_id: int | None = None
) -> tuple[str, list[Block]]:
    """(fallback, blocks) for something said to one person."""
    blocks = sections(escape(text))
    if consent_options:
        blocks.append(consent_actions(consent_options, breakout_id))
    return truncate(escape(text), MAX_FALLBACK), blocks


def reply_payload(text: str) -> dict[str, Any]:
    """An answer to a slash command, shown to its typist only. Usage texts keep their layout."""
    escaped = escape(text)
    if "\n  " in text or text.startswith("Usage"):
        mrkdwn = "\n".join(f"`{line}`" if line.startswith("  ") else line for line in escaped.splitlines())
    else:
        mrkdwn = escaped
    return {"response_type": "ephemeral", "text": truncate(escaped, MAX_FALLBACK), "blocks": sections(mrkdwn)[:50]}


def _quote_line(q: QuoteLine, *, with_question: bool = False) -> str:
    where = f" _(question {q.question})_" if with_question and q.question else ""
    text = escape(q.text).replace("\n", "\n>")
    return f"*{escape(q.label)}:*{where}\n>{text}"


def summary_blocks(summary: Summary) -> list[Block]:
    """The write-up as blocks (any number; `summary_messages` splits them into messages)."""
    blocks: list[Block] = []
    if summary.series:
        blocks.append(context(escape(summary.series)))
    blocks.append(header(summary.title))
    facts = [summary.date.strftime("%-d %B %Y")] if summary.date else []
    people = "person" if summary.participant_count == 1 else "people"
    groups = "group" if summary.group_count == 1 else "groups"
    facts.append(f"{summary.participant_count} {people} in {summary.group_count} breakout {groups}")
    if summary.chatham_house:
        facts.append("Chatham House Rule: nobody is named")
    blocks.append(context(escape(" · ".join(facts))))

    def quotes_block(title: str, quotes: Sequence[QuoteLine], empty: str, with_question: bool) -> None:
        blocks.extend(sections(f"*{escape(title)}*"))
        if not quotes:
            blocks.extend(sections(f"_{empty}_"))
            return
        blocks.extend(sections("\n\n".join(_quote_line(q, with_question=with_question) for q in quotes)))

    if summary.arrangement == "group":
        blocks.extend(sections("\n".join(f"{q.number}. {escape(q.text)}" for q in summary.questions)))
        for g in summary.groups:
            blocks.append({"type": "divider"})
            quotes_block(f"Group {g.number}", g.quotes, "No quotes from this group.", True)
    else:
        for q in summary.questions:
            blocks.append({"type": "divider"})
            quotes_block(f"{q.number}. {q.text}", q.quotes, "No quotes for this question.", False)
    if summary.hellos:
        blocks.append({"type": "divider"})
        blocks.extend(
            sections(
                "*Joining from across the world*\n"
                + "\n".join(f">{escape(h.text)}".replace("\n", "\n>") for h in summary.hellos)
            )
        )
    if summary.chat:
        blocks.append({"type": "divider"})
        blocks.extend(
            sections(
                "*From the chat*\n\n"
                + "\n\n".join(f"*{escape(line.label)}:* {escape(line.text)}" for line in summary.chat)
            )
        )
    if summary.resources:
        blocks.append({"type": "divider"})
        lines = []
        for r in summary.resources:
            url = r.url.replace(">", "%3E").replace("|", "%7C")
            link = f"{escape(r.label)}: <{url}>" if r.label else f"<{url}>"  # the real address, never hidden
            by = f", shared by {escape(', '.join(r.shared_by))}" if r.shared_by else ""
            lines.append(f"• {link}{by}")
        blocks.extend(sections("*Further resources*\n" + "\n".join(lines)))
    for note in summary.notes:
        blocks.append(context(escape(note)))
    return blocks


def summary_messages(summary: Summary) -> list[tuple[str, list[Block]]]:
    """The summary as one or more messages of at most 50 blocks each."""
    fallback = truncate(escape(f"Summary: {summary.title}"), MAX_FALLBACK)
    return [(fallback, batch) for batch in batches(summary_blocks(summary))]
