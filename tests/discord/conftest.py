"""Fixtures for the Discord tests: a sandbox server, with discord.py pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.sandbox.discord import DiscordSandbox, point_discord_py_at


@pytest.fixture
def sandbox() -> Iterator[DiscordSandbox]:
    with DiscordSandbox() as sb:
        previous = sb.point_discord_py()
        try:
            yield sb
        finally:
            point_discord_py_at(*previous)
    assert not sb.errors, f"the sandbox crashed on {sb.errors}"
