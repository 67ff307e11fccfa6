"""Discord's ids (snowflakes, which carry their creation time) and ISO timestamps."""

from __future__ import annotations

import datetime as _dt
import threading
import time

DISCORD_EPOCH_MS = 1420070400000

_last_snowflake = 0
_snowflake_lock = threading.Lock()


def snowflake() -> int:
    """A real-looking, increasing snowflake: discord.py derives ``created_at`` from it."""
    global _last_snowflake
    with _snowflake_lock:
        candidate = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        _last_snowflake = max(candidate, _last_snowflake + 1)
        return _last_snowflake


def iso_now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat()
