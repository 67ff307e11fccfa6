"""The insights pack's own use cases: the video call's chat, imported, its authors named by consent.

``CallChat`` is the one flow every door uses (Slack, Discord, the command line): who may import, which
breakout, the size check before a byte is fetched, the all-or-nothing import, and the reply. Its queries
live in ``bot.store.call_chat``; the sections built from the chat, in ``bot.domain.pack``.
"""

from bot.services.pack.call_chat import (
    CallChat,
    CallChatAuthor,
    CallChatFile,
    CallChatImported,
    CallChatRefused,
    describe_level,
)

__all__ = ["CallChat", "CallChatAuthor", "CallChatFile", "CallChatImported", "CallChatRefused", "describe_level"]
