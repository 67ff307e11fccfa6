"""The sandbox's REST app: one middleware (log, injected faults, rate-limit buckets, auth) and the
routing table of the Discord routes the bot uses.

Responses carry exactly ``Content-Type: application/json`` (discord.py compares the header with
``==`` and treats anything else as text) and X-RateLimit-* headers. A fault injected with
:meth:`DiscordSandbox.inject_429` answers 429 with ``retry_after`` in the body, a ``Retry-After``
header and a ``Via`` header (discord.py treats a 429 without ``Via`` as a Cloudflare ban).
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .rest import API, BODY, APIError, RestCall, json_response, rate_limit_headers
from .routes_guilds import GuildRoutes
from .routes_messages import MessageRoutes

if TYPE_CHECKING:
    from .server import DiscordSandbox


class Handlers(GuildRoutes, MessageRoutes):
    """Every route's handler."""


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
