"""The summary as one self-contained HTML page: read on screen, or print to PDF for a pack-like document.

No external assets (fonts, images, scripts); a Content-Security-Policy that allows inline styles only,
so even a template mistake cannot run anything. User text is escaped by Jinja2's autoescape.
"""

from __future__ import annotations

from pathlib import Path

from bot.domain.summary import Summary
from bot.render.common import context, environment

TEMPLATE = "summary.html.j2"


def render_html(summary: Summary, *, templates: Path | str | None = None) -> str:
    """``templates``: a folder whose ``summary.html.j2`` / ``summary.css`` replace the built-in ones."""
    env = environment(templates, autoescape=True)
    return env.get_template(TEMPLATE).render(**context(summary))
