"""Text in and out of Discord.

In: a Discord message's content becomes the core's neutral markup (Slack's message format, which
``bot.domain.naming`` reads): ``& < >`` escaped, ``<@id>``, ``<@&role>``, ``<#id|name>``, ``<!here>``,
``<!everyone>``, ``<url|label>``. Out: the core's plain text is escaped for Discord markdown, and
sent with mentions disabled, so nothing a person wrote can format or ping.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import discord

_TOKEN = re.compile(
    r"<@!?(?P<user>\d+)>"
    r"|<@&(?P<role>\d+)>"
    r"|<#(?P<channel>\d+)>"
    r"|<a?:(?P<emoji>\w+):\d+>"
    r"|@(?P<special>everyone|here)\b"
    r"|\[(?P<label>[^\]\n]+)\]\(<?(?P<masked>https?://[^\s)>]+)>?\)"
    r"|<(?P<url>https?://[^\s>]+)>"
)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_neutral(content: str, *, channel_name: Callable[[int], str | None] = lambda _id: None) -> str:
    """Discord content -> the core's neutral markup."""
    out: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(content):
        out.append(_escape(content[pos : m.start()]))
        pos = m.end()
        if m.group("user"):
            out.append(f"<@{m.group('user')}>")
        elif m.group("role"):
            out.append(f"<@&{m.group('role')}>")
        elif m.group("channel"):
            name = channel_name(int(m.group("channel")))
            out.append(f"<#{m.group('channel')}|{_escape(name)}>" if name else f"<#{m.group('channel')}>")
        elif m.group("emoji"):
            out.append(f":{m.group('emoji')}:")
        elif m.group("special"):
            out.append(f"<!{m.group('special')}>")
        elif m.group("masked"):
            label = m.group("label").replace("|", "/")
            out.append(f"<{m.group('masked')}|{_escape(label)}>")
        else:
            out.append(f"<{m.group('url')}>")
    out.append(_escape(content[pos:]))
    return "".join(out)


def for_discord(text: str) -> str:
    """Plain text -> Discord content that shows exactly that text (no markdown, no mentions)."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def heading(title: str) -> str:
    return f"**{for_discord(title)}**"


NO_MENTIONS = discord.AllowedMentions.none()
