"""One place that turns a Summary into a file of the format asked for: md, html, docx or pdf."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bot.domain.summary import Summary

FORMATS = ("md", "html", "docx", "pdf")
MIMETYPES = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


@dataclass(frozen=True)
class Rendered:
    format: str
    content: bytes
    mimetype: str

    @property
    def extension(self) -> str:
        return "." + self.format

    @property
    def is_text(self) -> bool:
        return self.format in ("md", "html")


class TemplateProblem(ValueError):
    """An overriding template (prompts/templates/) that does not render; says which file and line."""


def render_summary(
    summary: Summary, fmt: str, *, templates: Path | str | None = None, chromium: str | os.PathLike[str] | None = None
) -> Rendered:
    """Raises ValueError for an unknown format or a broken template, ``bot.render.pdf.PdfUnavailable``
    without Chromium."""
    from jinja2 import TemplateError

    try:
        return _render(summary, fmt, templates=templates, chromium=chromium)
    except TemplateError as exc:
        import traceback

        where, line = getattr(exc, "filename", None) or getattr(exc, "name", None), getattr(exc, "lineno", None)
        for frame in traceback.extract_tb(exc.__traceback__):  # Jinja maps template frames to their lines
            if frame.filename.endswith((".j2", ".css")):
                where, line = frame.filename, frame.lineno
        where = where or "a template"
        raise TemplateProblem(
            f"The summary template {where}{f' (line {line})' if line else ''} does not work: "
            f"{exc.message or exc}. Fix it, or remove it to use the built-in one."
        ) from None


def _render(
    summary: Summary, fmt: str, *, templates: Path | str | None, chromium: str | os.PathLike[str] | None
) -> Rendered:
    fmt = {"markdown": "md", "htm": "html", "word": "docx"}.get(fmt.lower(), fmt.lower())
    if fmt == "md":
        from bot.render.markdown import render_markdown

        content = render_markdown(summary, templates=Path(templates) if templates else None).encode("utf-8")
    elif fmt == "html":
        from bot.render.html import render_html

        content = render_html(summary, templates=templates).encode("utf-8")
    elif fmt == "docx":
        from bot.render.docx import render_docx

        content = render_docx(summary, templates=templates)
    elif fmt == "pdf":
        from bot.render.pdf import render_pdf

        content = render_pdf(summary, templates=templates, chromium=chromium)
    else:
        raise ValueError(f"format={fmt}: use one of {', '.join(FORMATS)}")
    return Rendered(fmt, content, MIMETYPES[fmt])
