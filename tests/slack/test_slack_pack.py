"""The insights pack on Slack, end to end through the sandbox: /summary as HTML, DOCX and PDF files,
/summary import of a Zoom chat file the organiser shared, and curation with ⭐ / 🚫 reactions and the
"Leave out of write-up" / "Put back in write-up" message shortcuts.

Everyone here is made up, the Zoom chat included.
"""

from __future__ import annotations

import io
import re
import shutil

import docx
import pytest
from sqlalchemy import func, select

from bot.adapters.slack.blocks import PUT_BACK_SHORTCUT, TAKE_OUT_SHORTCUT
from bot.services.curation import NOT_A_QUOTE
from bot.store.models import ChatEntry, ChatImport
from tests.pack.samples import ZOOM_CHAT
from tests.pack.samples import ZOOM_CHAT_REFLECTION as REFLECTION

MODES = ["socket", "http"]

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


def unescape(markdown: str) -> str:
    return re.sub(r"\\([\\`*_{}\[\]()#+\-.!<>|~])", r"\1", markdown)


def settle(call) -> None:
    """Every event delivered so far is acknowledged, so its quote (or curation) is committed."""
    call.sb.wait_until(lambda: all(d.acked.is_set() for d in call.sb.events()), message="every event acknowledged")


def started(call):
    call.answer(call.breakout("start kindness-in-education groups=3"))
    group = max(call.group_channels(), key=lambda c: len(c.members))
    people = [p for p in call.people if p.id in group.members]
    assert len(people) >= 3
    return group, people


def pull(call, text: str = "", user=None):
    """/summary TEXT by the organiser: (the newest file they were sent, or None; the final note)."""
    user = user or call.olu
    before = {f.id for f in user.files()}
    result = user.run_command(call.home, "/summary", text)
    final = call.sb.wait_until(lambda: next((r for r in result.responses if not r.text.startswith("Summary")), None),
                               timeout=60, message="the summary's closing note")
    note = final.text
    new = [f for f in user.files() if f.id not in before]
    assert len(new) <= 1
    return (new[0] if new else None), note


def summary_md(call, text: str = "") -> str:
    file, note = pull(call, text)
    assert file is not None and file.filename.endswith(".md"), note
    return unescape(file.text)


# ----------------------------------------------------------------------------- formats


def test_summary_as_html_and_docx_files(call_factory) -> None:
    call = call_factory()
    group, people = started(call)
    people[0].post(group, "Kindness starts with listening")
    people[1].post(group, "<script>alert(1)</script> is just text here")
    settle(call)

    page, note = pull(call, "format=html")
    assert page is not None and page.filename == "summary-breakout-1.html", note
    assert "summary-breakout-1.html" in note
    assert page.text.lstrip().lower().startswith("<!doctype html")
    assert "Kindness starts with listening" in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; is just text here" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "web page" in (page.initial_comment or "")

    word, _ = pull(call, "format=docx")
    assert word is not None and word.filename == "summary-breakout-1.docx" and word.content.startswith(b"PK")
    document = docx.Document(io.BytesIO(word.content))
    paragraphs = [p.text for p in document.paragraphs]
    assert any("Kindness starts with listening" in p for p in paragraphs)
    assert any("<script>alert(1)</script> is just text here" in p for p in paragraphs)
    assert any(p.style.name.startswith("Heading") for p in document.paragraphs)


def test_pdf_without_chromium_is_refused_privately(call_factory, monkeypatch: pytest.MonkeyPatch) -> None:
    call = call_factory()
    group, people = started(call)
    people[0].post(group, "A quote for the printer")
    settle(call)
    monkeypatch.setenv("PATH", "")  # no Chromium on this machine
    file, note = pull(call, "format=pdf")
    assert file is None
    assert "PDF needs headless Chromium" in note and "format=html" in note, note
    assert all(e["user"] == call.olu.id for e in call.sb.ephemerals(channel=call.home) if "Chromium" in e["text"])


@pytest.mark.skipif(shutil.which("chromium") is None, reason="headless Chromium is not installed")
def test_pdf_with_chromium_is_a_pdf_file(call_factory) -> None:
    call = call_factory()
    group, people = started(call)
    people[0].post(group, "A quote for the printer")
    settle(call)
    file, note = pull(call, "format=pdf")
    assert file is not None and file.filename == "summary-breakout-1.pdf", note
    assert file.content.startswith(b"%PDF")


# ----------------------------------------------------------------------------- the call's chat


@pytest.mark.parametrize("mode", MODES)
def test_importing_a_shared_zoom_chat_adds_its_sections(call_factory, mode: str) -> None:
    call = call_factory(mode=mode)
    sb = call.sb
    group, people = started(call)
    people[0].post(group, "A breakout quote beside the chat")
    settle(call)
    assert "From the chat" not in summary_md(call)

    dm = sb.dm(call.olu)
    nothing = call.answer(call.olu.run_command(dm, "/summary", "import"))
    assert "can't find a file you shared here" in nothing, nothing

    # Not an organiser: refused before any file is looked for.
    call.fiona.share_file(call.home, "meeting_saved_chat.txt", ZOOM_CHAT)
    listed = len(sb.calls("files.list"))
    refused = call.answer(call.fiona.run_command(call.home, "/summary", "import"))
    assert refused.startswith("Only organisers can import the call's chat"), refused
    assert len(sb.calls("files.list")) == listed and sb.downloads == []

    # The organiser shares the export in their DM with the bot (an older, other file first), then imports.
    call.olu.share_file(dm, "notes.txt", b"18:00:00 From Wren Calloway to Everyone:\n\tan older file\n")
    shared = call.olu.share_file(dm, "meeting_saved_chat.txt", ZOOM_CHAT)
    done = call.answer(call.olu.run_command(dm, "/summary", "import"))
    assert "Imported 3 chat messages from 2 people" in done, done
    assert "1 direct message was left out" in done and "breakout 1" in done
    assert [d["file"] for d in sb.downloads] == [shared.id] and sb.downloads[0]["authorized"]
    assert all(e["user"] == call.olu.id for e in sb.ephemerals(channel=dm))

    text = summary_md(call)
    assert "## From the chat" in text and REFLECTION in text
    assert "https://example.org/kind-classrooms" in text
    assert "Hello everyone, joining from Valparaiso!" in text
    assert "A breakout quote beside the chat" in text
    assert "a private word" not in text and "an older file" not in text
    assert "Idris" not in text and "Fenwick" not in text  # chat-only people get the plan's default: anonymous
    # The Slack message shows the chat too.
    result = call.olu.run_command(call.home, "/summary", "")
    call.answer(result)
    shown = "\n".join(str(b) for r in result.responses for b in r.body.get("blocks") or [])
    assert "From the chat" in shown and REFLECTION in shown


def test_a_bad_or_oversized_chat_file_is_refused_and_nothing_is_stored(call_factory) -> None:
    call = call_factory()
    sb = call.sb
    started(call)
    core = call.bot.core
    call.olu.share_file(call.home, "chat.txt", PNG, mimetype="image/png", filetype="png")
    refused = call.answer(call.olu.run_command(call.home, "/summary", "import"))
    assert "chat.txt" in refused and "binary" in refused and "Nothing was imported" in refused, refused
    assert len(sb.downloads) == 1

    # Too big: refused from the size files.list gives, before a byte is fetched.
    core.call_chat.max_bytes = 1024
    huge = ZOOM_CHAT + b"18:09:00 From Wren Calloway to Everyone:\n\t" + b"x" * 2000 + b"\n"
    big = call.olu.share_file(call.home, "big.txt", huge)
    too_big = call.answer(call.olu.run_command(call.home, "/summary", "import"))
    assert "big.txt" in too_big and "larger than the 1 KB limit" in too_big, too_big
    assert "Nothing was imported" in too_big
    assert big.id not in [d["file"] for d in sb.downloads] and len(sb.downloads) == 1

    with core.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(ChatImport)) == 0
        assert s.scalar(select(func.count()).select_from(ChatEntry)) == 0
    assert "From the chat" not in summary_md(call)


# ----------------------------------------------------------------------------- curation


def told(call, user, channel, words: str) -> list[dict]:
    return call.sb.wait_until(lambda: [e for e in user.ephemerals(channel) if words in e["text"]],
                              message=f"{user.name} to be told {words!r}")


@pytest.mark.parametrize("mode", MODES)
def test_a_facilitators_star_makes_a_highlight(call_factory, mode: str) -> None:
    call = call_factory(mode=mode)
    group, people = started(call)
    chosen = people[0].post(group, "This one is the highlight")
    other = people[1].post(group, "This one is not")
    settle(call)
    people[2].react(group, other, "star")  # a participant's star means nothing
    call.fiona.react(group, chosen, "star")
    told(call, call.fiona, group, "Marked as a highlight")
    settle(call)
    assert not [e for e in people[2].ephemerals() if "highlight" in e["text"]]

    highlights = summary_md(call, "highlights")
    assert "This one is the highlight" in highlights and "This one is not" not in highlights
    everything = summary_md(call)
    assert "This one is the highlight" in everything and "This one is not" in everything

    call.fiona.unreact(group, chosen, "star")
    told(call, call.fiona, group, "No longer a highlight")
    assert "This one is the highlight" not in summary_md(call, "highlights")


def test_the_authors_no_entry_takes_a_quote_out_and_back(call_factory) -> None:
    call = call_factory()
    group, people = started(call)
    author, someone = people[0], people[1]
    mine = author.post(group, "Please leave this out later")
    theirs = someone.post(group, "A quote someone else tries to remove")
    question = call.question_ts(group, 1)
    reply = author.reply(group, question, "Said in a thread")
    settle(call)
    author.react(group, theirs, "no_entry_sign")  # not theirs: ignored, and nobody is told anything
    author.react(group, mine, "thumbsup")  # no meaning for the write-up
    author.react(group, mine, "no_entry_sign")
    author.react(group, reply, "no_entry_sign")
    sb = call.sb
    sb.wait_until(lambda: len([e for e in author.ephemerals(group) if "left out of the write-up" in e["text"]]) == 2,
                  message="both of the author's messages taken out")
    settle(call)
    assert len([e for e in author.ephemerals(group) if "left out" in e["text"]]) == 2  # only for their own

    text = summary_md(call)
    assert "Please leave this out later" not in text and "Said in a thread" not in text
    assert "A quote someone else tries to remove" in text

    author.unreact(group, mine, "no_entry_sign")
    told(call, author, group, "back in the write-up")
    text = summary_md(call)
    assert "Please leave this out later" in text and "Said in a thread" not in text


def test_leave_out_and_put_back_shortcuts(call_factory) -> None:
    call = call_factory(mode="http")
    group, people = started(call)
    author, other = people[0], people[1]
    said = author.post(group, "Changed my mind about this one")
    settle(call)

    other.shortcut(group, said, TAKE_OUT_SHORTCUT)
    told(call, other, group, "Only the person who wrote a message")
    assert "Changed my mind about this one" in summary_md(call)

    author.shortcut(group, said, TAKE_OUT_SHORTCUT)
    told(call, author, group, "left out of the write-up")
    assert "Changed my mind about this one" not in summary_md(call)

    author.shortcut(group, call.question_ts(group, 1), PUT_BACK_SHORTCUT)
    told(call, author, group, NOT_A_QUOTE)

    author.shortcut(group, said, PUT_BACK_SHORTCUT)
    told(call, author, group, "back in the write-up")
    assert "Changed my mind about this one" in summary_md(call)
    answered = [e for e in call.sb.workspace.ephemerals if e["source"] == "response_url" and e["channel"] == group.id]
    assert {e["user"] for e in answered} <= {author.id, other.id}  # privately, to whoever used the shortcut
    assert not [m for m in call.sb.bot_messages(group) if "Done:" in m["text"]]  # nothing said in the channel
