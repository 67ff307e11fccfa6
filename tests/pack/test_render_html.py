"""The HTML page: self-contained, every user string escaped, templates overridable."""

from __future__ import annotations

import html
from html.parser import HTMLParser

from bot.render.html import render_html

from .samples import HOSTILE, all_quote_texts, grouped_summary, sample_summary


class Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Elements:
    p = Elements()
    p.feed(page)
    return p


def test_user_markup_is_text_never_elements():
    page = render_html(sample_summary())
    parsed = parse(page)
    assert not any(tag in ("script", "img", "b", "i", "iframe") for tag, _ in parsed.tags)
    assert not any(name.startswith("on") for _, attrs in parsed.tags for name in attrs)
    body = "".join(parsed.text)
    for hostile in HOSTILE:
        assert hostile.split("\n")[0] in body
    assert "&lt;script&gt;" in page and "<script" not in page


def test_only_safe_links_are_links():
    parsed = parse(render_html(sample_summary()))
    hrefs = [attrs["href"] for tag, attrs in parsed.tags if tag == "a"]
    assert all(h.startswith(("https://", "#")) for h in hrefs)
    assert {h for h in hrefs if h.startswith("#")} == {"#joining", "#group-discussion", "#from-the-chat", "#further-resources"}
    assert "javascript:alert(1)" in "".join(parsed.text)  # shown as text, not a link


def test_self_contained():
    page = render_html(sample_summary())
    parsed = parse(page)
    for tag, attrs in parsed.tags:
        for name in ("src", "href"):
            value = attrs.get(name)
            if value and tag != "a":
                raise AssertionError(f"external asset: <{tag} {name}={value}>")
    assert "@import" not in page and "url(" not in page
    assert "Content-Security-Policy" in page


def test_every_section_and_quote_in_the_pack_order():
    summary = sample_summary()
    page = render_html(summary)
    text = html.unescape(page[page.index("<body"):])
    text = text[:text.index("<nav")] + text[text.index("</nav>"):]  # the contents list names the sections first
    order = [
        "Conversations for Kindness", "Kindness in Teaching", "18 January 2024",
        "Joining the Conversation from across the world", "65", "Hello everyone, joining from Lagos!",
        "Group discussion", "How could we better prepare", "Mira:",
        "From the chat", "Participants also shared their reflections in the chat:", "DG",
        "Further resources", "https://example.org/kindness-review", "(shared by Jun)", "Notes",
    ]
    positions = [text.index(s) for s in order]
    assert positions == sorted(positions)
    for quote in all_quote_texts(summary):
        assert quote in text


def test_grouped_arrangement():
    page = html.unescape(render_html(grouped_summary()))
    assert "Group 1" in page and "Group 2" in page
    for quote in all_quote_texts(grouped_summary()):
        assert quote in page


def test_empty_pack_still_renders():
    page = render_html(sample_summary(questions=(), chat=(), hellos=(), resources=(), notes=(), attendance=None, date=None, series=None))
    assert "Kindness in Teaching" in page and "9</strong> people" in page
    assert "From the chat" not in page and "Further resources" not in page


def test_templates_can_be_overridden_and_stay_escaped(tmp_path):
    (tmp_path / "summary.html.j2").write_text(
        "<h1>{{ summary.title }}</h1>{% for p in parts %}{% for q in p.quotes %}<p>{{ q.text }}</p>{% endfor %}{% endfor %}"
    )
    page = render_html(sample_summary(title="<Ours>"), templates=tmp_path)
    assert page.startswith("<h1>&lt;Ours&gt;</h1>")
    assert "<script" not in page
    (tmp_path / "summary.html.j2").unlink()
    (tmp_path / "summary.css").write_text("body { color: rebeccapurple }")
    page = render_html(sample_summary(), templates=tmp_path)
    assert "rebeccapurple" in page and "Group discussion" in page


def test_missing_override_folder_falls_back(tmp_path):
    assert "Group discussion" in render_html(sample_summary(), templates=tmp_path / "nope")


def test_a_broken_override_template_says_which_and_where(tmp_path):
    import pytest

    from bot.render.formats import TemplateProblem, render_summary

    (tmp_path / "summary.html.j2").write_text("<h1>{{ summary.title }}</h1>\n{{ summary.no_such_field }}\n")
    with pytest.raises(TemplateProblem, match=r"summary.html.j2.*line 2.*no_such_field"):
        render_summary(sample_summary(), "html", templates=tmp_path)
    (tmp_path / "summary.html.j2").write_text("{% for x in %}")
    with pytest.raises(TemplateProblem, match="summary.html.j2"):
        render_summary(sample_summary(), "html", templates=tmp_path)
