"""What every document renderer shares: the pack's section titles, dates, safe links, and templates.

Renderers take the ``Summary`` as it is (consent already applied) and only decide presentation.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

from bot.domain.summary import QuoteLine, Summary

TEMPLATES = Path(__file__).resolve().parent / "templates"

# The pack's own words for its sections, in the reference pack's order.
JOINING = "Joining the Conversation from across the world"
GROUP_DISCUSSION = "Group discussion"
FROM_THE_CHAT = "From the chat"
CHAT_INTRO = "Participants also shared their reflections in the chat:"
RESOURCES = "Further resources"
RESOURCES_INTRO = "Links shared during the conversation:"
NOTES = "Notes"

SAFE_SCHEMES = {"http", "https", "mailto"}
# Characters XML 1.0 cannot hold (and HTML treats as errors): dropped from user text before rendering.
INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")


def clean_text(text: str | None) -> str:
    return INVALID_XML.sub("", text or "")


def long_date(date: dt.date | None) -> str:
    """'18 January 2024', as the pack writes it."""
    return f"{date.day} {date:%B %Y}" if date else ""


def safe_href(url: str | None) -> str | None:
    """The URL if it may be a link target (http, https, mailto); None for javascript:, data: and the like."""
    if not url:
        return None
    url = clean_text(url).strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in SAFE_SCHEMES else None


@dataclass(frozen=True)
class DiscussionPart:
    """One heading of the group discussion and the quotes under it."""

    heading: str
    number: int
    text: str  # the question, or "" for a group
    quotes: tuple[QuoteLine, ...]


def discussion_parts(summary: Summary) -> list[DiscussionPart]:
    if summary.arrangement == "group":
        return [DiscussionPart(f"Group {g.number}", g.number, "", g.quotes) for g in summary.groups]
    return [DiscussionPart(f"{q.number}. {q.text}", q.number, q.text, q.quotes) for q in summary.questions]


def head_count(summary: Summary) -> int:
    """The call's own number when the organiser gave one, else the people the bot saw."""
    return summary.attendance if summary.attendance is not None else summary.participant_count


def environment(overrides: Path | str | None = None, *, autoescape: bool) -> Environment:
    """Templates from ``overrides`` first (e.g. ``prompts/templates/``), then the built-in ones."""
    loaders = []
    if overrides is not None and Path(overrides).is_dir():
        loaders.append(FileSystemLoader(str(overrides)))
    loaders.append(FileSystemLoader(str(TEMPLATES)))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["long_date"] = long_date
    env.filters["safe_href"] = safe_href
    env.filters["clean"] = clean_text
    env.globals.update(
        JOINING=JOINING,
        GROUP_DISCUSSION=GROUP_DISCUSSION,
        FROM_THE_CHAT=FROM_THE_CHAT,
        CHAT_INTRO=CHAT_INTRO,
        RESOURCES=RESOURCES,
        RESOURCES_INTRO=RESOURCES_INTRO,
        NOTES=NOTES,
    )
    return env


def context(summary: Summary) -> dict[str, object]:
    return {
        "summary": summary,
        "parts": discussion_parts(summary),
        "head_count": head_count(summary),
        "date_text": long_date(summary.date),
    }
