"""Whatever the chat says and whoever chose what, the chat sections name people only as they agreed."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.consent import Level
from bot.domain.naming import Identity, QuoteText, assign_labels
from bot.domain.pack import CallChatRow, call_chat_sections

FIRST = ["Alvane", "Bexley", "Corinth", "Dagny", "Elspeth", "Fenwick"]
LAST = ["Quorra", "Ruskinel", "Sallowby", "Tamsinor", "Umberley", "Vantor"]
WORDS = ["kindness", "students", "we", "should", "listen", "more", "and", "teach", "care", "Hi", "hello", "from",
         "Boston", "joining", "-", "https://example.org/a", "https://example.org/b", "www.example.net/c", ":", "the"]

people = st.lists(st.sampled_from(list(Level)), min_size=1, max_size=6)


@st.composite
def chats(draw):  # type: ignore[no-untyped-def]
    levels = draw(people)
    n = len(levels)
    token = st.one_of(st.sampled_from(WORDS), st.sampled_from(FIRST[:n]), st.sampled_from(LAST[:n]))
    rows = []
    for i in range(draw(st.integers(1, 14))):
        author = draw(st.integers(0, n - 1))
        words = draw(st.lists(token, min_size=1, max_size=30))
        words.insert(draw(st.integers(0, len(words))), f"mark{i}x")  # to trace whose words went where
        rows.append(CallChatRow(str(author), " ".join(words), dt.time(18, i // 2, i % 60), i + 1, draw(st.booleans()), author))
    return levels, rows


@settings(max_examples=300, deadline=None)
@given(chats())
def test_chat_sections_name_people_only_as_they_agreed(case):
    levels, rows = case
    identities = [Identity(str(i), f"{FIRST[i]} {LAST[i]}", FIRST[i], level) for i, level in enumerate(levels)]
    labels = assign_labels(identities)
    out = call_chat_sections(rows, labels, QuoteText(identities, labels), min_words=5)

    allowed_labels = {label for label in labels.values() if label is not None}
    texts = [line.text for line in (*out.chat, *out.hellos)]
    texts += [r.context for r in out.resources] + [r.label or "" for r in out.resources]
    for line in (*out.chat, *out.hellos):
        assert line.label in allowed_labels
    for r in out.resources:
        assert set(r.shared_by) <= allowed_labels
    for i, level in enumerate(levels):
        for text in texts:
            if level is not Level.FULL_NAME:
                assert LAST[i] not in text, (level, text)
            if level not in (Level.FULL_NAME, Level.FIRST_NAME):
                assert FIRST[i] not in text, (level, text)
    # Nothing written by someone who is not to be quoted reaches the pack, not even as a link's context.
    for row in rows:
        if levels[row.person_id] is Level.NOT_QUOTED:
            mark = next(w for w in row.text.split() if w.startswith("mark"))
            assert all(mark not in text for text in texts), row
