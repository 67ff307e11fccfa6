"""Plain text -> Slack mrkdwn, and Slack's size limits.

User text is data: ``&``, ``<`` and ``>`` are escaped, so a quote holding ``<!channel>`` shows those
characters and pings nobody (Slack only acts on the unescaped control sequences). Formatting the
bot adds itself (bold headings) goes around the escaped text, never into it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_BUTTON = 75
MAX_TEXT = 40_000
#: What a fallback `text` is cut to: notifications show little of it anyway.
MAX_FALLBACK = 3000
#: Slack also refuses a message whose blocks hold too much text in all (`msg_blocks_too_long`,
#: seen from about 13,000 characters); stay well under it.
MAX_MESSAGE_CHARS = 11_000


def escape(text: str) -> str:
    """Escape the three characters Slack treats as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """At most ``limit`` characters, without cutting an ``&amp;``-style entity in half."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ellipsis)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + ellipsis


def split_text(text: str, limit: int = MAX_SECTION) -> list[str]:
    """Pieces of at most ``limit`` characters, split at paragraph, then line, then word breaks."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), -1)
        if cut < limit // 3:
            cut = window.rfind("\n")
        if cut < limit // 3:
            cut = window.rfind(" ")
        if cut < limit // 3:
            cut = limit
            amp = window.rfind("&", limit - 6)
            if amp != -1 and ";" not in window[amp:]:
                cut = amp  # never split "&amp;"
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def sections(mrkdwn: str) -> list[dict[str, object]]:
    """One or more section blocks holding already-escaped mrkdwn, each within Slack's 3,000."""
    return [section(piece) for piece in split_text(mrkdwn) if piece.strip()]


def block_chars(block: dict[str, object]) -> int:
    """How much text a block carries (what Slack's overall message limit counts, roughly)."""
    return len(str(block))


def batches(
    blocks: Iterable[dict[str, object]], size: int = MAX_BLOCKS, chars: int = MAX_MESSAGE_CHARS
) -> Iterator[list[dict[str, object]]]:
    """Blocks in messages of at most ``size`` blocks and about ``chars`` characters each."""
    batch: list[dict[str, object]] = []
    used = 0
    for block in blocks:
        n = block_chars(block)
        if batch and (len(batch) == size or used + n > chars):
            yield batch
            batch, used = [], 0
        batch.append(block)
        used += n
    if batch:
        yield batch
