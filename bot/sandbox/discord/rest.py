"""The sandbox's REST API, the routes of ``https://discord.com/api/v10`` the bot uses: what they share
(Discord's errors, JSON responses, rate-limit headers, the call log and injected faults).

The app and its middleware are in ``api.py``; the routes in ``routes_guilds.py`` and
``routes_messages.py``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

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


def payload_and_files(body: Any) -> tuple[dict[str, Any], list[tuple[str, str, bytes, str | None]]]:
    if isinstance(body, dict) and "files" in body and "payload_json" in body:
        return dict(body["payload_json"] or {}), list(body["files"])
    if isinstance(body, dict):
        return body, []
    return {}, []


def optional_int(value: Any) -> int | None:
    if value in (None, "", "null"):
        return None
    return int(value)


class Routes:
    """Handlers of a group of REST routes, each answering from the sandbox's state."""

    def __init__(self, sandbox: DiscordSandbox) -> None:
        self.sb = sandbox
