"""The HTML in a real browser: every quote visible, nothing wider than the page, no user script runs,
and it prints to PDF. Needs Debian's ``chromium`` (``apt-get install chromium``); skips without it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.render.html import render_html
from bot.render.pdf import FLAGS, PdfUnavailable, find_chromium, html_to_pdf, render_pdf

from .samples import all_quote_texts, grouped_summary, sample_summary

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")

# Run by the test only, after the page's own content: measures what a reader would see.
PROBE = """
<script>
(function () {
  var width = document.documentElement.clientWidth;
  var wide = [];
  document.querySelectorAll("body *").forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.width && (r.right > width + 1 || r.left < -1)) wide.push(el.tagName + "." + el.className + " " + Math.round(r.right));
    else if (el.clientWidth && el.scrollWidth > el.clientWidth + 1) wide.push(el.tagName + "." + el.className + " holds " + el.scrollWidth);
  });
  var quotes = Array.prototype.map.call(document.querySelectorAll(".quote-text"), function (el) {
    var r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return {text: el.innerText, visible: r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none"
            && parseFloat(s.opacity) > 0 && r.left >= 0 && r.right <= width + 1};
  });
  var out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({title: document.title, scrollWidth: document.documentElement.scrollWidth,
    width: width, wide: wide, quotes: quotes, scripts: document.scripts.length});
  document.body.appendChild(out);
})();
</script>
"""


def probe(page: str, tmp_path: Path, width: int) -> dict:
    # The page's CSP forbids every script; drop it here so the probe runs, and so the test proves that
    # escaping alone keeps the hostile quotes inert.
    page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    assert "Content-Security-Policy" not in page
    page = page.replace("</body>", PROBE + "</body>")
    path = tmp_path / f"page-{width}.html"
    path.write_text(page, encoding="utf-8")
    done = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={width},1100", "--dump-dom", path.as_uri()],
        capture_output=True, timeout=90, check=False, stdin=subprocess.DEVNULL,
    )
    dom = done.stdout.decode("utf-8")
    m = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert m, f"no probe output; chromium said: {done.stderr.decode()[-500:]}"
    import html as h

    return json.loads(h.unescape(m.group(1)))


@needs_chromium
@pytest.mark.parametrize("width", [820, 390])  # an A4-ish column, and a phone
@pytest.mark.parametrize("make", [sample_summary, grouped_summary])
def test_every_quote_visible_nothing_overflows_no_script_runs(tmp_path, width, make):
    summary = make()
    result = probe(render_html(summary), tmp_path, width)
    assert result["title"] == "Kindness in Teaching · Conversations for Kindness"  # the hostile quotes set it to "pwned"
    assert result["scripts"] == 1  # only the probe
    assert result["wide"] == [] and result["scrollWidth"] <= result["width"], result["wide"]
    shown = [q["text"].strip() for q in result["quotes"]]
    assert shown == [t.strip() for t in all_quote_texts(summary)]
    assert all(q["visible"] for q in result["quotes"])


@needs_chromium
def test_prints_to_pdf():
    data = render_pdf(sample_summary(), chromium=CHROMIUM)
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert pages >= 4  # title page, then each section on its own page


@needs_chromium
def test_pdf_of_any_html():
    assert html_to_pdf("<!DOCTYPE html><p>hi</p>", chromium=CHROMIUM).startswith(b"%PDF")


@needs_chromium
def test_the_probe_catches_a_broken_page(tmp_path):
    """Negative control: a template that trusts user text, and a stylesheet that lets words run wide."""
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "summary.html.j2").write_text(
        "<!DOCTYPE html><html><head><title>ok</title><style>{% include 'summary.css' %}</style></head><body>"
        "{% for p in parts %}{% for q in p.quotes %}<p class='quote-text'>{{ q.text|safe }}</p>{% endfor %}{% endfor %}"
        "</body></html>"
    )
    (broken / "summary.css").write_text("body { margin: 0 }")
    result = probe(render_html(sample_summary(), templates=broken), tmp_path, 390)
    assert result["title"] == "pwned"
    assert result["wide"] and result["scrollWidth"] > result["width"]


def test_pdf_without_chromium_says_what_to_do(monkeypatch):
    with pytest.raises(PdfUnavailable, match="Chromium"):
        find_chromium("/nonexistent/chromium")
    monkeypatch.setenv("PATH", "")
    with pytest.raises(PdfUnavailable, match="apt-get install chromium"):
        find_chromium()
