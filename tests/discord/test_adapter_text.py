"""Discord markup into the core's neutral markup, and plain text out to Discord."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.discord.text import _TOKEN, for_discord, to_neutral
from bot.domain.naming import QuoteText


def test_mentions_channels_links_and_specials_become_neutral_markup() -> None:
    names = {42: "general"}
    text = "Hi <@123> and <@!456>, see <#42> & <#7>; ping <@&9> @everyone @here [the plan](https://x.org/p) <https://y.org> <:wave:1>"
    assert to_neutral(text, channel_name=names.get) == (
        "Hi <@123> and <@456>, see <#42|general> &amp; <#7>; ping <@&9> <!everyone> <!here> "
        "<https://x.org/p|the plan> <https://y.org> :wave:"
    )


def test_angle_brackets_and_ampersands_are_escaped() -> None:
    assert to_neutral("a < b && c > d <not a tag>") == "a &lt; b &amp;&amp; c &gt; d &lt;not a tag&gt;"


def test_the_core_reads_the_neutral_markup_back() -> None:
    rendered, links = QuoteText([], {}).render(to_neutral("see [docs](https://d.org) @everyone <#5>", channel_name={5: "q-and-a"}.get))
    assert rendered == "see docs (https://d.org) @everyone #q-and-a"
    assert [(link.url, link.label) for link in links] == [("https://d.org", "docs")]


@given(st.text(max_size=200))
def test_plain_text_survives_the_round_trip(text: str) -> None:
    if _TOKEN.search(text):
        return  # markup is translated, not kept; covered above
    rendered, _ = QuoteText([], {}).render(to_neutral(text))
    assert rendered == text


@given(st.text(max_size=200))
def test_text_sent_to_discord_cannot_mention_or_format(text: str) -> None:
    out = for_discord(text)
    assert "@everyone" not in out and "@here" not in out
    # Every markdown character the person typed is escaped (preceded by a backslash).
    for i, ch in enumerate(out):
        if ch in "*_`~|" and (i == 0 or out[i - 1] != "\\"):
            raise AssertionError(f"unescaped {ch!r} in {out!r}")
