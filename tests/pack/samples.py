"""Summaries to render in the tests. Made-up people; texts chosen to stress layout and escaping."""

from __future__ import annotations

import datetime as dt

from bot.domain.summary import CallChatLine, GroupSection, QuestionSection, QuoteLine, Resource, Summary

HOSTILE = (
    '<script>document.title="pwned"</script>',
    '<img src=x onerror="document.title=\'pwned\'">',
    "Tom & Jerry said \"<b>bold</b>\" isn't markup",
)
LONG_URL = "https://example.org/" + "a-very-long-path-segment-without-any-spaces" * 6
LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 4


def sample_summary(**changes) -> Summary:
    q1 = (
        QuoteLine("Mira", "We spend a lot of time on breadth, and never enough with one team.", 1, 1),
        QuoteLine("TL", HOSTILE[0], 2, 1, highlight=True),
        QuoteLine("Participant 1", f"A word that never ends: {LONG_WORD}", 1, 1),
    )
    q2 = (
        QuoteLine("Jun", HOSTILE[1], 2, 2),
        QuoteLine("Ana Ruiz", HOSTILE[2] + "\nand a second line", 1, 2),
        QuoteLine("Mira", f"See {LONG_URL}", 1, 2),
    )
    fields = dict(
        title="Kindness in Teaching",
        series="Conversations for Kindness",
        date=dt.date(2024, 1, 18),
        speaker="Dr Imaginary Speaker",
        participant_count=9,
        group_count=2,
        questions=(
            QuestionSection(1, "How could we better prepare students to be kind?", q1),
            QuestionSection(2, "How do we encourage kindness towards <students>?", q2),
        ),
        chat=(
            CallChatLine("DG", "Using the word explicitly helps set shared expectations & group norms."),
            CallChatLine("PH", "<i>Competition</i> doesn't encourage kindness."),
        ),
        hellos=(
            CallChatLine("MO", "Hello everyone, joining from Lagos!"),
            CallChatLine("TL", "Hi all - dialling in from a snowy Uppsala"),
        ),
        resources=(
            Resource("https://example.org/kindness-review", None, ("Jun",), "Here is the article, worth a read"),
            Resource("javascript:alert(1)", "A trap", (), ""),
            Resource(LONG_URL, "Long link", ("Mira", "TL"), ""),
        ),
        attendance=65,
        notes=("1 person asked not to be quoted.",),
    )
    fields.update(changes)
    return Summary(**fields)  # type: ignore[arg-type]


def grouped_summary() -> Summary:
    base = sample_summary()
    quotes = [q for s in base.questions for q in s.quotes]
    return sample_summary(
        arrangement="group",
        groups=tuple(GroupSection(n, tuple(q for q in quotes if q.group == n)) for n in (1, 2)),
    )


def all_quote_texts(summary: Summary) -> list[str]:
    sections = summary.groups if summary.arrangement == "group" else summary.questions
    return [q.text for s in sections for q in s.quotes]


# A small Zoom chat export (two-line format) for the platforms' import tests: a hello, a reflection,
# a direct message that must never be imported, and a link.
ZOOM_CHAT = (
    b"18:00:05 From Wren Calloway to Everyone:\n"
    b"\tHello everyone, joining from Valparaiso!\n"
    b"18:03:10 From Idris Fenwick (he/him) to Everyone:\n"
    b"\tI keep thinking about how small acts of kindness in a classroom set the tone for the whole term,"
    b" and the students notice far more of them than we ever think they do\n"
    b"18:04:00 From Idris Fenwick to Wren Calloway(Direct Message):\n"
    b"\ta private word that must never be imported\n"
    b"18:05:20 From Wren Calloway to Everyone:\n"
    b"\tHere is the guide we use: https://example.org/kind-classrooms\n"
)
ZOOM_CHAT_REFLECTION = "small acts of kindness in a classroom set the tone"
