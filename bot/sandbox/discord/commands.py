"""Application commands as the bot registered them (bulk overwrite), global or per guild.

A member can only run a command that was synced, with the options it was registered with, as in
the real client.
"""

from __future__ import annotations

import re
from typing import Any

from . import model as m
from .members import SandboxError
from .records import CHAT_INPUT
from .rest import APIError
from .state import ServerState


class Commands(ServerState):
    """The registered slash and context-menu commands."""

    def commands(self, guild: m.Guild | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(c) for c in self._commands(guild.id if guild else None)]

    def _commands(self, guild_id: int | None) -> list[dict[str, Any]]:
        return self._guild_commands.get(guild_id, []) if guild_id else self._global_commands

    def _overwrite_commands(self, guild_id: int | None, body: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self.lock:
            self.command_overwrites += 1
            result = []
            for raw in body:
                kind = int(raw.get("type", 1))
                name = raw.get("name")
                if (
                    not name
                    or (kind == CHAT_INPUT and not re.fullmatch(r"[-_\w]{1,32}", name))
                    or (kind == CHAT_INPUT and name != name.lower())
                ):
                    raise APIError(400, 50035, f"Invalid Form Body: bad command name {name!r}")
                key = (guild_id, kind, name)
                cid = self._command_ids.setdefault(key, m.snowflake())
                cmd = {
                    "id": str(cid),
                    "application_id": str(self.application_id),
                    "version": str(m.snowflake()),
                    "default_member_permissions": raw.get("default_member_permissions"),
                    "type": kind,
                    "name": name,
                    "name_localizations": raw.get("name_localizations"),
                    "description": raw.get("description", ""),
                    "description_localizations": raw.get("description_localizations"),
                    "options": raw.get("options", []),
                    "dm_permission": raw.get("dm_permission", True),
                    "contexts": raw.get("contexts"),
                    "integration_types": raw.get("integration_types", [0]),
                    "nsfw": raw.get("nsfw", False),
                }
                if guild_id:
                    cmd["guild_id"] = str(guild_id)
                result.append(cmd)
            if guild_id:
                self._guild_commands[guild_id] = result
            else:
                self._global_commands = result
            return [dict(c) for c in result]

    def _find_command(self, guild_id: int | None, name: str, kind: int) -> dict[str, Any]:
        with self.lock:
            for cmd in (self._guild_commands.get(guild_id, []) if guild_id else []) + self._global_commands:
                if cmd["name"] == name and cmd["type"] == kind:
                    return cmd
        raise SandboxError(
            f"no {'slash' if kind == CHAT_INPUT else 'context-menu'} command {name!r} is registered; sync the bot's commands first"
        )
