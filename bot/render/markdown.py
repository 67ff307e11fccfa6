"""Summary -> Markdown, through a Jinja2 template (``prompts/templates/summary.md.j2`` overrides it).

Quote text is user text: Markdown's active characters are escaped so a quote can't inject links,
headings or HTML into the write-up.
"""

from __future__ import annotations

import re
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

from bot.domain.summary import Summary

TEMPLATES = Path(__file__).with_name("templates")
# Characters that start emphasis, code, links, HTML or tables anywhere in a line; the ones that
# matter only at a line's start (#, +, -, 1.) are handled in escape_block.
_ACTIVE = re.compile(r"([\\`*_\[\]<>|~])")
_ENTITY = re.compile(r"&(?=#?\w+;)")


def escape_inline(text: object) -> str:
    if text is None:
        return ""
    # '&' only matters where it would start an entity (&copy;); elsewhere it stays readable.
    return _ENTITY.sub("&amp;", _ACTIVE.sub(r"\\\1", str(text)))


def escape_block(text: object) -> str:
    """Escape, keep the author's line breaks, and stop a line from starting a list or heading."""
    lines = []
    for line in str(text).splitlines() or [""]:
        line = escape_inline(line)
        line = re.sub(r"^(\s*)(\d+)\.", r"\1\2\\.", line)
        line = re.sub(r"^(\s*)([-=+#]|>)", lambda m: m.group(1) + "\\" + m.group(2), line)
        lines.append(line)
    return "  \n".join(lines)


def escape_url(url: object) -> str:
    return str(url).replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")


def environment(override_dir: Path | None = None) -> Environment:
    loaders = [FileSystemLoader(str(override_dir))] if override_dir and Path(override_dir).is_dir() else []
    env = Environment(
        loader=ChoiceLoader([*loaders, FileSystemLoader(str(TEMPLATES))]),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters.update(md=escape_inline, mdblock=escape_block, mdurl=escape_url)
    return env


def render_markdown(summary: Summary, *, templates: Path | None = None) -> str:
    text = environment(templates).get_template("summary.md.j2").render(s=summary)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
