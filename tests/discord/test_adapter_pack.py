"""The insights pack on Discord, end to end: /summary as HTML, DOCX and PDF files, importing the call's Zoom
chat with /summary import_chat, and curation with ⭐ / 🚫 reactions and the message context-menu commands.

Everyone here is made up, the Zoom chat included.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator

import docx
import pytest
from sqlalchemy import func, select

from bot.sandbox.discord import DiscordSandbox, Message, SimMember
from bot.sandbox.discord.model import Channel
from bot.services.curation import NOT_A_QUOTE
from bot.store.models import ChatEntry, ChatImport
from tests.conftest import PROMPTS
from tests.core.harness import prompts_copy
from tests.pack.samples import ZOOM_CHAT
from tests.pack.samples import ZOOM_CHAT_REFLECTION as REFLECTION

from .harness import QUICK, SLOW, SLOW_TEXT_ONLY, DiscordCall


def unescape(markdown: str) -> str:
    return re.sub(r"\\([\\`*_{}\[\]()#+\-.!<>|~])", r"\1", markdown)


@pytest.fixture
def prompts(tmp_path):
    return prompts_copy(tmp_path, PROMPTS, {"quick": QUICK, "slow": SLOW, "slow-text": SLOW_TEXT_ONLY})


@pytest.fixture
def call(sandbox: DiscordSandbox, database_url: str, prompts) -> Iterator[DiscordCall]:
    c = DiscordCall(sandbox, database_url, prompts, in_voice=False)
    yield c
    c.close()


def started(call: DiscordCall) -> tuple[Channel, list[SimMember]]:
    """A text-only breakout from #call-chat; its biggest group channel and that group's people."""
    reply = call.fiona.run_command(call.chat, "breakout start", plan="slow-text").wait(messages=1, timeout=15)
    assert "Started" in reply.text, reply.text
    group = max(call.group_channels(), key=lambda g: len(call.members_of(g)))
    assert len(call.members_of(group)) >= 3
    return group, call.members_of(group)


def summary_text(call: DiscordCall, **options: object) -> str:
    record = call.olu.run_command(call.chat, "summary", **options).wait(messages=1, timeout=15)
    assert record.ephemeral
    [file] = record.files
    return unescape(file.text)


def dm_saying(member: SimMember, words: str, call: DiscordCall, *, count: int = 1) -> list[Message]:
    return call.wait_for(lambda: len(found := [m for m in member.dms() if words in m.content]) >= count and found,
                         what=f"{member.name} to be told {words!r}")  # type: ignore[return-value]


# ----------------------------------------------------------------------------- formats


def test_summary_as_html_and_as_docx_holds_the_quotes(call: DiscordCall) -> None:
    group, people = started(call)
    people[0].say(group, "Kindness starts with listening")
    people[1].say(group, "<script>alert(1)</script> is just text here")
    call.wait_for(lambda: people[1].dms(), what="capture")
    call.fiona.run_command(call.chat, "breakout stop").wait(messages=1, timeout=15)

    html = call.olu.run_command(call.chat, "summary", format="html").wait(messages=1, timeout=15)
    assert html.ephemeral
    [page] = html.files
    assert page.filename.endswith(".html")
    assert page.text.lstrip().lower().startswith("<!doctype html")
    assert "Kindness starts with listening" in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; is just text here" in page.text
    assert "<script>alert(1)</script>" not in page.text  # a quote never becomes markup
    assert "Kindness starts with listening" in html.text  # the preview, as with Markdown

    word = call.olu.run_command(call.chat, "summary", format="docx").wait(messages=1, timeout=15)
    [file] = word.files
    assert file.filename.endswith(".docx") and file.data.startswith(b"PK")
    document = docx.Document(io.BytesIO(file.data))
    paragraphs = [p.text for p in document.paragraphs]
    assert any("Kindness starts with listening" in p for p in paragraphs)
    assert any("<script>alert(1)</script> is just text here" in p for p in paragraphs)
    assert any(p.style.name.startswith("Heading") and "What went well?" in p.text for p in document.paragraphs)


def test_pdf_without_chromium_is_refused_privately(call: DiscordCall, monkeypatch: pytest.MonkeyPatch) -> None:
    group, people = started(call)
    people[0].say(group, "A quote for the printer")
    monkeypatch.setenv("PATH", "")  # no Chromium on this machine
    refused = call.olu.run_command(call.chat, "summary", format="pdf").wait(messages=1, timeout=15)
    assert refused.ephemeral and refused.files == []
    assert "PDF needs headless Chromium" in refused.text and "format:html" in refused.text


@pytest.mark.skipif(shutil.which("chromium") is None, reason="headless Chromium is not installed")
def test_pdf_with_chromium_is_a_pdf_file(call: DiscordCall) -> None:
    group, people = started(call)
    people[0].say(group, "A quote for the printer")
    call.wait_for(lambda: people[0].dms(), what="capture")
    record = call.olu.run_command(call.chat, "summary", format="pdf").wait(messages=1, timeout=60)
    [file] = record.files
    assert file.filename.endswith(".pdf") and file.data.startswith(b"%PDF")


# ----------------------------------------------------------------------------- the call's chat


def test_importing_the_zoom_chat_adds_its_sections_to_the_summary(call: DiscordCall) -> None:
    group, people = started(call)
    people[0].say(group, "A breakout quote beside the chat")
    call.wait_for(lambda: people[0].dms(), what="capture")
    before = summary_text(call)
    assert "From the chat" not in before

    refused = call.fiona.run_command(call.chat, "summary", import_chat=("chat.txt", ZOOM_CHAT)).wait(messages=1)
    assert refused.ephemeral and "Only organisers can import the call's chat" in refused.text

    done = call.olu.run_command(call.chat, "summary", import_chat=("meeting_saved_chat.txt", ZOOM_CHAT)).wait(messages=1)
    assert done.ephemeral and done.files == []
    assert "Imported 3 chat messages from 2 people" in done.text
    assert "1 direct message was left out" in done.text

    text = summary_text(call)
    assert "## From the chat" in text and REFLECTION in text
    assert "## Further resources" in text and "https://example.org/kind-classrooms" in text
    assert "Hello everyone, joining from Valparaiso!" in text  # a hello from the start of the call
    assert "A breakout quote beside the chat" in text
    assert "a private word" not in text
    assert "Idris" not in text and "Fenwick" not in text  # chat-only people get the plan's default: anonymous


def test_a_bad_chat_file_is_refused_and_nothing_is_stored(call: DiscordCall) -> None:
    started(call)
    app = call.runtime.app  # type: ignore[union-attr]
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    refused = call.olu.run_command(call.chat, "summary", import_chat=("chat.txt", png)).wait(messages=1)
    assert refused.ephemeral and refused.files == []
    assert "chat.txt" in refused.text and "binary" in refused.text and "Nothing was imported" in refused.text

    # Too big: refused from the size Discord gives, before the file is fetched at all.
    app.call_chat.max_bytes = 1024
    downloads = len(call.sb.attachment_downloads)
    huge = ZOOM_CHAT + b"18:09:00 From Wren Calloway to Everyone:\n\t" + b"x" * 2000 + b"\n"
    too_big = call.olu.run_command(call.chat, "summary", import_chat=("big.txt", huge)).wait(messages=1)
    assert "larger than the 1 KB limit" in too_big.text and "Nothing was imported" in too_big.text
    assert len(call.sb.attachment_downloads) == downloads

    with app.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(ChatImport)) == 0
        assert s.scalar(select(func.count()).select_from(ChatEntry)) == 0
    assert "From the chat" not in summary_text(call)


# ----------------------------------------------------------------------------- curation


def test_a_facilitators_star_makes_a_highlight(call: DiscordCall) -> None:
    group, people = started(call)
    chosen = people[0].say(group, "This one is the highlight")
    other = people[1].say(group, "This one is not")
    people[2].react(other, "⭐")  # a participant's star means nothing
    call.fiona.react(chosen, "⭐")
    dm_saying(call.fiona, "Marked as a highlight", call)
    assert not [m for m in people[2].dms() if "highlight" in m.content]

    highlights = summary_text(call, highlights=True)
    assert "This one is the highlight" in highlights and "This one is not" not in highlights
    everything = summary_text(call)
    assert "This one is the highlight" in everything and "This one is not" in everything

    call.fiona.unreact(chosen, "⭐")
    dm_saying(call.fiona, "No longer a highlight", call)
    assert "This one is the highlight" not in summary_text(call, highlights=True)


def test_the_authors_no_entry_takes_a_quote_out_and_taking_it_back_restores_it(call: DiscordCall) -> None:
    group, people = started(call)
    author, someone = people[0], people[1]
    mine = author.say(group, "Please leave this out later")
    theirs = someone.say(group, "A quote someone else tries to remove")
    author.react(theirs, "🚫")  # not theirs: ignored, and nobody is told anything
    author.react(mine, "🚫")
    dm_saying(author, "left out of the write-up", call)
    assert len([m for m in author.dms() if "left out" in m.content]) == 1  # only for their own

    text = summary_text(call)
    assert "Please leave this out later" not in text
    assert "A quote someone else tries to remove" in text

    author.unreact(mine, "🚫")
    dm_saying(author, "back in the write-up", call)
    assert "Please leave this out later" in summary_text(call)


def test_reactions_in_a_thread_and_other_emoji(call: DiscordCall) -> None:
    group, people = started(call)
    question = next(m for m in call.sb.bot_messages(group) if "What went well?" in m.content)
    thread = people[0].start_thread(question, "Went well")
    said = people[0].say(thread, "Said in a thread")
    people[0].react(said, "👍")  # no meaning for the write-up
    people[0].react(said, "🚫")
    dm_saying(people[0], "left out of the write-up", call)
    assert "Said in a thread" not in summary_text(call)
    # A ⭐ on the bot's own question is not a quote: ignored without a word.
    call.fiona.react(question, "⭐")
    call.fiona.react(said, "⭐")
    dm_saying(call.fiona, "Marked as a highlight", call)
    assert len([m for m in call.fiona.dms() if "highlight" in m.content]) == 1


def test_leave_out_and_put_back_from_the_message_menu(call: DiscordCall) -> None:
    group, people = started(call)
    author, other = people[0], people[1]
    said = author.say(group, "Changed my mind about this one")
    call.wait_for(lambda: author.dms(), what="capture")

    nope = other.use_message_command(said, "Leave out of write-up").wait(messages=1)
    assert nope.ephemeral and "Only the person who wrote a message" in nope.text
    assert "Changed my mind about this one" in summary_text(call)

    out = author.use_message_command(said, "Leave out of write-up").wait(messages=1)
    assert out.ephemeral and "left out of the write-up" in out.text
    assert "Changed my mind about this one" not in summary_text(call)

    question = next(m for m in call.sb.bot_messages(group) if "What went well?" in m.content)
    not_a_quote = author.use_message_command(question, "Put back in write-up").wait(messages=1)
    assert not_a_quote.ephemeral and not_a_quote.text == NOT_A_QUOTE

    back = author.use_message_command(said, "Put back in write-up").wait(messages=1)
    assert back.ephemeral and "back in the write-up" in back.text
    assert "Changed my mind about this one" in summary_text(call)


def test_the_commands_discord_is_given(call: DiscordCall) -> None:
    from bot.adapters.discord.client import breakout_intents

    registered = {(c["name"], c["type"]): c for c in call.sb.commands()}
    assert ("Leave out of write-up", 3) in registered and ("Put back in write-up", 3) in registered
    summary = registered[("summary", 1)]
    options = {o["name"]: o for o in summary["options"]}
    assert options["import_chat"]["type"] == 11  # an attachment
    assert [c["value"] for c in options["format"]["choices"]] == ["md", "html", "docx", "pdf"]
    assert breakout_intents().guild_reactions and not breakout_intents().presences
    doc = (PROMPTS.parent / "deploy" / "discord.md").read_text(encoding="utf-8")
    for words in ("import_chat", "format:md\\|html\\|docx\\|pdf", "Leave out of write-up", "Put back in write-up",
                  "reactions** intent"):
        assert words in doc, words
