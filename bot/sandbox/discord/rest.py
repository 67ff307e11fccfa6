"""The sandbox's REST API: the routes of ``https://discord.com/api/v10`` the bot uses.

Responses carry exactly ``Content-Type: application/json`` (discord.py compares the header with
``==`` and treats anything else as text) and X-RateLimit-* headers. A fault injected with
:meth:`DiscordSandbox.inject_429` answers 429 with ``retry_after`` in the body, a ``Retry-After``
header and a ``Via`` header (discord.py treats a 429 without ``Via`` as a Cloudflare ban).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import model as m

if TYPE_CHECKING:
    from .server import DiscordSandbox

API = "/api/v10"
BODY: web.RequestKey[Any] = web.RequestKey("body", object)


class APIError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def not_found(what: str, code: int) -> APIError:
    return APIError(404, code, f"Unknown {what}")


def missing_permissions() -> APIError:
    return APIError(403, 50013, "Missing Permissions")


def missing_access() -> APIError:
    return APIError(403, 50001, "Missing Access")


@dataclass
class RestCall:
    method: str
    path: str
    route: str
    query: dict[str, str]
    body: Any
    status: int = 0
    at: float = field(default_factory=time.time)

    def __repr__(self) -> str:
        return f"<RestCall {self.method} {self.path} -> {self.status}>"


@dataclass
class Fault:
    method: str
    route: str
    times: int
    retry_after: float
    is_global: bool = False
    hits: int = 0
    status: int = 429
    after_commit: bool = False  # 5xx only: do the work, then answer as if it failed

    def matches(self, method: str, route: str) -> bool:
        return (self.method in ("*", method)) and (self.route in ("*", route))


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    resp = web.Response(body=json.dumps(data).encode(), status=status, headers=headers)
    resp.headers["Content-Type"] = "application/json"
    return resp


def empty_response() -> web.Response:
    return web.Response(status=204)


def rate_limit_headers(route: str, limit: int = 50, remaining: int = 49, reset_after: float = 1.0) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": format(abs(hash(route)) & 0xFFFFFFFFFFFF, "x"),
    }


def build_app(sandbox: DiscordSandbox) -> web.Application:
    from .gateway import gateway_handler

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith("/gateway/ws"):
            return await handler(request)
        if request.path.startswith("/attachments/"):
            return await handler(request)
        info = request.match_info
        route = info.route.resource.canonical if info.route.resource is not None else request.path
        route = route.removeprefix(API)
        body = await _read_body(request)
        call = RestCall(request.method, request.path.removeprefix(API), route, dict(request.query), body)
        sandbox._log_call(call)
        try:
            fault = sandbox._take_fault(request.method, route)
            if fault is not None and fault.status != 429:
                if fault.after_commit:
                    request[BODY] = body
                    try:
                        await handler(request)
                    except APIError:
                        pass
                call.status = fault.status
                return json_response({"message": "500: Internal Server Error", "code": 0}, status=fault.status)
            if fault is not None:
                call.status = 429
                headers = rate_limit_headers(route, remaining=0, reset_after=fault.retry_after)
                headers.update(
                    {
                        "Retry-After": str(max(1, math.ceil(fault.retry_after))),
                        "X-RateLimit-Scope": "shared" if not fault.is_global else "global",
                        "Via": "1.1 google",
                    }
                )
                if fault.is_global:
                    headers["X-RateLimit-Global"] = "true"
                return json_response(
                    {
                        "message": "You are being rate limited.",
                        "retry_after": fault.retry_after,
                        "global": fault.is_global,
                        "code": 0,
                    },
                    status=429,
                    headers=headers,
                )
            limited = sandbox._bucket_take(request.method, route, info)
            if limited is not None and limited[0] is False:
                retry_after = limited[1]
                call.status = 429
                headers = rate_limit_headers(route, limit=limited[2], remaining=0, reset_after=retry_after)
                headers.update(
                    {
                        "Retry-After": str(max(1, math.ceil(retry_after))),
                        "X-RateLimit-Scope": "user",
                        "Via": "1.1 google",
                    }
                )
                sandbox.unexpected_429s.append(f"{request.method} {route}")
                return json_response(
                    {
                        "message": "You are being rate limited.",
                        "retry_after": round(retry_after, 3),
                        "global": False,
                        "code": 0,
                    },
                    status=429,
                    headers=headers,
                )
            if not route.startswith(("/webhooks/", "/interactions/", "/gateway")) and not sandbox._authorised(
                request.headers.get("Authorization", "")
            ):
                call.status = 401
                return json_response({"message": "401: Unauthorized", "code": 0}, status=401)
            if info.http_exception is not None:
                sandbox.unknown_routes.append(f"{request.method} {request.path}")
                call.status = 404
                return json_response({"message": "404: Not Found", "code": 0}, status=404)
            request[BODY] = body
            try:
                response = await handler(request)
            except APIError as err:
                response = json_response({"message": err.message, "code": err.code}, status=err.status)
            call.status = response.status
            if limited is not None:
                _, reset_after, limit, remaining = limited
                headers = rate_limit_headers(route, limit=limit, remaining=remaining, reset_after=reset_after)
            else:
                headers = rate_limit_headers(route)
            for key, value in headers.items():
                response.headers.setdefault(key, value)
            return response
        except Exception:
            call.status = 500
            sandbox._server_errors.append(f"{request.method} {request.path}")
            raise

    app = web.Application(middlewares=[middleware], client_max_size=64 * 1024 * 1024)
    r = app.router
    h = Handlers(sandbox)

    async def gateway(request: web.Request) -> web.StreamResponse:
        return await gateway_handler(sandbox, request)

    r.add_get("/gateway/ws", gateway)
    r.add_get("/attachments/{attachment_id}/{filename}", h.attachment)
    r.add_get(API + "/gateway", h.get_gateway)
    r.add_get(API + "/gateway/bot", h.get_gateway_bot)
    r.add_get(API + "/users/@me", h.me)
    r.add_get(API + "/users/{user_id}", h.get_user)
    r.add_post(API + "/users/@me/channels", h.create_dm)
    r.add_get(API + "/oauth2/applications/@me", h.application)
    r.add_get(API + "/applications/@me", h.application)
    r.add_get(API + "/applications/{application_id}/commands", h.list_commands)
    r.add_put(API + "/applications/{application_id}/commands", h.overwrite_commands)
    r.add_post(API + "/applications/{application_id}/commands", h.upsert_command)
    r.add_get(API + "/applications/{application_id}/guilds/{guild_id}/commands", h.list_commands)
    r.add_put(API + "/applications/{application_id}/guilds/{guild_id}/commands", h.overwrite_commands)
    r.add_post(API + "/applications/{application_id}/guilds/{guild_id}/commands", h.upsert_command)
    r.add_get(API + "/guilds/{guild_id}", h.get_guild)
    r.add_get(API + "/guilds/{guild_id}/channels", h.list_channels)
    r.add_post(API + "/guilds/{guild_id}/channels", h.create_channel)
    r.add_patch(API + "/guilds/{guild_id}/channels", h.move_channels)
    r.add_get(API + "/guilds/{guild_id}/members", h.list_members)
    r.add_get(API + "/guilds/{guild_id}/members/{user_id}", h.get_member)
    r.add_patch(API + "/guilds/{guild_id}/members/{user_id}", h.modify_member)
    r.add_put(API + "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", h.add_member_role)
    r.add_delete(API + "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", h.remove_member_role)
    r.add_get(API + "/guilds/{guild_id}/roles", h.list_roles)
    r.add_post(API + "/guilds/{guild_id}/roles", h.create_role)
    r.add_patch(API + "/guilds/{guild_id}/roles/{role_id}", h.modify_role)
    r.add_delete(API + "/guilds/{guild_id}/roles/{role_id}", h.delete_role)
    r.add_get(API + "/channels/{channel_id}", h.get_channel)
    r.add_patch(API + "/channels/{channel_id}", h.modify_channel)
    r.add_delete(API + "/channels/{channel_id}", h.delete_channel)
    r.add_put(API + "/channels/{channel_id}/permissions/{overwrite_id}", h.put_overwrite)
    r.add_delete(API + "/channels/{channel_id}/permissions/{overwrite_id}", h.delete_overwrite)
    r.add_post(API + "/channels/{channel_id}/typing", h.typing)
    r.add_get(API + "/channels/{channel_id}/messages", h.list_messages)
    r.add_get(API + "/channels/{channel_id}/threads/archived/public", h.archived_threads)
    r.add_get(API + "/channels/{channel_id}/users/@me/threads/archived/private", h.archived_threads)
    r.add_post(API + "/channels/{channel_id}/messages", h.create_message)
    r.add_post(API + "/channels/{channel_id}/messages/bulk-delete", h.bulk_delete)
    r.add_get(API + "/channels/{channel_id}/messages/{message_id}", h.get_message)
    r.add_patch(API + "/channels/{channel_id}/messages/{message_id}", h.edit_message)
    r.add_delete(API + "/channels/{channel_id}/messages/{message_id}", h.delete_message)
    r.add_post(API + "/interactions/{interaction_id}/{token}/callback", h.interaction_callback)
    r.add_post(API + "/webhooks/{application_id}/{token}", h.followup)
    r.add_get(API + "/webhooks/{application_id}/{token}/messages/{message_id}", h.get_webhook_message)
    r.add_patch(API + "/webhooks/{application_id}/{token}/messages/{message_id}", h.edit_webhook_message)
    r.add_delete(API + "/webhooks/{application_id}/{token}/messages/{message_id}", h.delete_webhook_message)
    return app


async def _read_body(request: web.Request) -> Any:
    """JSON bodies as parsed JSON; multipart bodies as ``{"payload_json": ..., "files": [(field, name, bytes, type)]}``."""
    if not request.can_read_body:
        return None
    ctype = request.content_type
    if ctype == "multipart/form-data":
        form = await request.post()
        out: dict[str, Any] = {"payload_json": None, "files": []}
        for name, value in form.items():
            if isinstance(value, web.FileField):
                if name == "payload_json":
                    out["payload_json"] = json.loads(value.file.read())
                else:
                    out["files"].append((name, value.filename, value.file.read(), value.content_type))
            elif name == "payload_json":
                out["payload_json"] = json.loads(value)
            else:
                out[name] = value
        return out
    raw = await request.read()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _payload_and_files(body: Any) -> tuple[dict[str, Any], list[tuple[str, str, bytes, str | None]]]:
    if isinstance(body, dict) and "files" in body and "payload_json" in body:
        return dict(body["payload_json"] or {}), list(body["files"])
    if isinstance(body, dict):
        return body, []
    return {}, []


class Handlers:
    def __init__(self, sandbox: DiscordSandbox) -> None:
        self.sb = sandbox

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

    async def attachment(self, request: web.Request) -> web.Response:
        with self.sb.lock:
            att = self.sb.attachments.get(int(request.match_info["attachment_id"]))
        if att is None:
            raise web.HTTPNotFound()
        with self.sb.lock:
            self.sb.attachment_downloads.append(att.id)
        return web.Response(body=att.data, content_type=att.content_type or "application/octet-stream")

    # ----- application commands

    async def list_commands(self, request: web.Request) -> web.Response:
        self._check_app(request)
        guild_id = _opt_int(request.match_info.get("guild_id"))
        with self.sb.lock:
            return json_response(list(self.sb._commands(guild_id)))

    async def overwrite_commands(self, request: web.Request) -> web.Response:
        self._check_app(request)
        guild_id = _opt_int(request.match_info.get("guild_id"))
        body = request[BODY]
        if not isinstance(body, list):
            raise APIError(400, 50035, "Invalid Form Body")
        return json_response(self.sb._overwrite_commands(guild_id, body))

    async def upsert_command(self, request: web.Request) -> web.Response:
        self._check_app(request)
        guild_id = _opt_int(request.match_info.get("guild_id"))
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
            parent_id=_opt_int(body.get("parent_id")),
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
            self.sb._move_member(guild, member, _opt_int(body["channel_id"]), by_bot=True)
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

    # ----- messages

    async def list_messages(self, request: web.Request) -> web.Response:
        channel = self.sb._channel(request.match_info["channel_id"])
        self.sb._require_bot_in_channel(channel, m.P.VIEW_CHANNEL | m.P.READ_MESSAGE_HISTORY)
        limit = min(int(request.query.get("limit", 50)), 100)
        before = _opt_int(request.query.get("before"))
        after = _opt_int(request.query.get("after"))
        with self.sb.lock:
            msgs = [x for x in self.sb._channel_messages(channel.id) if x.ephemeral_for is None]
            if before:
                msgs = [x for x in msgs if x.id < before]
            if after:
                msgs = [x for x in msgs if x.id > after]
                msgs = msgs[:limit]
            else:
                msgs = msgs[-limit:]
            msgs.sort(key=lambda x: x.id, reverse=True)
            return json_response([self.sb._message_payload(x) for x in msgs])

    async def archived_threads(self, request: web.Request) -> web.Response:
        """List Public Archived Threads / List Joined Private Archived Threads: the sandbox's threads never
        archive (they stay active, in GUILD_CREATE's ``threads``), so these lists are empty."""
        channel = self.sb._channel(request.match_info["channel_id"])
        if channel.type != m.GUILD_TEXT:
            raise APIError(400, 50024, "Cannot execute action on this channel type")
        self.sb._require_bot_in_channel(channel, m.P.VIEW_CHANNEL | m.P.READ_MESSAGE_HISTORY)
        return json_response({"threads": [], "members": [], "has_more": False})

    async def create_message(self, request: web.Request) -> web.Response:
        channel = self.sb._channel(request.match_info["channel_id"])
        self.sb._require_bot_in_channel(channel, m.P.VIEW_CHANNEL | m.P.SEND_MESSAGES)
        if channel.type == m.DM and any(u.id in self.sb.closed_dms for u in channel.recipients):
            raise APIError(403, 50007, "Cannot send messages to this user")
        payload, files = _payload_and_files(request[BODY])
        if not (
            payload.get("content")
            or payload.get("embeds")
            or files
            or payload.get("components")
            or payload.get("sticker_ids")
        ):
            raise APIError(400, 50006, "Cannot send an empty message")
        if len(payload.get("content") or "") > 2000:
            raise APIError(400, 50035, "Invalid Form Body: content must be 2000 or fewer in length.")
        nonce = payload.get("nonce")
        if nonce is not None and payload.get("enforce_nonce"):
            existing = self.sb._message_by_nonce(channel.id, nonce)
            if existing is not None:
                with self.sb.lock:
                    return json_response(self.sb._message_payload(existing))
        msg = self.sb._post_message(channel, self.sb.bot_user, payload, files)
        with self.sb.lock:
            return json_response(self.sb._message_payload(msg))

    async def get_message(self, request: web.Request) -> web.Response:
        msg = self.sb._message(request.match_info["channel_id"], request.match_info["message_id"])
        with self.sb.lock:
            return json_response(self.sb._message_payload(msg))

    async def edit_message(self, request: web.Request) -> web.Response:
        msg = self.sb._message(request.match_info["channel_id"], request.match_info["message_id"])
        if msg.author.id != self.sb.bot_user.id:
            raise APIError(403, 50005, "Cannot edit a message authored by another user")
        payload, files = _payload_and_files(request[BODY])
        self.sb._edit_message(msg, payload, files)
        with self.sb.lock:
            return json_response(self.sb._message_payload(msg))

    async def delete_message(self, request: web.Request) -> web.Response:
        msg = self.sb._message(request.match_info["channel_id"], request.match_info["message_id"])
        if msg.author.id != self.sb.bot_user.id:
            self.sb._require_bot_in_channel(self.sb._channel(msg.channel_id), m.P.MANAGE_MESSAGES)
        self.sb._delete_message(msg)
        return empty_response()

    async def bulk_delete(self, request: web.Request) -> web.Response:
        channel = self.sb._channel(request.match_info["channel_id"])
        self.sb._require_bot_in_channel(channel, m.P.MANAGE_MESSAGES)
        ids = [int(x) for x in (request[BODY] or {}).get("messages", [])]
        if not 2 <= len(ids) <= 100:
            raise APIError(400, 50016, "You must provide at least 2 and fewer than 100 messages to delete.")
        msgs = [self.sb._message(channel.id, i) for i in ids]
        self.sb._bulk_delete(channel, msgs)
        return empty_response()

    async def create_dm(self, request: web.Request) -> web.Response:
        body = request[BODY] or {}
        with self.sb.lock:
            user = self.sb.users.get(int(body.get("recipient_id", 0)))
        if user is None:
            raise not_found("User", 10013)
        channel = self.sb._dm_channel(user)
        with self.sb.lock:
            return json_response(channel.payload())

    # ----- interactions

    async def interaction_callback(self, request: web.Request) -> web.Response:
        record = self.sb._interaction_for_callback(
            int(request.match_info["interaction_id"]), request.match_info["token"]
        )
        payload, files = _payload_and_files(request[BODY])
        result = self.sb._respond_to_interaction(record, payload, files)
        if request.query.get("with_response") in ("1", "true", "True"):
            return json_response(result)
        return empty_response()

    async def followup(self, request: web.Request) -> web.Response:
        record = self.sb._interaction_for_webhook(request.match_info["application_id"], request.match_info["token"])
        payload, files = _payload_and_files(request[BODY])
        msg = self.sb._followup(record, payload, files)
        if request.query.get("wait") in ("1", "true", "True"):
            with self.sb.lock:
                return json_response(self.sb._message_payload(msg))
        return empty_response()

    def _webhook_message(self, request: web.Request) -> tuple[Any, m.Message]:
        record = self.sb._interaction_for_webhook(request.match_info["application_id"], request.match_info["token"])
        mid = request.match_info["message_id"]
        with self.sb.lock:
            if mid == "@original":
                msg = record.original
            else:
                msg = next((x for x in record.messages if x.id == _opt_int(mid)), None)
            if msg is None or msg.deleted:
                raise not_found("Message", 10008)
            return record, msg

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        _, msg = self._webhook_message(request)
        with self.sb.lock:
            return json_response(self.sb._message_payload(msg))

    async def edit_webhook_message(self, request: web.Request) -> web.Response:
        _record, msg = self._webhook_message(request)
        payload, files = _payload_and_files(request[BODY])
        self.sb._edit_message(msg, payload, files)
        with self.sb.lock:
            return json_response(self.sb._message_payload(msg))

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        _, msg = self._webhook_message(request)
        self.sb._delete_message(msg)
        return empty_response()


def _opt_int(value: Any) -> int | None:
    if value in (None, "", "null"):
        return None
    return int(value)
