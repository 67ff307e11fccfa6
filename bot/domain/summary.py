"""The write-up as data: what the summary says, before any format is chosen.

Built by ``bot.services.summarise`` with consent already applied (labels, rewritten mentions);
rendered by ``bot.render`` into Markdown, HTML, DOCX or chat messages. Every string here is plain
user text: each renderer escapes it for its own target.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

Arrangement = Literal["question", "group"]


@dataclass(frozen=True)
class QuoteLine:
    label: str  # the name its author agreed to, e.g. "Matthew", "DG", "Participant 3"
    text: str
    group: int  # group number, 1-based
    question: int | None  # question number, 1-based; None when said before the first question
    highlight: bool = False


@dataclass(frozen=True)
class QuestionSection:
    number: int
    text: str
    quotes: tuple[QuoteLine, ...]


@dataclass(frozen=True)
class GroupSection:
    number: int
    quotes: tuple[QuoteLine, ...]


@dataclass(frozen=True)
class Resource:
    url: str
    label: str | None
    shared_by: tuple[str, ...]  # labels by consent; empty when nobody nameable shared it
    context: str  # the words around the link


@dataclass(frozen=True)
class CallChatLine:
    """A line from the video call's own chat (a hello or a reflection), under its author's label."""

    label: str
    text: str


@dataclass(frozen=True)
class Summary:
    title: str
    date: dt.date | None
    participant_count: int
    group_count: int
    questions: tuple[QuestionSection, ...]
    arrangement: Arrangement = "question"
    groups: tuple[GroupSection, ...] = ()
    series: str | None = None
    speaker: str | None = None
    chatham_house: bool = False
    resources: tuple[Resource, ...] = ()
    chat: tuple[CallChatLine, ...] = ()  # "Participants also shared their reflections in the chat"
    hellos: tuple[CallChatLine, ...] = ()  # "Joining the Conversation from across the world"
    attendance: int | None = None  # the call's own head count, when the organiser gives it
    highlights_only: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)  # e.g. "2 people asked not to be quoted"

    @property
    def quote_count(self) -> int:
        if self.arrangement == "group":
            return sum(len(g.quotes) for g in self.groups)
        return sum(len(q.quotes) for q in self.questions)
