"""Interactions a member starts: slash commands, autocomplete, buttons and selects, context-menu
commands and modal submissions, each sent to the bot as INTERACTION_CREATE with Discord's payload."""

from __future__ import annotations

import secrets
import time
from typing import Any

from . import model as m
from .commands import Commands
from .members import SandboxError, SimMember
from .messages import Messages
from .records import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    CHAT_INPUT,
    MESSAGE_COMMAND,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    InteractionRecord,
)


class Interactions(Messages, Commands):
    """What a member's click or command becomes on the wire."""

    def _base_interaction(
        self, who: SimMember, channel: m.Channel, kind: int, data: dict[str, Any]
    ) -> InteractionRecord:
        if channel.type == m.DM:
            return self._dm_interaction(who, channel, kind, data)
        guild = who.guild
        with self.lock:
            perms = guild.permissions_in(who.member, channel)
            app_perms = guild.permissions_in(guild.members[self.bot_user.id], channel)
            iid = m.snowflake()
            token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
            payload: dict[str, Any] = {
                "id": str(iid),
                "application_id": str(self.application_id),
                "type": kind,
                "data": data,
                "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
                "guild_id": str(guild.id),
                "channel": channel.payload(),
                "channel_id": str(channel.id),
                "member": who.member.payload(permissions=perms),
                "token": token,
                "version": 1,
                "app_permissions": str(app_perms),
                "locale": "en-GB",
                "guild_locale": "en-US",
                "entitlements": [],
                "authorizing_integration_owners": {"0": str(guild.id)},
                "context": 0,
                "attachment_size_limit": 10 * 1024 * 1024,
            }
            record = InteractionRecord(self._sandbox, iid, token, kind, who.id, guild.id, channel.id, payload)
            self.interactions[iid] = record
            self._by_token[token] = record
        return record

    def _dm_interaction(self, who: SimMember, channel: m.Channel, kind: int, data: dict[str, Any]) -> InteractionRecord:
        """In a DM with the bot there is no guild and no member: ``user`` instead, context BOT_DM."""
        with self.lock:
            iid = m.snowflake()
            token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
            payload: dict[str, Any] = {
                "id": str(iid),
                "application_id": str(self.application_id),
                "type": kind,
                "data": data,
                "channel": channel.payload(),
                "channel_id": str(channel.id),
                "user": who.member.user.payload(),
                "token": token,
                "version": 1,
                "app_permissions": str(
                    m.P.VIEW_CHANNEL | m.P.SEND_MESSAGES | m.P.EMBED_LINKS | m.P.ATTACH_FILES | m.P.READ_MESSAGE_HISTORY
                ),
                "locale": "en-GB",
                "entitlements": [],
                "authorizing_integration_owners": {"0": "0"},
                "context": 1,
                "attachment_size_limit": 10 * 1024 * 1024,
            }
            record = InteractionRecord(self._sandbox, iid, token, kind, who.id, None, channel.id, payload)
            self.interactions[iid] = record
            self._by_token[token] = record
        return record

    def _send_interaction(self, record: InteractionRecord) -> InteractionRecord:
        record.created = time.monotonic()
        self._dispatch("INTERACTION_CREATE", lambda s: record.payload)
        return record

    def _chat_input(
        self, who: SimMember, channel: m.Channel, command: str, options: dict[str, Any], *, focused: str | None
    ) -> InteractionRecord:
        if not who.can_see(channel):
            raise SandboxError(f"{who.name} cannot see #{channel.name}")
        parts = command.strip().lstrip("/").split()
        cmd = self._find_command(who.guild.id, parts[0], CHAT_INPUT)
        resolved: dict[str, dict[str, Any]] = {}
        defs = cmd.get("options") or []
        path: list[tuple[str, int]] = []
        for part in parts[1:]:
            opt = next((o for o in defs if o["name"] == part and o["type"] in (1, 2)), None)
            if opt is None:
                raise SandboxError(f"/{parts[0]} has no subcommand {part!r}")
            path.append((part, opt["type"]))
            defs = opt.get("options") or []
        if any(o["type"] in (1, 2) for o in defs):
            raise SandboxError(f"/{command} needs a subcommand: {[o['name'] for o in defs]}")
        leaf = []
        for name, value in options.items():
            name = name.replace("_", "-") if not any(o["name"] == name for o in defs) else name
            opt = next((o for o in defs if o["name"] == name), None)
            if opt is None:
                raise SandboxError(f"/{command} has no option {name!r}; it has {[o['name'] for o in defs]}")
            leaf.append(self._option_value(who.guild, opt, value, resolved, focused == name))
        if focused is None:
            given = {o["name"] for o in leaf}
            missing = [o["name"] for o in defs if o.get("required") and o["name"] not in given]
            if missing:
                raise SandboxError(f"/{command} needs {missing}")
            for o in leaf:
                choices = next(d for d in defs if d["name"] == o["name"]).get("choices")
                if choices and o["value"] not in [c["value"] for c in choices]:
                    raise SandboxError(f"{o['value']!r} is not a choice of {o['name']}")
        for name, kind in reversed(path):
            leaf = [{"name": name, "type": kind, "options": leaf}]
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": CHAT_INPUT, "options": leaf}
        if "guild_id" in cmd:
            data["guild_id"] = cmd["guild_id"]
        if resolved:
            data["resolved"] = resolved
        record = self._base_interaction(who, channel, AUTOCOMPLETE if focused else APPLICATION_COMMAND, data)
        return self._send_interaction(record)

    def _option_value(
        self, guild: m.Guild, opt: dict[str, Any], value: Any, resolved: dict[str, dict[str, Any]], focused: bool
    ) -> dict[str, Any]:
        kind = opt["type"]
        out: dict[str, Any] = {"name": opt["name"], "type": kind}
        if focused:
            out.update(value=str(value), focused=True)
            return out
        if kind == 6:
            member = value.member if isinstance(value, SimMember) else guild.members[int(value)]
            out["value"] = str(member.id)
            resolved.setdefault("users", {})[str(member.id)] = member.user.payload()
            resolved.setdefault("members", {})[str(member.id)] = member.payload(with_user=False, permissions=0)
        elif kind == 7:
            channel = value if isinstance(value, m.Channel) else self.channels[int(value)]
            out["value"] = str(channel.id)
            ch = channel.payload()
            resolved.setdefault("channels", {})[str(channel.id)] = {
                "id": ch["id"],
                "name": ch.get("name"),
                "type": ch["type"],
                "permissions": str(m.P.ALL),
                "parent_id": ch.get("parent_id"),
                "guild_id": ch.get("guild_id"),
            }
        elif kind == 8:
            role = value if isinstance(value, m.Role) else guild.roles[int(value)]
            out["value"] = str(role.id)
            resolved.setdefault("roles", {})[str(role.id)] = role.payload()
        elif kind == 11:
            # The client uploads the file first; the option's value is the attachment's id, resolved.
            if isinstance(value, m.Attachment):
                att = value
            else:
                filename, data, *ctype = value
                [att] = self._attachments([("files[0]", filename, data, ctype[0] if ctype else None)], {})
            out["value"] = str(att.id)
            resolved.setdefault("attachments", {})[str(att.id)] = att.payload() | {"ephemeral": True}
        elif kind == 4:
            out["value"] = int(value)
        elif kind == 10:
            out["value"] = float(value)
        elif kind == 5:
            out["value"] = bool(value)
        else:
            out["value"] = str(value)
        return out

    def _component(
        self, who: SimMember, message: m.Message, custom_id: str, values: list[str] | None
    ) -> InteractionRecord:
        channel = self._channel(message.channel_id)
        with self.lock:
            if message.deleted:
                raise SandboxError("that message was deleted")
            if message.ephemeral_for not in (None, who.id):
                raise SandboxError(f"{who.name} cannot see that ephemeral message")
            component = message.find_component(custom_id)
            if component is None:
                raise SandboxError(f"no component {custom_id!r} on that message; it has {message.custom_ids()}")
            if component.get("disabled"):
                raise SandboxError(f"the component {custom_id!r} is disabled")
            data: dict[str, Any] = {"custom_id": custom_id, "component_type": component.get("type", 2)}
            if values is not None:
                data["values"] = list(values)
            msg_payload = self._message_payload(message)
        record = self._base_interaction(who, channel, MESSAGE_COMPONENT, data)
        record.payload["message"] = msg_payload
        record.target_message_id = message.id
        return self._send_interaction(record)

    def _modal_submit(self, who: SimMember, opened: InteractionRecord, values: dict[str, str]) -> InteractionRecord:
        modal = opened.modal
        if modal is None:
            raise SandboxError("the bot did not answer that interaction with a modal")
        unknown = set(values)

        def fill(item: dict[str, Any]) -> dict[str, Any]:
            if item.get("type") == 4:  # a text input: what the member typed
                unknown.discard(item["custom_id"])
                value = values.get(item["custom_id"], item.get("value") or "")
                if item.get("required", True) and not value:
                    raise SandboxError(f"the modal's field {item['custom_id']!r} is required")
                return {
                    k: v
                    for k, v in {
                        "type": 4,
                        "id": item.get("id"),
                        "custom_id": item["custom_id"],
                        "value": value,
                    }.items()
                    if v is not None
                }
            out = {k: v for k, v in {"type": item.get("type"), "id": item.get("id")}.items() if v is not None}
            if "components" in item:
                out["components"] = [fill(c) for c in item["components"]]
            if "component" in item:
                out["component"] = fill(item["component"])
            return out

        components = [fill(c) for c in modal.get("components", [])]
        if unknown:
            raise SandboxError(f"the modal has no fields {sorted(unknown)}")
        channel = self._channel(opened.channel_id)
        record = self._base_interaction(
            who, channel, MODAL_SUBMIT, {"custom_id": modal["custom_id"], "components": components}
        )
        if opened.target_message_id is not None and opened.type == MESSAGE_COMPONENT:
            with self.lock:
                record.payload["message"] = self._message_payload(self._messages[opened.target_message_id])
            record.target_message_id = opened.target_message_id
        return self._send_interaction(record)

    def _message_command(self, who: SimMember, message: m.Message, name: str) -> InteractionRecord:
        channel = self._channel(message.channel_id)
        cmd = self._find_command(who.guild.id, name, MESSAGE_COMMAND)
        with self.lock:
            data: dict[str, Any] = {
                "id": cmd["id"],
                "name": cmd["name"],
                "type": MESSAGE_COMMAND,
                "target_id": str(message.id),
                "resolved": {"messages": {str(message.id): self._message_payload(message)}},
            }
            if "guild_id" in cmd:
                data["guild_id"] = cmd["guild_id"]
        record = self._base_interaction(who, channel, APPLICATION_COMMAND, data)
        record.target_message_id = message.id
        return self._send_interaction(record)
