"""Links in the write-up, in every format (Markdown, HTML, DOCX, Slack blocks, and Discord, which shows the
Markdown): the real address is always shown, and an address that names someone beyond their consent only
by its site."""

from __future__ import annotations

import html
import io
import re

import docx
import pytest

from bot.adapters.slack.blocks import summary_blocks
from bot.domain.consent import Level
from bot.render.docx import render_docx
from bot.render.html import render_html
from bot.render.markdown import render_markdown
from tests.conftest import PROMPTS
from tests.core.harness import Call, prompts_copy

CHAT = (
    "18:00:05 From Mira Okafor to Everyone:\n\tMy page - all about me https://example.org/people/mira-okafor\n"
    "18:01:00 From Mira Okafor to Everyone:\n\tHello from Lagos, everyone!\n"
)


@pytest.fixture
def summary(database_url, tmp_path):
    call = Call(database_url, prompts_copy(tmp_path, PROMPTS), time_scale=1.0, people=4)
    try:
        call.facilitator_types("start kindness-in-education")
        breakout = call.status().breakout_id
        for first in ("Matthew", "Felize"):
            call.app.consents.choose(
                call.actor(first), level=Level.FIRST_NAME, via="command", channel_id=call.channel_of(first)
            )
        # Paul never chose: the plan's default (anonymous) keeps his name out, addresses included.
        call.says(
            "Matthew",
            "Official advice: <https://evil.example/x|https://nhs.uk/official>, "
            "and <https://evil.example/y|the guidance>",
        )
        call.says(
            "Felize",
            "Paul's talk: https://example.org/talks/paul-brennan and <https://paulbrennan.example.com/cv|his CV>",
        )
        call.app.call_chat.import_into(breakout, CHAT, filename="chat.txt", imported_by="test")
        yield call.app.summaries.build(breakout)
    finally:
        call.close()


def shown_in_every_format(summary) -> dict[str, str]:
    """What a reader sees in each format (for HTML and DOCX: the text, not the markup behind it)."""
    slack = "\n".join(b["text"]["text"] for b in summary_blocks(summary) if b.get("text"))
    return {
        # as a Markdown viewer (and Discord) shows it: a [text](url) link shows text
        "markdown (and Discord)": re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", render_markdown(summary)),
        "html": html.unescape(re.sub(r"<[^>]+>", " ", render_html(summary))),
        "docx": "\n".join(p.text for p in docx.Document(io.BytesIO(render_docx(summary))).paragraphs),
        "slack": re.sub(r"<([^|>]+)\|([^>]+)>", r"\2", slack),  # as Slack shows it: a <url|text> link shows text
    }


def test_the_real_address_is_shown_never_the_text_that_disguises_it(summary):
    for fmt, text in shown_in_every_format(summary).items():
        assert "nhs.uk" not in text, fmt
        listed = text.rsplit("Further resources", 1)[1]  # the list of links, beside its text
        assert "https://evil.example/x" in listed and "https://evil.example/y" in listed, fmt
        assert "the guidance" in listed, fmt


def test_an_address_naming_someone_beyond_their_consent_is_shown_by_its_site(summary):
    resources = [(r.url, r.label) for r in summary.resources]
    assert ("https://evil.example/y", "the guidance") in resources
    assert ("https://example.org", None) in resources  # Paul's talk and Mira's page, by their site alone
    for fmt, text in shown_in_every_format(summary).items():
        for name in ("paul", "brennan", "mira", "okafor"):
            assert name not in text.casefold(), (fmt, name)
        assert "example.org link" in text, fmt
