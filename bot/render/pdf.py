"""The HTML page printed to PDF by headless Chromium, the same engine a person's "print to PDF" uses.

Chromium is an optional system package (Debian: ``apt-get install chromium``); without it the
PDF format is refused with a message that says so, and the other formats still work.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bot.domain.summary import Summary
from bot.render.html import render_html

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--mute-audio",
    "--no-pdf-header-footer",
    "--print-to-pdf-no-header",
)


class PdfUnavailable(RuntimeError):
    """Chromium is not installed, so there is no PDF; Markdown, HTML and DOCX still work."""


class PdfFailed(RuntimeError):
    """Chromium ran but gave no PDF."""


def find_chromium(explicit: str | os.PathLike[str] | None = None) -> str:
    """The browser to print with: ``explicit`` if given, else the first Chromium on PATH."""
    if explicit is not None:
        path = shutil.which(str(explicit)) or (str(explicit) if Path(explicit).is_file() else None)
        if path is None:
            raise PdfUnavailable(f"PDF needs headless Chromium, and {explicit} was not found.")
        return path
    for name in CANDIDATES:
        if found := shutil.which(name):
            return found
    raise PdfUnavailable(
        "PDF needs headless Chromium, which is not installed here. Install it "
        "(Debian/Ubuntu: apt-get install chromium), or ask for --format html and use the browser's "
        "Print > Save as PDF."
    )


def chromium_command(chromium: str, profile: Path, html: Path, out: Path, extra: Sequence[str] = ()) -> list[str]:
    return [
        chromium,
        *FLAGS,
        f"--user-data-dir={profile}",
        *extra,
        f"--print-to-pdf={out}",
        html.as_uri(),
    ]


def html_to_pdf(html: str, *, chromium: str | os.PathLike[str] | None = None, timeout: float = 60.0) -> bytes:
    """Print an HTML document to PDF bytes. Each run gets its own throwaway profile."""
    browser = find_chromium(chromium)
    with tempfile.TemporaryDirectory(prefix="breakout-pdf-") as tmp:
        root = Path(tmp)
        page, out, profile = root / "summary.html", root / "summary.pdf", root / "profile"
        page.write_text(html, encoding="utf-8")
        try:
            done = subprocess.run(
                chromium_command(browser, profile, page, out),
                capture_output=True,
                timeout=timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise PdfFailed(f"Chromium took longer than {timeout:.0f}s to print the summary.") from None
        data = out.read_bytes() if out.exists() else b""
        if not data.startswith(b"%PDF"):
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise PdfFailed(f"Chromium gave no PDF (exit {done.returncode}): {' | '.join(tail)}")
        return data


def render_pdf(
    summary: Summary,
    *,
    templates: Path | str | None = None,
    chromium: str | os.PathLike[str] | None = None,
    timeout: float = 60.0,
) -> bytes:
    return html_to_pdf(render_html(summary, templates=templates), chromium=chromium, timeout=timeout)
