"""The DOCX read back with python-docx: headings, bold names, lists, every section and quote."""

from __future__ import annotations

import io
import shutil
import subprocess

import docx
import pytest
from docx.opc.constants import RELATIONSHIP_TYPE

from bot.render.docx import render_docx

from .samples import HOSTILE, all_quote_texts, grouped_summary, sample_summary


def read(data: bytes):
    return docx.Document(io.BytesIO(data))


def test_sections_are_real_headings_in_order():
    doc = read(render_docx(sample_summary()))
    headings = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings == [
        ("Title", "Kindness in Teaching"),
        ("Heading 1", "Joining the Conversation from across the world"),
        ("Heading 1", "Group discussion"),
        ("Heading 2", "1. How could we better prepare students to be kind?"),
        ("Heading 2", "2. How do we encourage kindness towards <students>?"),
        ("Heading 1", "From the chat"),
        ("Heading 1", "Further resources"),
        ("Heading 1", "Notes"),
    ]


def test_every_quote_with_its_name_in_bold():
    summary = sample_summary()
    doc = read(render_docx(summary))
    paragraphs = doc.paragraphs
    texts = [p.text for p in paragraphs]
    for section in summary.questions:
        for quote in section.quotes:
            i = texts.index(quote.text)
            name = paragraphs[i - 1]
            assert name.runs[0].text == f"{quote.label}:" and name.runs[0].bold
            assert paragraphs[i].style.name == "Quote"
    assert HOSTILE[2] + "\nand a second line" in texts  # a line break inside one paragraph


def test_lists_chat_and_resources():
    doc = read(render_docx(sample_summary()))
    by_style: dict[str, list[str]] = {}
    for p in doc.paragraphs:
        by_style.setdefault(p.style.name, []).append(p.text)
    assert by_style["List Number"] == [
        "How could we better prepare students to be kind?",
        "How do we encourage kindness towards <students>?",
    ]
    bullets = by_style["List Bullet"]
    assert "Hello everyone, joining from Lagos!" in bullets
    assert any(b.startswith("https://example.org/kindness-review – Here is the article") and "(shared by Jun)" in b for b in bullets)
    chat = [p for p in doc.paragraphs if p.text.startswith("DG ")]
    assert chat and chat[0].runs[0].bold and chat[0].runs[0].text == "DG"


def test_links_click_but_never_javascript():
    doc = read(render_docx(sample_summary()))
    targets = [r.target_ref for r in doc.part.rels.values() if r.reltype == RELATIONSHIP_TYPE.HYPERLINK]
    assert "https://example.org/kindness-review" in targets
    assert not any(t.startswith("javascript") for t in targets)


def test_grouped_and_control_characters():
    summary = grouped_summary()
    doc = read(render_docx(summary))
    texts = [p.text for p in doc.paragraphs]
    assert "Group 1" in texts and "Group 2" in texts
    for quote in all_quote_texts(summary):
        assert quote in texts
    weird = sample_summary(title="Bell\x07 and NUL\x00 chars")
    assert read(render_docx(weird)).paragraphs[1].text == "Bell and NUL chars"


def test_organisers_styles_from_a_template(tmp_path):
    base = docx.Document()
    base.add_paragraph("sample content to be dropped")
    base.styles["Normal"].font.name = "Comic Neue"
    base.save(tmp_path / "summary.docx")
    doc = read(render_docx(sample_summary(), templates=tmp_path))
    assert doc.styles["Normal"].font.name == "Comic Neue"
    assert "sample content to be dropped" not in [p.text for p in doc.paragraphs]
    assert doc.paragraphs[1].text == "Kindness in Teaching"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_it(tmp_path):
    """Where LibreOffice is installed, it opens the DOCX and prints every quote (a strict second reader)."""
    source = tmp_path / "summary.docx"
    source.write_bytes(render_docx(sample_summary()))
    done = subprocess.run(
        ["soffice", "--headless", "--norestore", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
         "--convert-to", "txt:Text", "--outdir", str(tmp_path), str(source)],
        capture_output=True, timeout=120, check=False,
    )
    text = (tmp_path / "summary.txt").read_text(encoding="utf-8-sig") if (tmp_path / "summary.txt").exists() else ""
    assert text, done.stderr.decode()[-500:]
    for quote in all_quote_texts(sample_summary()):
        assert quote.split("\n")[0] in text
