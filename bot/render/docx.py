"""The summary as a Word document: real headings, bold names, real lists, links that click.

Built with python-docx on its default template, or on ``summary.docx`` from the override folder
(``prompts/templates/``) so organisers can bring their own styles: fonts, colours, a logo in the header.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import docx
from docx.document import Document as DocumentType
from docx.enum.style import WD_STYLE_TYPE
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import nsmap, qn
from docx.oxml.parser import oxml_parser
from docx.shared import Pt, RGBColor
from docx.text.paragraph import Paragraph

from bot.domain.summary import Summary
from bot.render.common import (
    CHAT_INTRO,
    FROM_THE_CHAT,
    GROUP_DISCUSSION,
    JOINING,
    NOTES,
    RESOURCES,
    RESOURCES_INTRO,
    clean_text,
    discussion_parts,
    head_count,
    long_date,
    safe_href,
)

TEMPLATE = "summary.docx"
# Clark names of the WordprocessingML elements the hot path makes, resolved once.
_W_NS = {"w": nsmap["w"]}
_P, _PPR, _PSTYLE, _R, _RPR, _B, _I, _COLOR, _T, _BR, _TAB = (
    qn(f"w:{tag}") for tag in ("p", "pPr", "pStyle", "r", "rPr", "b", "i", "color", "t", "br", "tab")
)
_VAL, _SPACE = qn("w:val"), qn("xml:space")
ACCENT = RGBColor(0x6B, 0x3F, 0xA0)


def render_docx(summary: Summary, *, templates: Path | str | None = None) -> bytes:
    document = _base(templates)
    s = summary
    w = _Writer(document)

    if s.series:
        w.para(s.series, style="Subtitle")
    w.para(s.title, style="Title")
    if s.date:
        w.para(long_date(s.date))
    if s.speaker:
        p = w.para("With ")
        _run(p, s.speaker, bold=True)
    if s.highlights_only:
        w.para("Highlights only", italic=True)
    if s.chatham_house:
        w.para("Held under the Chatham House Rule: nobody is named.", italic=True)

    w.heading(JOINING, 1)
    count = head_count(s)
    p = w.para("")
    _run(p, str(count), bold=True)
    groups = f", in {s.group_count} breakout {'group' if s.group_count == 1 else 'groups'}" if s.group_count else ""
    _run(p, f" {'person' if count == 1 else 'people'} came together for this conversation{groups}.")
    if s.hellos:
        w.para("A few of the hellos from around the world…")
        for hello in s.hellos:
            w.para(hello.text, style="List Bullet", italic=True)

    w.heading(GROUP_DISCUSSION, 1)
    if s.questions:
        w.para(f"Breakout groups discussed {'this question' if len(s.questions) == 1 else 'these questions'}:")
        for q in s.questions:
            w.para(f"{q.number}. {q.text}" if w.missing("List Number") else q.text, style="List Number")
    for part in discussion_parts(s):
        w.heading(part.heading, 2)
        if not part.quotes:
            w.para(f"Nothing was shared for this {'group' if s.arrangement == 'group' else 'question'}.", italic=True)
        for quote in part.quotes:
            name = w.para("")
            _run(name, f"{quote.label}:", bold=True)
            if quote.highlight:
                _run(name, "  ★", color=ACCENT)
            w.para(quote.text, style="Quote")

    if s.chat:
        w.heading(FROM_THE_CHAT, 1)
        w.para(CHAT_INTRO)
        for line in s.chat:
            p = w.para("")
            _run(p, line.label, bold=True)
            _run(p, " " + line.text)

    if s.resources:
        w.heading(RESOURCES, 1)
        w.para(RESOURCES_INTRO)
        for r in s.resources:
            p = w.para("", style="List Bullet")
            href = safe_href(r.url)
            text = r.label or r.url
            if href:
                _hyperlink(p, href, text)
            else:
                _run(p, text)
            if r.label:
                _run(p, f" ({r.url})", color=RGBColor(0x5B, 0x64, 0x70))
            if r.context:
                _run(p, f" – {r.context}")
            if r.shared_by:
                _run(p, f" (shared by {', '.join(r.shared_by)})", italic=True)

    if s.notes:
        w.heading(NOTES, 1)
        for note in s.notes:
            w.para(note, style="List Bullet")

    document.core_properties.title = clean_text(s.title)
    if s.series:
        document.core_properties.subject = clean_text(s.series)
    document.core_properties.author = "breakout-bot"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _base(templates: Path | str | None) -> DocumentType:
    if templates is not None and (Path(templates) / TEMPLATE).is_file():
        document = docx.Document(str(Path(templates) / TEMPLATE))
        body = document.element.body
        for child in list(body):
            if child.tag != qn("w:sectPr"):  # keep the page setup, drop the sample content
                body.remove(child)
        return document
    document = docx.Document()
    normal = document.styles["Normal"]
    normal.font.name = "Georgia"
    normal.font.size = Pt(11)
    for name in ("Title", "Heading 1", "Heading 2", "Subtitle"):
        try:
            document.styles[name].font.color.rgb = ACCENT
        except KeyError:
            pass
    return document


class _Writer:
    """Appends paragraphs in constant time each, so a 50,000-quote pack renders in linear time.

    python-docx's ``add_paragraph`` scans the body for the section properties and looks the style up
    by name on every call; here the insertion point and the style ids are found once.
    """

    def __init__(self, document: DocumentType):
        self.document = document
        self.body = document.element.body
        self.section = self.body.find(qn("w:sectPr"))
        self.style_ids = {
            st.name: st.style_id for st in document.styles if st.type == WD_STYLE_TYPE.PARAGRAPH and st.name
        }
        self.parent = document._body

    def missing(self, style: str) -> bool:
        return style not in self.style_ids

    def para(self, text: str, *, style: str | None = None, italic: bool = False) -> Paragraph:
        element = _element(_P)
        if style and style in self.style_ids:
            props, style_ref = _element(_PPR), _element(_PSTYLE)
            style_ref.set(_VAL, self.style_ids[style])
            props.append(style_ref)
            element.append(props)
        if self.section is not None:
            self.section.addprevious(element)
        else:
            self.body.append(element)
        p = Paragraph(element, self.parent)
        if text:
            _run(p, text, italic=italic)
        return p

    def heading(self, text: str, level: int) -> Paragraph:
        if f"Heading {level}" in self.style_ids:
            return self.para(text, style=f"Heading {level}")
        p = self.para("")
        _run(p, text, bold=True)
        return p


def _element(clark_name: str) -> Any:
    return oxml_parser.makeelement(clark_name, nsmap=_W_NS)


def _run(p: Paragraph, text: str, *, bold: bool = False, italic: bool = False, color: RGBColor | None = None) -> None:
    """A run of text; a line break or tab in it stays one (a multi-line quote stays one paragraph).

    Built as XML directly: python-docx's run API re-walks the element's children for every property
    set, which was most of the time a big pack took.
    """
    run = _element(_R)
    if bold or italic or color is not None:
        props = _element(_RPR)  # children in the schema's order: b, i, color
        if bold:
            props.append(_element(_B))
        if italic:
            props.append(_element(_I))
        if color is not None:
            colour = _element(_COLOR)
            colour.set(_VAL, str(color))
            props.append(colour)
        run.append(props)
    for n, line in enumerate(clean_text(text).split("\n")):
        if n:
            run.append(_element(_BR))
        for m, piece in enumerate(line.split("\t")):
            if m:
                run.append(_element(_TAB))
            if piece:
                t = _element(_T)
                t.text = piece
                t.set(_SPACE, "preserve")
                run.append(t)
    p._p.append(run)


def _hyperlink(p: Paragraph, url: str, text: str) -> None:
    """A clickable external link (python-docx has no public API for one)."""
    r_id = p.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), r_id)
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    style = OxmlElement("w:rStyle")
    style.set(qn("w:val"), "Hyperlink")
    props.append(style)
    colour = OxmlElement("w:color")
    colour.set(qn("w:val"), "6B3FA0")
    props.append(colour)
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    props.append(underline)
    run.append(props)
    t = OxmlElement("w:t")
    t.text = clean_text(text)
    t.set(qn("xml:space"), "preserve")
    run.append(t)
    link.append(run)
    p._p.append(link)
