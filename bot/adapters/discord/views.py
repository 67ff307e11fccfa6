"""The consent buttons: persistent, so a click on last week's welcome message still works after a restart.

Each button is a ``DynamicItem``: its ``custom_id`` carries the server, the breakout and the level,
and discord.py rebuilds the button from the id alone, with no view kept in memory.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.domain.consent import Level
from bot.services.port import ConsentOption

from .errors import sentence
from .people import person_info, workspace_of
from .text import NO_MENTIONS, for_discord

if TYPE_CHECKING:
    from .client import BreakoutBot

log = logging.getLogger(__name__)

STYLES = {
    Level.FULL_NAME: discord.ButtonStyle.success,
    Level.FIRST_NAME: discord.ButtonStyle.primary,
    Level.INITIALS: discord.ButtonStyle.primary,
    Level.ANONYMOUS: discord.ButtonStyle.secondary,
    Level.NOT_QUOTED: discord.ButtonStyle.danger,
}


def consent_custom_id(guild_id: int, breakout_id: int, level: Level) -> str:
    return f"breakout:consent:{guild_id}:{breakout_id}:{level.value}"


class ConsentButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"breakout:consent:(?P<guild>\d+):(?P<breakout>\d+):(?P<level>[a-z_]+)",
):
    def __init__(self, guild_id: int, breakout_id: int, level: Level, label: str = "") -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:80] or level.value,
                style=STYLES[level],
                custom_id=consent_custom_id(guild_id, breakout_id, level),
            )
        )
        self.guild_id, self.breakout_id, self.level = guild_id, breakout_id, level

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ConsentButton:
        return cls(int(match["guild"]), int(match["breakout"]), Level(match["level"]), getattr(item, "label", "") or "")

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: BreakoutBot = interaction.client  # type: ignore[assignment]
        await interaction.response.defer(ephemeral=True, thinking=True)
        from bot.services.context import Actor

        actor = Actor(workspace_of(self.guild_id), person_info(interaction.user))
        try:
            result = await bot.blocking(
                bot.app.consents.choose, actor, level=self.level, via="button", breakout_id=self.breakout_id
            )
            reply = for_discord(result.confirmation)
        except Exception as exc:
            reply = sentence(exc, bot.roles, interaction.guild)  # logged there when it is ours
        await interaction.followup.send(reply, ephemeral=True, allowed_mentions=NO_MENTIONS)


def consent_view(options: Sequence[ConsentOption], *, guild_id: int, breakout_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for option in options:
        view.add_item(ConsentButton(guild_id, breakout_id, option.level, option.label))
    return view
