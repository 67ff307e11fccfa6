"""REST routes for who the bot is, its application commands, and the guild's shape: guilds,
channels, permission overwrites, members and roles."""

from __future__ import annotations

from aiohttp import web

from . import model as m
from .rest import (
    BODY,
    APIError,
    Routes,
    empty_response,
    json_response,
    missing_access,
    not_found,
    optional_int,
)


class GuildRoutes(Routes):
    """Identity, application commands, guilds, channels, members and roles."""

    # ----- identity

    async def get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.sb.gateway_url})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "url": self.sb.gateway_url,
                "shards": 1,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 86400000, "max_concurrency": 1},
            }
        )

    async def me(self, request: web.Request) -> web.Response:
        data = self.sb.bot_user.payload()
        data.update({"verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"})
        return json_response(data)

    async def get_user(self, request: web.Request) -> web.Response:
        with self.sb.lock:
            user = self.sb.users.get(int(request.match_info["user_id"]))
            if user is None:
                raise not_found("User", 10013)
            return json_response(user.payload())

    async def application(self, request: web.Request) -> web.Response:
        sb = self.sb
        return json_response(
            {
                "id": str(sb.application_id),
                "name": sb.bot_user.name,
                "icon": None,
                "description": "",
                "rpc_origins": [],
                "bot_public": True,
                "bot_require_code_grant": False,
                "bot": sb.bot_user.payload(),
                "terms_of_service_url": None,
                "privacy_policy_url": None,
                "owner": sb.owner.payload(),
                "verify_key": "0" * 64,
                "team": None,
                "flags": sb.application_flags,
                "tags": [],
                "interactions_endpoint_url": None,
                "redirect_uris": [],
                "approximate_guild_count": len(sb.guilds),
                "integration_types_config": {"0": {}},
            }
        )

    # ----- application commands

    async def list_commands(self, request: web.Request) -> web.Response:
        self._check_app(request)
        guild_id = optional_int(request.match_info.get("guild_id"))
        with self.sb.lock:
            return json_response(list(self.sb._commands(guild_id)))

    async def overwrite_commands(self, request: web.Request) -> web.Response:
        self._check_app(request)
        guild_id = optional_int(request.match_info.get("guild_id"))
        body = request[BODY]
        if not isinstance(body, list):
            raise APIError(400, 50035, "Invalid Form Body")
        return json_response(self.sb._overwrite_commands(guild_id, body))

    async def upsert_command(self, request: web.Request) -> web.Response:
        self._check_app(request)
        guild_id = optional_int(request.match_info.get("guild_id"))
        body = request[BODY] or {}
        with self.sb.lock:
            current = [
                c
                for c in self.sb._commands(guild_id)
                if (c["name"], c["type"]) != (body.get("name"), body.get("type", 1))
            ]
        result = self.sb._overwrite_commands(guild_id, [*current, body])
        return json_response(next(c for c in result if c["name"] == body.get("name")), status=201)

    def _check_app(self, request: web.Request) -> None:
        if int(request.match_info["application_id"]) != self.sb.application_id:
            raise missing_access()

    # ----- guilds, channels

    async def get_guild(self, request: web.Request) -> web.Response:
        guild = self.sb._guild(request.match_info["guild_id"])
        with self.sb.lock:
            data = guild.base_payload()
            data["approximate_member_count"] = len(guild.members)
            return json_response(data)

    async def list_channels(self, request: web.Request) -> web.Response:
        guild = self.sb._guild(request.match_info["guild_id"])
        with self.sb.lock:
            return json_response([c.payload() for c in guild.channels.values() if c.type != m.PUBLIC_THREAD])

    async def create_channel(self, request: web.Request) -> web.Response:
        guild = self.sb._guild(request.match_info["guild_id"])
        self.sb._require_bot(guild, m.P.MANAGE_CHANNELS)
        body = request[BODY] or {}
        if not body.get("name"):
            raise APIError(400, 50035, "Invalid Form Body")
        channel = self.sb._create_channel(
            guild,
            name=body["name"],
            type=int(body.get("type", m.GUILD_TEXT)),
            parent_id=optional_int(body.get("parent_id")),
            topic=body.get("topic"),
            position=body.get("position"),
            overwrites=body.get("permission_overwrites") or [],
            user_limit=int(body.get("user_limit") or 0),
        )
        with self.sb.lock:
            return json_response(channel.payload(), status=201)

    async def move_channels(self, request: web.Request) -> web.Response:
        guild = self.sb._guild(request.match_info["guild_id"])
        self.sb._require_bot(guild, m.P.MANAGE_CHANNELS)
        for item in request[BODY] or []:
            changes = {k: v for k, v in item.items() if k in ("position", "parent_id")}
            self.sb._modify_channel(self.sb._channel(item["id"]), changes)
        return empty_response()

    async def get_channel(self, request: web.Request) -> web.Response:
        channel = self.sb._channel(request.match_info["channel_id"])
        with self.sb.lock:
            return json_response(channel.payload())

    async def modify_channel(self, request: web.Request) -> web.Response:
        channel = self.sb._channel(request.match_info["channel_id"])
        self.sb._require_bot_in_channel(channel, m.P.MANAGE_CHANNELS)
        self.sb._modify_channel(channel, request[BODY] or {})
        with self.sb.lock:
            return json_response(channel.payload())

    async def delete_channel(self, request: web.Request) -> web.Response:
        channel = self.sb._channel(request.match_info["channel_id"])
        self.sb._require_bot_in_channel(channel, m.P.MANAGE_CHANNELS)
        data = self.sb._delete_channel(channel)
        return json_response(data)

    async def put_overwrite(self, request: web.Request) -> web.Response:
        channel = self.sb._channel(request.match_info["channel_id"])
        self.sb._require_bot_in_channel(channel, m.P.MANAGE_ROLES)
        body = request[BODY] or {}
        target = int(request.match_info["overwrite_id"])
        with self.sb.lock:
            overwrites = [o.payload() for o in channel.overwrites if o.id != target]
        overwrites.append(
            {"id": target, "type": body.get("type", 0), "allow": body.get("allow", 0), "deny": body.get("deny", 0)}
        )
        self.sb._modify_channel(channel, {"permission_overwrites": overwrites})
        return empty_response()

    async def delete_overwrite(self, request: web.Request) -> web.Response:
        channel = self.sb._channel(request.match_info["channel_id"])
        self.sb._require_bot_in_channel(channel, m.P.MANAGE_ROLES)
        target = int(request.match_info["overwrite_id"])
        with self.sb.lock:
            overwrites = [o.payload() for o in channel.overwrites if o.id != target]
        self.sb._modify_channel(channel, {"permission_overwrites": overwrites})
        return empty_response()

    async def typing(self, request: web.Request) -> web.Response:
        self.sb._channel(request.match_info["channel_id"])
        return empty_response()

    # ----- members, roles

    async def list_members(self, request: web.Request) -> web.Response:
        guild = self.sb._guild(request.match_info["guild_id"])
        limit = min(int(request.query.get("limit", 1)), 1000)
        after = int(request.query.get("after", 0))
        with self.sb.lock:
            members = sorted((mb for mb in guild.members.values() if mb.id > after), key=lambda mb: mb.id)[:limit]
            return json_response([mb.payload() for mb in members])

    async def get_member(self, request: web.Request) -> web.Response:
        guild = self.sb._guild(request.match_info["guild_id"])
        member = self.sb._member(guild, request.match_info["user_id"])
        with self.sb.lock:
            return json_response(member.payload())

    async def modify_member(self, request: web.Request) -> web.Response:
        guild = self.sb._guild(request.match_info["guild_id"])
        member = self.sb._member(guild, request.match_info["user_id"])
        body = request[BODY] or {}
        if "channel_id" in body:
            self.sb._require_bot(guild, m.P.MOVE_MEMBERS)
            self.sb._move_member(guild, member, optional_int(body["channel_id"]), by_bot=True)
        if "roles" in body or "nick" in body:
            self.sb._require_bot(guild, m.P.MANAGE_ROLES if "roles" in body else 1 << 27)
            with self.sb.lock:
                if "roles" in body:
                    member.roles = [int(r) for r in body["roles"]]
                if "nick" in body:
                    member.nick = body["nick"]
            self.sb._member_updated(guild, member)
        with self.sb.lock:
            return json_response(member.payload())

    async def add_member_role(self, request: web.Request) -> web.Response:
        guild = self.sb._guild(request.match_info["guild_id"])
        self.sb._require_bot(guild, m.P.MANAGE_ROLES)
        member = self.sb._member(guild, request.match_info["user_id"])
        role_id = int(request.match_info["role_id"])
        with self.sb.lock:
            if role_id not in guild.roles:
                raise not_found("Role", 10011)
            if role_id not in member.roles:
                member.roles.append(role_id)
        self.sb._member_updated(guild, member)
        return empty_response()

    async def remove_member_role(self, request: web.Request) -> web.Response:
        guild = self.sb._guild(request.match_info["guild_id"])
        self.sb._require_bot(guild, m.P.MANAGE_ROLES)
        member = self.sb._member(guild, request.match_info["user_id"])
        role_id = int(request.match_info["role_id"])
        with self.sb.lock:
            if role_id in member.roles:
                member.roles.remove(role_id)
        self.sb._member_updated(guild, member)
        return empty_response()

    async def list_roles(self, request: web.Request) -> web.Response:
        guild = self.sb._guild(request.match_info["guild_id"])
        with self.sb.lock:
            return json_response([r.payload() for r in guild.roles.values()])

    async def create_role(self, request: web.Request) -> web.Response:
        guild = self.sb._guild(request.match_info["guild_id"])
        self.sb._require_bot(guild, m.P.MANAGE_ROLES)
        body = request[BODY] or {}
        role = self.sb.add_role(
            guild,
            body.get("name", "new role"),
            permissions=int(body.get("permissions", 0)),
            mentionable=bool(body.get("mentionable")),
        )
        with self.sb.lock:
            return json_response(role.payload())

    async def modify_role(self, request: web.Request) -> web.Response:
        guild = self.sb._guild(request.match_info["guild_id"])
        self.sb._require_bot(guild, m.P.MANAGE_ROLES)
        body = request[BODY] or {}
        with self.sb.lock:
            role = guild.roles.get(int(request.match_info["role_id"]))
            if role is None:
                raise not_found("Role", 10011)
            if "name" in body:
                role.name = body["name"]
            if "permissions" in body:
                role.permissions = int(body["permissions"])
            if "mentionable" in body:
                role.mentionable = bool(body["mentionable"])
            data = role.payload()
        self.sb._dispatch_guild_event("GUILD_ROLE_UPDATE", {"guild_id": str(guild.id), "role": data}, 1)
        return json_response(data)

    async def delete_role(self, request: web.Request) -> web.Response:
        guild = self.sb._guild(request.match_info["guild_id"])
        self.sb._require_bot(guild, m.P.MANAGE_ROLES)
        role_id = int(request.match_info["role_id"])
        with self.sb.lock:
            if guild.roles.pop(role_id, None) is None:
                raise not_found("Role", 10011)
            for member in guild.members.values():
                if role_id in member.roles:
                    member.roles.remove(role_id)
        self.sb._dispatch_guild_event("GUILD_ROLE_DELETE", {"guild_id": str(guild.id), "role_id": str(role_id)}, 1)
        return empty_response()
