"""The Kindness in Education session replayed end to end: breakout replies through the services, then the
call's Zoom chat imported; the pack must say what the reference insights pack says, every name as consented.

The cast is made up (the reference pack names only first names and initials); the words are the pack's.
Expectations are written out here, and checked against ../shared/reference/ when it is there.
"""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import docx
import pytest

from bot.domain.consent import Level
from bot.render.docx import render_docx
from bot.render.html import render_html
from bot.render.markdown import render_markdown
from bot.services.commands import SummaryCommand
from bot.services.errors import BadArguments, NotAllowed, NotFound
from bot.services.events import Meaning
from bot.services.pack import CallChatFile
from bot.services.port import PersonInfo
from tests.conftest import PROMPTS, SHARED
from tests.core.harness import Call, prompts_copy

REFERENCE = SHARED / "reference" / "insights-pack-kindness-in-education.md"
CHAT = Path(__file__).parent / "fixtures" / "kindness_chat.txt"

QUESTIONS = [
    "How could we better prepare students to be kind and understand the value of kindness for sustainable and better patient care?",
    "How do we encourage kindness towards students along their journey?",
]
SAID = [  # (first name, what they said, question)
    ("Matthew", "We spend a lot of time ensuring medical students get a breadth of clinical experience, but they never get "
                "to spend any time with one team. This means they remain 'outsiders' without the opportunity to develop "
                "relationships with possible role models.", 1),
    ("Felize", "Incorporating professional patients has really improved things in the US.", 1),
    ("Saskie", "Clinical education encourages competitiveness rather than collaboration, but the latter is crucial in the "
               "work that we do.", 1),
    ("Paul", "Measuring only empathy is too limited. Learning doesn't occur without a will to learn.", 2),
    ("Bob", "Contrary to common belief, we can measure kindness. It is about whether we choose to do so.", 2),
]
CHAT_LINES = [
    ("DG", "i think using the word explicitly is important - it helps set shared expectations of behaviours and create "
           "group norms. however i see lots on social media from junior docs especially that views talk of kindness with "
           "suspicion because of concerns that the word has become weaponised by those in authority to silence them when "
           "they raise what they see as legitimate concerns when they feel they are treated unfairly in the workplace"),
    ("S", "Absolutely support the idea that clinicians and the overall environment of care needs to celebrate and support "
          "kindness. In turn, we must be brave enough to call out incidents of \"Un-kindness\" and hold people accountable "
          "for unkind, uncaring words and actions, without cowering behind \"rank\" and title. If we don't tackle these, "
          "those un-kind behaviors also set the tone for what is accepted in a given setting."),
    ("PH", "I have been involved in both undergraduate and post graduate medical education and my experience is that the "
           "competitive nature of medical education doesn't encourage kindness. it also gets more competitive as Doctors "
           "progress in their careers. In the healthcare we need people to be collaborative and yet this is frowned upon "
           "in education, which is more of an individual pursuit."),
]
HELLOS = [
    "Hi my first meeting from Snowy Salt Spring Island off coast of Vancouver",
    "Dialling in from Dorset on the south coast of England - lovely to see you all here",
    "Hi, Tanya here from a very snowy and cold Boston!",
]
RESOURCES = [  # as the pack lists them: "Title - what it is"
    "Healthcare education needs radical reform to emphasise careful and kind care - an article by Suzie Bailey and colleagues",
    "Empathy: The Human Connection to Patient Care - a short video used at the Cleveland Clinic as a way of facilitating "
    "reflection amongst trainees",
    "Wild Card: Whose Shoes, Dr Tim Fawns, An Engaging Approach to Clinical Education - a podcast interview with a clinical "
    "educator at the University of Edinburgh, speaking on showing kindness and empathy to students",
    "A mélange of potential, not a mindset by Dave Snowdon - an article which provides a framework of 'agency, affordance or "
    "assemblage'",
]
ATTENDANCE = 65

# Words that must never reach the pack: surnames nobody agreed to, people not to be quoted, the direct message.
NEVER = ["Okafor", "Marquez", "Lindqvist", "Brennan", "Kettering", "Goldberg", "Hallam", "Boateng", "Novak", "Asante",
         "Priya", "Dana", "Sunita", "Lena", "Kofi", "Omar", "Haddad", "difficult year", "let me in", "Fiona",
         "ask the students themselves"]

CAST = [
    PersonInfo("U101", "Matthew Okafor", "Matthew", "Matthew"),
    PersonInfo("U102", "Felize Marquez", "Felize", "Felize"),
    PersonInfo("U103", "Saskie Lindqvist", "Saskie", "Saskie"),
    PersonInfo("U104", "Paul Brennan", "Paul", "Paul"),
    PersonInfo("U105", "Bob Kettering", "Bob", "Bob"),
    PersonInfo("U106", "Dana Goldberg", "Dana", "Dana"),
]


# --- what the reference pack says (when ../shared is here) -----------------------------------------------


def reference_text() -> str:
    if not REFERENCE.is_file():
        pytest.skip("the reference pack (../shared/reference/) is not here")
    return REFERENCE.read_text(encoding="utf-8")


def test_the_expectations_are_the_reference_packs():
    text = reference_text()
    discussion = text[text.index("# Group discussion"):text.index("Participants also shared")]
    assert [(n, t.strip()) for n, t in re.findall(r"\*\*(\w+):\*\*\n\n(.+)", discussion)] == [(n, t) for n, t, _ in SAID]
    for q in QUESTIONS:
        assert q in discussion
    chat = text[text.index("Participants also shared"):text.index("# Further resources")]
    assert re.findall(r"^\*\*([A-Z]+)\*\* (.+)$", chat, re.M) == CHAT_LINES
    joining = text[text.index("A few of the hellos"):text.index("# Who did we hear")]
    assert [ln.strip() for ln in joining.splitlines()[1:] if ln.strip()] == HELLOS
    assert f"More than **{ATTENDANCE}**" in text
    resources = text[text.index("# Further resources"):text.index("[Check out resources")]
    listed = [re.sub(r"\[([^\]]+)\]\(#\)", r"\1", ln[2:]).strip() for ln in resources.splitlines() if ln.startswith("- [")]
    assert listed == RESOURCES


# --- the replay ----------------------------------------------------------------------------------------------


@pytest.fixture
def session(database_url, tmp_path):
    call = Call(database_url, prompts_copy(tmp_path, PROMPTS), time_scale=1.0, people=len(CAST))
    call.people = list(CAST)
    try:
        call.facilitator_types("start kindness-in-education")
        for first in ("Matthew", "Felize", "Saskie", "Paul", "Bob"):
            call.types(call.actor(first), "consent first-name")
        call.types(call.actor("Dana"), "consent initials")
        for first, text, question in SAID:
            if question == 2 and call.status().question_number == 1:
                call.facilitator_types("next")
            call.says(first, text)
        call.facilitator_types("stop")
        breakout = call.status().breakout_id
        yield call, breakout
    finally:
        call.close()


def import_and_name(call: Call, breakout: int):
    chat = call.app.call_chat
    result = chat.import_chat(call.organiser, find_file=lambda: CallChatFile.holding("meeting_saved_chat.txt", CHAT.read_bytes()),
                              channel_id="main", attendance=ATTENDANCE)
    chat.name_author(call.organiser, name="Priya Hallam", level=Level.INITIALS, breakout_id=breakout)
    chat.name_author(call.organiser, name="Sunita", level=Level.INITIALS, breakout_id=breakout)
    chat.name_author(call.organiser, name="Tanya Boateng", level=Level.FIRST_NAME, breakout_id=breakout)
    chat.name_author(call.organiser, name="Omar Haddad", level=Level.NOT_QUOTED, breakout_id=breakout)
    # The organiser curates: Kofi asked, after the call, for his longer message to be left out.
    chat.mark(breakout, line=37, exclude=True)
    return result


def test_the_replayed_session_gives_the_reference_pack(session):
    call, breakout = session
    result = import_and_name(call, breakout)
    assert (result.messages, result.direct_dropped, result.members) == (18, 1, 1)  # Dana is in the groups too

    summary = call.app.summaries.build(breakout)
    assert summary.title == "Kindness in Education" and summary.series == "Conversations for Kindness"
    assert [q.text for q in summary.questions] == QUESTIONS
    said = [(q.label, q.text, s.number) for s in summary.questions for q in s.quotes]
    assert said == SAID
    assert [(c.label, c.text) for c in summary.chat] == CHAT_LINES
    assert [h.text for h in summary.hellos] == HELLOS
    assert summary.attendance == ATTENDANCE
    listed = [f"{r.label} - {r.context}" for r in summary.resources]
    assert listed == RESOURCES
    assert [r.url for r in summary.resources] == [
        "https://example.org/articles/radical-reform-careful-kind-care",  # shared twice, listed once, no tracking
        "https://example.org/video/empathy-human-connection",
        "https://example.org/podcasts/wild-card-tim-fawns",
        "https://example.org/blog/melange-of-potential",
    ]
    first_by, also_by = summary.resources[0].shared_by
    assert first_by == "PH" and also_by.startswith("Participant ")  # Zara never chose: the plan's default

    rendered = {
        "md": render_markdown(summary),
        "html": html.unescape(re.sub(r"<[^>]+>", " ", render_html(summary))),
        "docx": "\n".join(p.text for p in docx.Document(io.BytesIO(render_docx(summary))).paragraphs),
    }
    for fmt, text in rendered.items():
        flat = " ".join(text.replace("\\", "").split())
        for first, quote, _ in SAID:
            assert " ".join(quote.split()) in flat, (fmt, first)
        for label, line in CHAT_LINES:
            assert " ".join(line.split()) in flat, (fmt, label)
        for word in NEVER:
            assert word not in text, (fmt, word)
        for title in ("Healthcare education needs radical reform", "A mélange of potential"):
            assert title in flat, (fmt, title)
    for hello in HELLOS:
        assert hello in rendered["html"] and hello in rendered["docx"]


def test_consent_changes_reach_the_chat_at_the_next_build(session):
    call, breakout = session
    import_and_name(call, breakout)
    # Dana chose initials herself; an organiser can't overrule her.
    with pytest.raises(NotAllowed, match="only they"):
        call.app.call_chat.name_author(call.organiser, name="Dana Goldberg", level=Level.FULL_NAME, breakout_id=breakout)
    call.types(call.actor("Dana"), "consent not-quoted")
    labels = [c.label for c in call.app.summaries.build(breakout).chat]
    assert labels == ["S", "PH"]
    call.app.call_chat.name_author(call.organiser, name="Sunita", level=Level.ANONYMOUS, breakout_id=breakout)
    chat = call.app.summaries.build(breakout).chat
    assert [c.label for c in chat][1] == "PH" and chat[0].label.startswith("Participant ")


def test_highlights_only_and_taking_a_quote_out(session):
    call, breakout = session
    import_and_name(call, breakout)
    keys = [(q.message_key, q.person_id) for q in _quotes(call, breakout)]
    channel_of = {first: call.channel_of(first) for first, _, _ in SAID}
    felize_channel = channel_of["Felize"]
    felize_key = next(k for k, _ in keys if k.startswith(f"local:T1:{felize_channel}:") and _said_by(call, k) == "Felize")
    felize_message = felize_key.rsplit(":", 1)[1]

    curation = call.app.curation
    with pytest.raises(NotAllowed):
        curation.highlight(call.actor("Paul"), channel_id=felize_channel, message_id=felize_message)
    assert "highlight" in curation.highlight(call.facilitator, channel_id=felize_channel, message_id=felize_message)
    call.app.call_chat.mark(breakout, line=31, highlight=True)  # PH's reflection
    highlights = call.app.summaries.build(breakout, highlights_only=True)
    assert [(q.label, q.highlight) for s in highlights.questions for q in s.quotes] == [("Felize", True)]
    assert [c.label for c in highlights.chat] == ["PH"]
    assert highlights.highlights_only

    # Felize takes her message out (only she can), then puts it back.
    with pytest.raises(NotAllowed, match="Only the person who wrote"):
        curation.take_out(call.actor("Matthew"), channel_id=felize_channel, message_id=felize_message)
    curation.take_out(call.actor("Felize"), channel_id=felize_channel, message_id=felize_message)
    assert "Felize" not in [q.label for s in call.app.summaries.build(breakout).questions for q in s.quotes]
    assert curation.reaction(call.actor("Felize"), channel_id=felize_channel, message_id=felize_message,
                             meaning=Meaning.LEAVE_OUT, added=False)
    assert "Felize" in [q.label for s in call.app.summaries.build(breakout).questions for q in s.quotes]
    # Reactions that don't apply are ignored, not refused.
    assert curation.reaction(call.actor("Paul"), channel_id=felize_channel, message_id=felize_message,
                             meaning=Meaning.HIGHLIGHT, added=True) is None
    assert curation.reaction(call.actor("Paul"), channel_id="nowhere", message_id="1", meaning=Meaning.LEAVE_OUT, added=True) is None
    with pytest.raises(NotFound):
        curation.take_out(call.actor("Paul"), channel_id="nowhere", message_id="1")


def test_summary_files_in_every_format(session):
    call, breakout = session
    import_and_name(call, breakout)
    for fmt, magic in (("md", b"Conversations for Kindness"), ("html", b"<!DOCTYPE html>"), ("docx", b"PK")):
        delivery = call.app.summary_for(call.organiser, SummaryCommand(breakout_id=breakout, format=fmt), channel_id="main")
        assert delivery.format == fmt and delivery.filename == f"summary-breakout-{breakout}.{fmt}"
        assert delivery.content.startswith(magic) or magic in delivery.content[:200]
    if not Path("/usr/bin/chromium").exists():
        with pytest.raises(BadArguments, match="Chromium"):
            call.app.summary_for(call.organiser, SummaryCommand(breakout_id=breakout, format="pdf"), channel_id="main")
    else:
        pdf = call.app.summary_for(call.organiser, SummaryCommand(breakout_id=breakout, format="pdf"), channel_id="main")
        assert pdf.content.startswith(b"%PDF") and pdf.mimetype == "application/pdf"


def test_bad_chat_files_leave_nothing_behind(session):
    call, breakout = session
    chat = call.app.call_chat
    good = CHAT.read_bytes()
    for bad, words in ((b"", "empty"), (b"\x00\x01binary", "binary"), (b"Minutes of the meeting\n", "line 1"),
                       (b"18:00:00 From A to B(Direct Message):\n\tsecret\n", "no messages to everyone")):
        with pytest.raises(BadArguments, match=words):
            chat.import_chat(call.organiser, find_file=lambda: CallChatFile.holding("chat.txt", bad), breakout_id=breakout)
        assert chat.messages(breakout) == []
    with pytest.raises(NotAllowed):
        chat.import_chat(call.actor("Paul"), find_file=lambda: CallChatFile.holding("chat.txt", good), breakout_id=breakout)
    chat.import_chat(call.organiser, find_file=lambda: CallChatFile.holding("chat.txt", good), breakout_id=breakout)
    chat.mark(breakout, line=31, highlight=True)
    # A second import replaces the first whole, keeping the organiser's marks on the same messages.
    again = chat.import_chat(call.organiser, find_file=lambda: CallChatFile.holding("chat.txt", good), breakout_id=breakout)
    assert again.replaced
    entries = chat.messages(breakout)
    assert len(entries) == 18 and [e.line for e in entries if e.highlighted] == [31]
    # A bad file after a good one changes nothing.
    with pytest.raises(BadArguments):
        chat.import_chat(call.organiser, find_file=lambda: CallChatFile.holding("chat.txt", good + b"\x00"), breakout_id=breakout)
    assert len(chat.messages(breakout)) == 18


def test_forget_me_reaches_the_chat(session):
    call, breakout = session
    import_and_name(call, breakout)
    assert "DG" in [c.label for c in call.app.summaries.build(breakout).chat]
    call.types(call.actor("Dana"), "forget-me")
    summary = call.app.summaries.build(breakout)
    assert "DG" not in [c.label for c in summary.chat]
    assert all("weaponised" not in c.text for c in summary.chat)


def _quotes(call: Call, breakout: int):
    from sqlalchemy import select

    from bot.store.models import Quote

    with call.app.db.transaction() as s:
        return list(s.scalars(select(Quote).where(Quote.breakout_id == breakout)))


def _said_by(call: Call, key: str) -> str:
    from sqlalchemy import select

    from bot.store.models import Person, Quote

    with call.app.db.transaction() as s:
        quote = s.scalar(select(Quote).where(Quote.message_key == key))
        return s.get(Person, quote.person_id).first_name  # type: ignore[union-attr]


def test_the_command_line(session, capsys, tmp_path):
    from bot.cli import main

    call, breakout = session
    db = ["--database", call.settings.database_url]
    assert main([*db, "import-chat", str(breakout), str(CHAT), "--attendance", "65"]) == 0
    out = capsys.readouterr().out
    assert "Imported 18 chat messages from 10 people" in out and "1 direct message was left out" in out
    assert main([*db, "chat-naming", str(breakout), "Priya Hallam (she/her)", "initials"]) == 0
    assert "Priya Hallam will appear as their initials" in capsys.readouterr().out
    assert main([*db, "chat-naming", str(breakout), "Nobody Here", "initials"]) == 1
    assert "Nobody called 'Nobody Here'" in capsys.readouterr().err
    assert main([*db, "chat-naming", str(breakout), "Sunita", "sort of"]) == 1
    assert main([*db, "chat-authors", str(breakout)]) == 0
    authors = capsys.readouterr().out
    assert re.search(r"Priya Hallam\s+2 messages\s+initials\s+\(recorded by an organiser\)", authors)
    assert re.search(r"Dana Goldberg\s+1 message \s+initials\s+\(their own choice\)\s+\[in the groups\]", authors)
    assert main([*db, "chat", str(breakout), "list"]) == 0
    listing = capsys.readouterr().out
    assert "Direct" not in listing and "let me in" not in listing and len(listing.splitlines()) == 18
    assert main([*db, "chat", str(breakout), "exclude", "37"]) == 0
    assert "left out of the write-up" in capsys.readouterr().out
    assert main([*db, "chat", str(breakout), "exclude", "38"]) == 1
    assert main([*db, "attendance", str(breakout), "70"]) == 0
    capsys.readouterr()

    assert main([*db, "summary", str(breakout), "--format", "html"]) == 0
    page = capsys.readouterr().out
    assert page.startswith("<!DOCTYPE html>") and "<strong class=\"count\">70</strong>" in page
    target = tmp_path / "pack.docx"
    assert main([*db, "summary", str(breakout), "--format", "docx", "-o", str(target)]) == 0
    texts = [p.text for p in docx.Document(str(target)).paragraphs]
    assert "From the chat" in texts and any(t.startswith("PH ") for t in texts)
    assert main([*db, "summary", str(breakout)]) == 0
    assert "## From the chat" in capsys.readouterr().out

    missing = tmp_path / "nope.txt"
    assert main([*db, "import-chat", str(breakout), str(missing)]) == 1
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"just some notes\n")
    assert main([*db, "import-chat", str(breakout), str(bad)]) == 1
    assert "bad.txt: line 1: this does not look like a Zoom chat export" in capsys.readouterr().err
