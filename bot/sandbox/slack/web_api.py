"""The Slack Web API methods the bot uses, served by aiohttp at `<base>/api/<method>`.

Arguments arrive the ways slack-sdk sends them (query string, form, multipart or JSON); the
token from `Authorization: Bearer` or a `token` argument. Answers have Slack's shape:
`{"ok": true, ...}` or `{"ok": false, "error": "<code>"}` with HTTP 200; 429 with `Retry-After`
beyond a method's rate tier (see tiers.py) or for an injected fault, and 5xx for injected faults.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .workspace import Channel, SlackError, User

if TYPE_CHECKING:
    from .sandbox import SlackSandbox

SANDBOX: web.AppKey[Any] = web.AppKey("sandbox", object)
Handler = Callable[["CallContext", dict[str, Any]], dict[str, Any]]
METHODS: dict[str, Handler] = {}
#: Methods that want the app-level token rather than the bot token.
APP_TOKEN_METHODS = {"apps.connections.open"}


def method(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        METHODS[name] = fn
        return fn

    return register


@dataclass
class ApiCall:
    """One call as the sandbox saw it, for assertions."""

    method: str
    args: dict[str, Any]
    at: float
    status: int = 200
    ok: bool | None = None
    error: str | None = None
    #: "rate_limit" / "server_error" for an injected fault, "tier" when Slack's rate tier refused it.
    fault: str | None = None
    #: The `Retry-After` (whole Slack seconds) a 429 carried.
    retry_after: int | None = None


@dataclass
class CallContext:
    sb: SlackSandbox
    caller: User
    request: web.Request
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ws(self):
        return self.sb.workspace


async def read_args(request: web.Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = await request.json()
            except (ValueError, UnicodeDecodeError):
                raise SlackError("invalid_json") from None
            if isinstance(body, dict):
                args.update(body)
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for k, v in form.items():
                if isinstance(v, str):
                    args[k] = v
                elif isinstance(v, (bytes, bytearray)):
                    args[k] = bytes(v)
                else:
                    args[k] = v.file.read()
        else:
            raw = await request.read()
            if raw:
                try:
                    from urllib.parse import parse_qsl

                    args.update(dict(parse_qsl(raw.decode("utf-8"))))
                except UnicodeDecodeError:
                    raise SlackError("invalid_form_data") from None
    return args


def _token(request: web.Request, args: dict[str, Any]) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    token = args.get("token")
    return str(token) if token else None


async def handle(request: web.Request) -> web.Response:
    """One Web API call, counted while in flight (so tests can see how parallel the bot is)."""
    sb: SlackSandbox = request.app[SANDBOX]
    name = request.match_info["method"]
    sb._enter_call(name)
    try:
        return await _handle(request, sb, name)
    finally:
        sb._leave_call(name)


async def _handle(request: web.Request, sb: SlackSandbox, name: str) -> web.Response:
    try:
        args = await read_args(request)
    except SlackError as e:
        return web.json_response({"ok": False, "error": e.code})
    token = _token(request, args)
    logged = {k: v for k, v in args.items() if k != "token"}
    call = ApiCall(method=name, args=logged, at=time.monotonic())
    sb._record_call(call)

    held = []
    for fault in sb.faults.next_for(name):
        if fault.kind == "hold":
            held.append(fault)
        elif fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
        elif fault.kind == "rate_limit":
            call.status, call.ok, call.error, call.fault = 429, False, "ratelimited", "rate_limit"
            call.retry_after = fault.retry_after
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(fault.retry_after)}
            )
        elif fault.kind == "server_error":
            call.status, call.ok, call.fault = fault.status, False, "server_error"
            return web.Response(status=fault.status, text="Internal Server Error")

    def fail(code: str, **extra: Any) -> web.Response:
        call.ok, call.error = False, code
        return web.json_response({"ok": False, "error": code, **extra})

    if name not in METHODS:
        return fail("unknown_method")
    if not token:
        return fail("not_authed")
    if token == sb.app_token:
        if name not in APP_TOKEN_METHODS:
            return fail("not_allowed_token_type")
        caller = sb.workspace.bot
    elif token == sb.bot_token:
        if name in APP_TOKEN_METHODS:
            return fail("not_allowed_token_type")
        caller = sb.workspace.bot
    else:
        return fail("invalid_auth")

    retry_after = sb.tiers.admit(sb.team_id, name, str(args.get("channel") or "") or None)
    if retry_after is not None:
        call.status, call.ok, call.error, call.fault, call.retry_after = 429, False, "ratelimited", "tier", retry_after
        return web.json_response(
            {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(retry_after)}
        )

    ctx = CallContext(sb=sb, caller=caller, request=request)
    try:
        with sb.workspace.lock:
            result = METHODS[name](ctx, args)
    except SlackError as e:
        return fail(e.code, **e.extra)
    call.ok = True
    for event in ctx.extra.get("events", []):
        sb._emit_event(event)
    for fault in held:
        await asyncio.sleep(fault.seconds)
    return web.json_response({"ok": True, **result})


# -- argument helpers ---------------------------------------------------------------------


def _required(args: dict[str, Any], key: str) -> str:
    value = args.get(key)
    if value is None or value == "":
        raise SlackError(
            "invalid_arguments", response_metadata={"messages": [f"[ERROR] missing required field: {key}"]}
        )
    return str(value)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes")


def _json_arg(args: dict[str, Any], key: str) -> Any:
    value = args.get(key)
    if isinstance(value, (str, bytes)):
        if not value:
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise SlackError("invalid_blocks_format" if key == "blocks" else "invalid_arguments") from None
    return value


def _list_arg(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _paginate(items: list[Any], args: dict[str, Any], default_limit: int = 100) -> tuple[list[Any], dict[str, Any]]:
    try:
        limit = int(args.get("limit") or default_limit)
    except ValueError:
        raise SlackError("invalid_limit") from None
    limit = max(1, min(limit, 1000))
    cursor = args.get("cursor") or ""
    try:
        start = int(base64.b64decode(cursor).decode().split(":")[1]) if cursor else 0
    except (ValueError, IndexError):
        raise SlackError("invalid_cursor") from None
    page = items[start : start + limit]
    nxt = start + limit
    next_cursor = base64.b64encode(f"offset:{nxt}".encode()).decode() if nxt < len(items) else ""
    return page, {"response_metadata": {"next_cursor": next_cursor}}


def _member_channel(ctx: CallContext, args: dict[str, Any], key: str = "channel") -> Channel:
    channel = ctx.ws.channel(_required(args, key), viewer=ctx.caller.id)
    if ctx.caller.id not in channel.members:
        raise SlackError("not_in_channel")
    return channel


def _event(ctx: CallContext, event: dict[str, Any], channel: Channel) -> None:
    ctx.extra.setdefault("events", []).append((event, channel))


# -- auth / users ---------------------------------------------------------------------------


@method("auth.test")
def auth_test(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    ws = ctx.ws
    return {
        "url": f"https://{ws.team_domain}.slack.com/",
        "team": ws.team_domain.title(),
        "user": ws.bot.name,
        "team_id": ws.team_id,
        "user_id": ws.bot.id,
        "bot_id": ws.bot.bot_id,
        "is_enterprise_install": False,
    }


@method("users.info")
def users_info(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    return {"user": ctx.ws.user(_required(args, "user")).to_api()}


@method("users.list")
def users_list(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    users = [u.to_api() for u in ctx.ws.users.values()]
    page, meta = _paginate(users, args, default_limit=1000)
    return {"members": page, "cache_ts": int(time.time()), **meta}


@method("usergroups.list")
def usergroups_list(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    include_users = _bool(args.get("include_users", False))
    groups = []
    for g in ctx.ws.usergroups.values():
        entry: dict[str, Any] = {
            "id": g.id,
            "team_id": ctx.ws.team_id,
            "is_usergroup": True,
            "name": g.name,
            "handle": g.handle,
            "description": "",
            "user_count": len(g.users),
        }
        if include_users:
            entry["users"] = list(g.users)
        groups.append(entry)
    return {"usergroups": groups}


@method("usergroups.users.list")
def usergroups_users_list(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    group = ctx.ws.usergroups.get(_required(args, "usergroup"))
    if group is None:
        raise SlackError("no_such_subteam")
    return {"users": list(group.users)}


# -- conversations -------------------------------------------------------------------------


@method("conversations.info")
def conversations_info(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    channel = ctx.ws.channel(_required(args, "channel"), viewer=ctx.caller.id)
    return {"channel": channel.to_api(ctx.caller.id)}


@method("conversations.list")
def conversations_list(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    types = set(_list_arg(args.get("types") or "public_channel"))
    exclude_archived = _bool(args.get("exclude_archived", False))
    found = []
    for c in ctx.ws.channels.values():
        if c.is_im:
            if "im" not in types:
                continue
        elif c.is_private:
            if "private_channel" not in types or ctx.caller.id not in c.members:
                continue
        elif "public_channel" not in types:
            continue
        if exclude_archived and c.is_archived:
            continue
        found.append(c.to_api(ctx.caller.id))
    page, meta = _paginate(found, args)
    return {"channels": page, **meta}


@method("conversations.members")
def conversations_members(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    channel = ctx.ws.channel(_required(args, "channel"), viewer=ctx.caller.id)
    page, meta = _paginate(list(channel.members), args)
    return {"members": page, **meta}


#: conversations.history / conversations.replies: Slack's default and largest page ("limit").
HISTORY_DEFAULT_LIMIT = 100
HISTORY_MAX_LIMIT = 999


def _in_window(msg: dict[str, Any], args: dict[str, Any]) -> bool:
    """Slack's ``oldest``/``latest`` bounds: exclusive unless ``inclusive`` is true."""
    ts = float(msg["ts"])
    inclusive = _bool(args.get("inclusive", False))
    oldest, latest = args.get("oldest"), args.get("latest")
    try:
        if oldest not in (None, "") and (ts < float(oldest) or (ts == float(oldest) and not inclusive)):
            return False
        if latest not in (None, "") and (ts > float(latest) or (ts == float(latest) and not inclusive)):
            return False
    except ValueError:
        raise SlackError("invalid_ts_oldest" if oldest else "invalid_ts_latest") from None
    return True


def _history_page(sb: SlackSandbox, items: list[dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
    """One page with Slack's ``has_more`` and an opaque ``next_cursor`` (only when there is more)."""
    try:
        limit = int(args.get("limit") or HISTORY_DEFAULT_LIMIT)
    except ValueError:
        raise SlackError("invalid_limit") from None
    # A sandbox may lower the ceiling, as Slack does for apps outside its Marketplace (15).
    limit = max(1, min(limit, sb.history_limit or HISTORY_MAX_LIMIT))
    cursor = args.get("cursor") or ""
    try:
        start = int(base64.b64decode(cursor).decode().split(":")[1]) if cursor else 0
    except (ValueError, IndexError):
        raise SlackError("invalid_cursor") from None
    page = [_shown(m, args) for m in items[start : start + limit]]
    more = start + limit < len(items)
    out: dict[str, Any] = {"messages": page, "has_more": more}
    if more:
        out["response_metadata"] = {"next_cursor": base64.b64encode(f"next_ts:{start + limit}".encode()).decode()}
    return out


@method("conversations.history")
def conversations_history(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    """Newest first; a thread's replies are not here (only its parent, with ``reply_count`` and
    ``latest_reply``), except those also sent to the channel."""
    channel = _member_channel(ctx, args)
    with ctx.ws.lock:
        top = [
            m
            for m in channel.messages
            if (m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast") and _in_window(m, args)
        ]
        top.sort(key=lambda m: float(m["ts"]), reverse=True)
        return {"pin_count": 0, **_history_page(ctx.sb, top, args)}


@method("conversations.replies")
def conversations_replies(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    """A thread, oldest first: its parent, then the replies within the window."""
    channel = _member_channel(ctx, args)
    ts = _required(args, "ts")
    with ctx.ws.lock:
        found = next((m for m in channel.messages if m["ts"] == ts), None)
        if found is None:
            raise SlackError("thread_not_found")
        thread_ts = found.get("thread_ts") or found["ts"]
        parent = next((m for m in channel.messages if m["ts"] == thread_ts), None)
        replies = [
            m
            for m in channel.messages
            if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts and _in_window(m, args)
        ]
        replies.sort(key=lambda m: float(m["ts"]))
        return _history_page(ctx.sb, ([parent] if parent is not None else []) + replies, args)


@method("conversations.create")
def conversations_create(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    name = _required(args, "name")
    channel = ctx.ws.create_channel(name, is_private=_bool(args.get("is_private", False)), creator=ctx.caller.id)
    return {"channel": channel.to_api(ctx.caller.id)}


@method("conversations.archive")
def conversations_archive(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    channel = ctx.ws.channel(_required(args, "channel"), viewer=ctx.caller.id)
    if channel.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    if channel.name == "general":
        raise SlackError("cant_archive_general")
    if channel.is_archived:
        raise SlackError("already_archived")
    if ctx.caller.id not in channel.members:
        raise SlackError("not_in_channel")
    channel.is_archived = True
    return {}


@method("conversations.unarchive")
def conversations_unarchive(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    channel = ctx.ws.channel(_required(args, "channel"), viewer=ctx.caller.id)
    if not channel.is_archived:
        raise SlackError("not_archived")
    channel.is_archived = False
    return {}


@method("conversations.join")
def conversations_join(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    channel = ctx.ws.channel(_required(args, "channel"), viewer=ctx.caller.id)
    if channel.is_private or channel.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    if channel.is_archived:
        raise SlackError("is_archived")
    extra: dict[str, Any] = {}
    joined = ctx.ws.join(channel, ctx.caller.id)
    if joined is None:
        extra["warning"] = "already_in_channel"
        extra["response_metadata"] = {"warnings": ["already_in_channel"]}
    else:
        _event(ctx, {**joined, "channel": channel.id}, channel)
    return {"channel": channel.to_api(ctx.caller.id), **extra}


@method("conversations.invite")
def conversations_invite(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    channel = ctx.ws.channel(_required(args, "channel"), viewer=ctx.caller.id)
    users = _list_arg(args.get("users"))
    force = _bool(args.get("force", False))
    if not users:
        raise SlackError("no_user")
    if len(users) > 1000:
        raise SlackError("too_many_users")
    if channel.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    if channel.is_archived:
        raise SlackError("is_archived")
    if ctx.caller.id not in channel.members:
        raise SlackError("not_in_channel")
    errors = []
    valid = []
    for uid in users:
        code = None
        if uid == ctx.caller.id:
            code = "cant_invite_self"
        elif uid not in ctx.ws.users or ctx.ws.users[uid].deleted:
            code = "user_not_found"
        elif uid in channel.members:
            code = "already_in_channel"
        if code:
            errors.append({"user": uid, "ok": False, "error": code})
        elif uid not in valid:
            valid.append(uid)
    if errors and not force:
        raise SlackError(str(errors[0]["error"]), errors=errors)
    for uid in valid:
        joined = ctx.ws.join(channel, uid, inviter=ctx.caller.id)
        if joined is not None:
            _event(ctx, {**joined, "channel": channel.id}, channel)
            _event(
                ctx,
                {
                    "type": "member_joined_channel",
                    "user": uid,
                    "channel": channel.id,
                    "channel_type": "G" if channel.is_private else "C",
                    "team": ctx.ws.team_id,
                    "inviter": ctx.caller.id,
                    "event_ts": joined["ts"],
                },
                channel,
            )
    result: dict[str, Any] = {"channel": channel.to_api(ctx.caller.id)}
    if errors:
        result["errors"] = errors
    return result


@method("conversations.open")
def conversations_open(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    users = _list_arg(args.get("users"))
    if args.get("channel"):
        channel = ctx.ws.channel(str(args["channel"]), viewer=ctx.caller.id)
        return {"channel": {"id": channel.id}}
    if len(users) != 1:
        raise SlackError("not_enough_users" if not users else "method_not_supported_for_channel_type")
    channel = ctx.ws.dm_channel(ctx.ws.user(users[0]).id)
    if _bool(args.get("return_im", False)):
        return {"channel": channel.to_api(ctx.caller.id)}
    return {"channel": {"id": channel.id}}


# -- chat --------------------------------------------------------------------------------


def _message_args(args: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]] | None]:
    text = args.get("text")
    blocks = _json_arg(args, "blocks")
    return (str(text) if text is not None else None), blocks


def _shown(msg: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """A stored message as history returns it: its ``metadata`` only with ``include_all_metadata``."""
    shown = copy.deepcopy(msg)
    if not _bool(args.get("include_all_metadata", False)):
        shown.pop("metadata", None)
    return shown


def _metadata(args: dict[str, Any]) -> dict[str, Any] | None:
    """``metadata`` of chat.postMessage: an ``event_type`` (letters, digits, underscores) and an object."""
    meta = _json_arg(args, "metadata")
    if meta is None:
        return None
    if (
        not isinstance(meta, dict)
        or not re.fullmatch(r"[A-Za-z0-9_]{1,255}", str(meta.get("event_type") or ""))
        or not isinstance(meta.get("event_payload"), dict)
    ):
        raise SlackError("invalid_metadata_format")
    return {"event_type": meta["event_type"], "event_payload": meta["event_payload"]}


@method("chat.postMessage")
def chat_post_message(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    channel = ctx.ws.channel(_required(args, "channel"), viewer=ctx.caller.id)
    if channel.is_archived:
        raise SlackError("is_archived")
    if ctx.caller.id not in channel.members:
        raise SlackError("not_in_channel")
    text, blocks = _message_args(args)
    thread_ts = args.get("thread_ts") or None
    if thread_ts:
        try:
            ctx.ws.message(channel, str(thread_ts))
        except SlackError:
            raise SlackError("thread_not_found") from None
    metadata = _metadata(args)
    msg = ctx.ws.new_message(channel, ctx.caller, text=text, blocks=blocks, thread_ts=thread_ts)
    _event(ctx, {**msg, "channel": channel.id, "event_ts": msg["ts"], "channel_type": channel.channel_type}, channel)
    if metadata is not None:
        msg["metadata"] = metadata  # kept with the message; history shows it with include_all_metadata
    return {"channel": channel.id, "ts": msg["ts"], "message": dict(msg)}


@method("chat.update")
def chat_update(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    channel = ctx.ws.channel(_required(args, "channel"), viewer=ctx.caller.id)
    ts = _required(args, "ts")
    text, blocks = _message_args(args)
    previous, msg = ctx.ws.edit_message(channel, ts, ctx.caller, text=text, blocks=blocks)
    _event(ctx, changed_event(ctx.ws.ids.ts(), channel, msg, previous), channel)
    return {"channel": channel.id, "ts": ts, "text": msg["text"], "message": dict(msg)}


@method("chat.delete")
def chat_delete(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    channel = ctx.ws.channel(_required(args, "channel"), viewer=ctx.caller.id)
    ts = _required(args, "ts")
    msg = ctx.ws.delete_message(channel, ts, ctx.caller)
    _event(ctx, deleted_event(ctx.ws.ids.ts(), channel, msg), channel)
    return {"channel": channel.id, "ts": ts}


@method("chat.postEphemeral")
def chat_post_ephemeral(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    channel = ctx.ws.channel(_required(args, "channel"), viewer=ctx.caller.id)
    user = ctx.ws.user(_required(args, "user"))
    if channel.is_archived:
        raise SlackError("is_archived")
    if (channel.is_private or channel.is_im) and ctx.caller.id not in channel.members:
        raise SlackError("not_in_channel")
    if user.id not in channel.members:
        raise SlackError("user_not_in_channel")
    text, blocks = _message_args(args)
    from .workspace import check_message_content

    check_message_content(text, blocks)
    entry = ctx.ws.add_ephemeral(
        channel, user.id, text=text, blocks=blocks, source="chat.postEphemeral", thread_ts=args.get("thread_ts")
    )
    return {"message_ts": entry["ts"]}


# -- files -------------------------------------------------------------------------------


@method("files.getUploadURLExternal")
def files_get_upload_url(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    filename = _required(args, "filename")
    try:
        length = int(_required(args, "length"))
    except ValueError:
        raise SlackError("invalid_arguments") from None
    if length <= 0:
        raise SlackError("invalid_arguments")
    from .workspace import UploadedFile

    fid = ctx.ws.ids.new("F")
    ctx.ws.files[fid] = UploadedFile(id=fid, filename=filename, length=length)
    return {"upload_url": f"{ctx.sb.base_url}upload/{fid}", "file_id": fid}


@method("files.completeUploadExternal")
def files_complete_upload(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    entries = _json_arg(args, "files")
    if not isinstance(entries, list) or not entries:
        raise SlackError("invalid_arguments")
    targets: list[Channel] = []
    for ref in ([args["channel_id"]] if args.get("channel_id") else []) + _list_arg(args.get("channels")):
        channel = ctx.ws.channel(str(ref), viewer=ctx.caller.id)
        if ctx.caller.id not in channel.members:
            raise SlackError("not_in_channel")
        targets.append(channel)
    done = []
    for entry in entries:
        f = ctx.ws.files.get(str(entry.get("id")))
        if f is None or f.content is None:
            raise SlackError("file_not_found")
        f.title = entry.get("title") or f.filename
        done.append(f)
    for f in done:
        f.completed = True
        f.initial_comment = args.get("initial_comment")
        f.thread_ts = args.get("thread_ts")
        f.channels = [c.id for c in targets]
    for channel in targets:
        msg = ctx.ws.new_message(
            channel,
            ctx.caller,
            text=str(args.get("initial_comment") or ""),
            blocks=None,
            thread_ts=args.get("thread_ts") or None,
            allow_empty=True,
        )
        msg["files"] = [_file_api(f, ctx.sb) for f in done]
        msg["upload"] = True
        _event(
            ctx, {**msg, "channel": channel.id, "event_ts": msg["ts"], "channel_type": channel.channel_type}, channel
        )
    return {"files": [_file_api(f, ctx.sb) for f in done]}


def _file_api(f: Any, sb: SlackSandbox | None = None) -> dict[str, Any]:
    return (
        file_object(sb, f)
        if sb is not None
        else {"id": f.id, "name": f.filename, "title": f.title, "size": f.length, "channels": list(f.channels)}
    )


def file_object(sb: SlackSandbox, f: Any) -> dict[str, Any]:
    """A file as files.list / files.info / a message's `files` show it (the fields the bot may read)."""
    ws = sb.workspace
    owner = f.user or ws.bot.id
    key = f"{ws.team_id}-{f.id}"
    where = [ws.channels[c] for c in f.channels if c in ws.channels]
    return {
        "id": f.id,
        "created": f.created,
        "timestamp": f.created,
        "name": f.filename,
        "title": f.title or f.filename,
        "mimetype": f.mimetype,
        "filetype": f.filetype,
        "pretty_type": {"text": "Plain Text"}.get(f.filetype, f.filetype.upper()),
        "user": owner,
        "user_team": ws.team_id,
        "editable": f.filetype == "text",
        "size": f.length,
        "mode": "hosted",
        "is_external": False,
        "external_type": "",
        "is_public": any(not c.is_private and not c.is_im for c in where),
        "public_url_shared": False,
        "display_as_bot": False,
        "username": "",
        "url_private": f"{sb.base_url}files-pri/{key}/{f.filename}",
        "url_private_download": f"{sb.base_url}files-pri/{key}/download/{f.filename}",
        "permalink": f"https://{ws.team_domain}.slack.com/files/{owner}/{f.id}/{f.filename}",
        "channels": [c.id for c in where if not c.is_private and not c.is_im],
        "groups": [c.id for c in where if c.is_private],
        "ims": [c.id for c in where if c.is_im],
        "comments_count": 0,
        "has_rich_preview": False,
        "file_access": "visible",
    }


def _visible(ctx: CallContext, f: Any) -> bool:
    """The bot sees a file shared in a conversation it is in (and its own uploads)."""
    if not f.completed:
        return False
    if f.user is None:
        return True
    return any(ctx.caller.id in ctx.ws.channels[c].members for c in f.channels if c in ctx.ws.channels)


@method("files.list")
def files_list(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    """Newest first, filtered by user / channel / ts_from / ts_to / types; classic count+page paging."""
    user = args.get("user") or None
    channel = args.get("channel") or None
    if user:
        ctx.ws.user(str(user))
    if channel:
        ctx.ws.channel(str(channel), viewer=ctx.caller.id)
    types = set(_list_arg(args.get("types") or "all"))
    known = {"all", "spaces", "snippets", "images", "gdocs", "zips", "pdfs"}
    if not types <= known:
        raise SlackError("unknown_type")
    try:
        ts_from = float(args.get("ts_from") or 0)
        ts_to = float(args.get("ts_to") or "inf")
        count = max(1, min(int(args.get("count") or 100), 1000))
        page = max(1, int(args.get("page") or 1))
    except ValueError:
        raise SlackError("invalid_arguments") from None
    kinds = {"images": "image/", "pdfs": "application/pdf", "zips": "application/zip"}
    found = []
    for f in ctx.ws.files.values():
        if not _visible(ctx, f) or (user and (f.user or ctx.ws.bot.id) != user):
            continue
        if channel and str(channel) not in f.channels:
            continue
        if not ts_from <= f.created <= ts_to:
            continue
        if "all" not in types and not any(f.mimetype.startswith(kinds.get(t, "\0")) for t in types):
            continue
        found.append(f)
    found.sort(key=lambda f: (f.created, f.id), reverse=True)
    total = len(found)
    pages = max(1, -(-total // count))
    chunk = found[(page - 1) * count : page * count]
    return {
        "files": [file_object(ctx.sb, f) for f in chunk],
        "paging": {"count": count, "total": total, "page": page, "pages": pages},
    }


@method("files.info")
def files_info(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    f = ctx.ws.files.get(_required(args, "file"))
    if f is None or not _visible(ctx, f):
        raise SlackError("file_not_found")
    return {"file": file_object(ctx.sb, f), "comments": [], "response_metadata": {"next_cursor": ""}}


LOGIN_PAGE = "<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>"


async def handle_download(request: web.Request) -> web.Response:
    """url_private(_download): the bytes with the bot token in `Authorization: Bearer`; without it, what
    Slack gives a browser that is not signed in (a login page, HTTP 200)."""
    sb: SlackSandbox = request.app[SANDBOX]
    team, _, fid = request.match_info["key"].partition("-")
    auth = request.headers.get("Authorization", "")
    authorized = auth.lower().startswith("bearer ") and auth[7:].strip() == sb.bot_token
    with sb.workspace.lock:
        f = sb.workspace.files.get(fid)
        sb.downloads.append({"file": fid, "authorized": authorized, "at": time.monotonic()})
    if f is None or team != sb.workspace.team_id or f.filename != request.match_info["name"]:
        return web.Response(status=404, text="file_not_found")
    if not authorized:
        return web.Response(text=LOGIN_PAGE, content_type="text/html")
    return web.Response(
        body=f.content or b"",
        content_type=f.mimetype.split(";")[0],
        headers={"Content-Disposition": f'attachment; filename="{f.filename}"'},
    )


async def handle_upload(request: web.Request) -> web.Response:
    """The upload URL itself: takes the bytes (raw body or a multipart `file` part)."""
    sb: SlackSandbox = request.app[SANDBOX]
    fid = request.match_info["file_id"]
    with sb.workspace.lock:
        f = sb.workspace.files.get(fid)
    if f is None:
        return web.Response(status=404, text="file not found")
    if request.content_type == "multipart/form-data":
        form = await request.post()
        part = form.get("file") or next(iter(form.values()), b"")
        data = part.file.read() if hasattr(part, "file") else str(part).encode()
    else:
        data = await request.read()
    with sb.workspace.lock:
        f.content = data
    return web.Response(text=f"OK - {len(data)}")


# -- Socket Mode --------------------------------------------------------------------------


@method("apps.connections.open")
def apps_connections_open(ctx: CallContext, args: dict[str, Any]) -> dict[str, Any]:
    return {"url": ctx.sb.socket_mode.new_url()}


# -- event shapes ---------------------------------------------------------------------------


def changed_event(ts: str, channel: Channel, msg: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "message_changed",
        "message": dict(msg),
        "previous_message": previous,
        "channel": channel.id,
        "hidden": True,
        "ts": ts,
        "event_ts": ts,
        "channel_type": channel.channel_type,
    }


def deleted_event(ts: str, channel: Channel, msg: dict[str, Any]) -> dict[str, Any]:
    """``message_deleted``; for a thread's parent that left a tombstone, Slack sends ``message_changed``
    with the tombstone as the message instead."""
    left = next((m for m in channel.messages if m["ts"] == msg["ts"]), None)
    if left is not None and left.get("subtype") == "tombstone":
        return changed_event(ts, channel, left, msg)
    return {
        "type": "message",
        "subtype": "message_deleted",
        "previous_message": dict(msg),
        "channel": channel.id,
        "hidden": True,
        "deleted_ts": msg["ts"],
        "event_ts": ts,
        "ts": ts,
        "channel_type": channel.channel_type,
    }
