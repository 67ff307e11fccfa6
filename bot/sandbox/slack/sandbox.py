"""`SlackSandbox`: a local Slack workspace on 127.0.0.1, port 0, for the demo and the tests.

It runs aiohttp on its own event loop in a background thread, so synchronous tests use it as

    with SlackSandbox() as sb:
        ada = sb.add_user("Ada Lovelace")
        ...

and point slack-sdk / slack-bolt at `sb.api_url`, `sb.bot_token`, `sb.app_token`,
`sb.signing_secret`. Events reach the bot over Socket Mode, or over HTTP once
`sb.request_url` is set.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Self

from aiohttp import web

from bot.sandbox.background import BackgroundServer, serve_on_free_port

from . import web_api
from .delivery import EVENTS_API, INTERACTIVE, SLASH_COMMANDS, Delivery
from .faults import Faults
from .http_mode import HttpGateway, encode
from .socket_mode import SocketModeGateway
from .tiers import RateTiers, scaled_sleep
from .workspace import Channel, SlackError, UploadedFile, User, Usergroup, Workspace

VERIFICATION_TOKEN = "sandbox-verification-token"
ChannelRef = "Channel | str"


@dataclass
class ResponsePost:
    """A POST the bot made to a `response_url`."""

    token: str
    source: str  # "command" | "action"
    user: str
    channel: str
    body: dict[str, Any]
    at: float

    @property
    def text(self) -> str:
        return str(self.body.get("text") or "")

    @property
    def response_type(self) -> str:
        return str(self.body.get("response_type") or "ephemeral")


@dataclass
class _ResponseUrl:
    token: str
    source: str
    user: str
    channel: str
    #: The message an action came from: (is_ephemeral, ts).
    origin: tuple[bool, str] | None = None
    uses: int = 0
    #: The ephemeral message this hook last showed (a command's answer, which replace_original replaces).
    last_ephemeral: str | None = None


class CommandResult:
    """What a person saw after typing a slash command: the ack, then any response_url posts."""

    def __init__(self, sb: SlackSandbox, delivery: Delivery, token: str, user: User, channel: Channel) -> None:
        self.sb, self.delivery, self.token, self.user, self.channel = sb, delivery, token, user, channel

    @property
    def acked(self) -> bool:
        return self.delivery.acked.is_set()

    @property
    def ack(self) -> Any:
        """The ack's response payload (Socket Mode) or response body (HTTP), if any."""
        return self.delivery.ack_payload

    @property
    def ack_text(self) -> str:
        ack = self.ack
        if isinstance(ack, dict):
            return _message_text(ack)
        return str(ack or "")

    @property
    def responses(self) -> list[ResponsePost]:
        return [r for r in self.sb.responses if r.token == self.token]

    def texts(self) -> list[str]:
        """Everything this command showed its typist, ack first."""
        out = [self.ack_text] if self.ack_text else []
        return out + [_message_text(r.body) for r in self.responses]

    def wait_for_responses(self, n: int = 1, timeout: float = 5.0) -> list[ResponsePost]:
        self.sb.wait_until(lambda: len(self.responses) >= n, timeout=timeout, message=f"{n} response_url posts")
        return self.responses

    def __repr__(self) -> str:
        return f"<CommandResult acked={self.acked} ack={self.ack!r} responses={len(self.responses)}>"


class SimUser:
    """A simulated person: types commands, posts, replies, edits, deletes, clicks, shares files, reacts."""

    def __init__(self, sb: SlackSandbox, user: User) -> None:
        self.sb = sb
        self.user = user

    @property
    def id(self) -> str:
        return self.user.id

    @property
    def name(self) -> str:
        return self.user.real_name

    def __repr__(self) -> str:
        return f"<SimUser {self.user.id} {self.user.real_name!r}>"

    def run_command(
        self, channel: Any, command: str, text: str = "", *, wait: bool = True, tamper: str | None = None
    ) -> CommandResult:
        return self.sb.run_command(self, channel, command, text, wait=wait, tamper=tamper)

    def post(self, channel: Any, text: str, thread_ts: str | None = None, *, tamper: str | None = None) -> str:
        return self.sb.post(self, channel, text, thread_ts=thread_ts, tamper=tamper)

    def reply(self, channel: Any, thread_ts: str, text: str) -> str:
        return self.sb.post(self, channel, text, thread_ts=thread_ts)

    def edit(self, channel: Any, ts: str, text: str) -> None:
        self.sb.edit(self, channel, ts, text)

    def delete(self, channel: Any, ts: str) -> None:
        self.sb.delete(self, channel, ts)

    def click(self, channel: Any, message_ts: str, action_id: str, value: str | None = None) -> Delivery:
        return self.sb.click(self, channel, message_ts, action_id, value)

    def shortcut(self, channel: Any, message_ts: str, callback_id: str) -> Delivery:
        return self.sb.shortcut(self, channel, message_ts, callback_id)

    def join(self, channel: Any) -> None:
        self.sb.join(self, channel)

    def invite(self, other: Any, channel: Any) -> None:
        """Bring ``other`` into a channel this person is in (how anyone gets into a private channel)."""
        self.sb.join(other, channel, invited_by=self)

    def share_file(self, channel: Any, filename: str, content: bytes | str, **kwargs: Any) -> UploadedFile:
        """Upload a file into a channel (or this person's DM with the bot: ``channel=sb.dm(person)``)."""
        return self.sb.share_file(self, channel, filename, content, **kwargs)

    def react(self, channel: Any, ts: str, name: str) -> Delivery | None:
        """Add a reaction (Slack's name without colons: "star", "no_entry_sign") to a message."""
        return self.sb.react(self, channel, ts, name, added=True)

    def unreact(self, channel: Any, ts: str, name: str) -> Delivery | None:
        return self.sb.react(self, channel, ts, name, added=False)

    def ephemerals(self, channel: Any = None) -> list[dict[str, Any]]:
        return self.sb.ephemerals(self, channel)

    def dms(self) -> list[dict[str, Any]]:
        """Messages in this person's direct conversation with the bot."""
        return self.sb.messages(self.sb.workspace.dm_channel(self.id))

    def files(self) -> list[UploadedFile]:
        return self.sb.files(user=self)


class SlackSandbox(BackgroundServer):
    """A local Slack: Web API, Socket Mode, HTTP-mode delivery, and simulated people."""

    def __init__(
        self,
        *,
        ack_timeout: float = 3.0,
        max_retries: int = 3,
        retry_delay: float = 0.0,
        connect_wait: float = 30.0,
        request_url: str | None = None,
        subscriptions: Iterable[str] | None = None,
        team_id: str = "T0SANDBOX",
        clock: Callable[[], float] = time.monotonic,
        time_scale: float = 1.0,
        rate_tiers: bool = True,
    ) -> None:
        """`time_scale` is how fast Slack's clock runs here (0.01: a minute lasts 0.6 s); Slack's rate
        tiers refill on it. `rate_tiers=False` lifts them, for tests about something else entirely."""
        self.workspace = Workspace(team_id=team_id)
        self.team_id = team_id
        self.bot_token = "xoxb-sandbox-" + secrets.token_hex(8)
        self.app_token = "xapp-1-sandbox-" + secrets.token_hex(8)
        self.signing_secret = secrets.token_hex(16)
        self.ack_timeout = ack_timeout
        self.max_retries = max_retries
        #: The largest conversations.history/replies page; Slack allows 15 to apps outside its Marketplace.
        self.history_limit: int | None = None
        self.retry_delay = retry_delay
        self.connect_wait = connect_wait
        self.request_url = request_url
        #: The app's bot_events (as in its manifest: "message.channels", ...); None delivers every event.
        self.subscriptions: set[str] | None = set(subscriptions) if subscriptions is not None else None
        self.clock = clock
        self.faults = Faults()
        self.time_scale = time_scale
        #: Slack's per-method rate tiers for this workspace (see tiers.py); `.enabled` turns them off.
        self.tiers = RateTiers(time_scale=time_scale, clock=clock, enabled=rate_tiers)
        #: Waits seconds of this workspace's Slack time: what a client on its clock sleeps for a
        #: `Retry-After` (the bot's `RetryAfterHandler(sleep=sb.sleep)`). A plain function, so
        #: slack-bolt can deep-copy a client that holds it.
        self.sleep: Callable[[float], None] = scaled_sleep(time_scale)
        self.socket_mode = SocketModeGateway(self)
        self.http = HttpGateway(self)
        self.deliveries: list[Delivery] = []
        self.responses: list[ResponsePost] = []
        #: Every fetch of a url_private(_download): {"file": id, "authorized": bool, "at": monotonic}.
        self.downloads: list[dict[str, Any]] = []
        self._calls: list[web_api.ApiCall] = []
        self._calls_lock = threading.Lock()
        self._in_flight: dict[str, int] = {}
        self._peak: dict[str, int] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        BackgroundServer.__init__(self)
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self.port: int | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    thread_name = "slack-sandbox"

    def start(self) -> Self:
        return super().start()

    async def _serve(self) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app[web_api.SANDBOX] = self
        app.router.add_route("*", "/api/{method}", web_api.handle)
        app.router.add_post("/upload/{file_id}", web_api.handle_upload)
        app.router.add_get("/files-pri/{key}/download/{name}", web_api.handle_download)
        app.router.add_get("/files-pri/{key}/{name}", web_api.handle_download)
        app.router.add_get("/link/", self.socket_mode.handle)
        app.router.add_post("/response/{token}", self._handle_response_url)
        self._runner, self.port = await serve_on_free_port(app)

    async def _shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.socket_mode.close()
        await self.http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def api_url(self) -> str:
        """The `base_url` for slack_sdk's WebClient."""
        return f"{self.base_url}api/"

    @property
    def mode(self) -> str:
        return "http" if self.request_url else "socket"

    @property
    def bot(self) -> User:
        return self.workspace.bot

    def _run(self, coro: Any, timeout: float = 10.0) -> Any:
        assert self._loop is not None, "sandbox not started"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def _spawn(self, coro: Any) -> None:
        def create() -> None:
            task = asyncio.ensure_future(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        if self._loop is None:
            raise RuntimeError("sandbox not started")
        if threading.current_thread() is self._thread:
            create()
        else:
            self._loop.call_soon_threadsafe(create)

    # -- people and places -------------------------------------------------------------------

    def add_user(
        self,
        real_name: str,
        display_name: str | None = None,
        first_name: str | None = None,
        is_admin: bool = False,
        is_bot: bool = False,
        *,
        is_owner: bool = False,
    ) -> SimUser:
        user = self.workspace.add_user(
            real_name, display_name, first_name, is_admin=is_admin, is_bot=is_bot, is_owner=is_owner
        )
        return SimUser(self, user)

    def add_channel(
        self, name: str, members: Iterable[Any] = (), is_private: bool = False, *, bot_member: bool = True
    ) -> Channel:
        """Make a channel with these people (and the bot, unless `bot_member=False`)."""
        ids = [_user_id(m) for m in members]
        if bot_member:
            ids.append(self.workspace.bot.id)
        return self.workspace.add_channel(name, ids, is_private=is_private, creator=ids[0] if ids else "")

    def add_usergroup(self, handle: str, members: Iterable[Any]) -> Usergroup:
        return self.workspace.add_usergroup(handle, [_user_id(m) for m in members])

    def user(self, ref: Any) -> SimUser:
        return SimUser(self, self.workspace.user(_user_id(ref)))

    def channel(self, ref: Any) -> Channel:
        if isinstance(ref, Channel):
            return ref
        with self.workspace.lock:
            found = self.workspace.channels.get(ref) or self.workspace.find_channel_by_name(str(ref))
        if found is None:
            raise KeyError(f"no channel {ref!r}")
        return found

    def archive(self, channel: Any) -> None:
        self.channel(channel).is_archived = True

    # -- what people do ------------------------------------------------------------------------

    def run_command(
        self,
        user: Any,
        channel: Any,
        command: str,
        text: str = "",
        *,
        wait: bool = True,
        tamper: str | None = None,
    ) -> CommandResult:
        u = self.workspace.user(_user_id(user))
        c = self.channel(channel)
        if u.id not in c.members and not c.is_im:
            raise SlackError("not_in_channel", detail=f"{u.real_name} can only type commands where they are")
        token = self._new_response_url("command", u.id, c.id)
        payload = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": self.workspace.team_domain,
            "channel_id": c.id,
            "channel_name": "directmessage" if c.is_im else c.name,
            "user_id": u.id,
            "user_name": u.name,
            "command": command,
            "text": text,
            "api_app_id": self.workspace.app_id,
            "is_enterprise_install": "false",
            "response_url": f"{self.base_url}response/{token}",
            "trigger_id": f"{int(time.time())}.{secrets.randbelow(10**9)}.{secrets.token_hex(8)}",
        }
        d = self._deliver(
            SLASH_COMMANDS, payload, tamper=tamper, context={"user": u.id, "channel": c.id, "hook": token}
        )
        if wait:
            d.wait(self.ack_timeout + self.connect_wait + 2)
        return CommandResult(self, d, token, u, c)

    def post(
        self, user: Any, channel: Any, text: str, thread_ts: str | None = None, *, tamper: str | None = None
    ) -> str:
        u = self.workspace.user(_user_id(user))
        c = self.channel(channel)
        with self.workspace.lock:
            if u.id not in c.members:
                raise SlackError("not_in_channel")
            if c.is_archived:
                raise SlackError("is_archived")
            msg = self.workspace.new_message(
                c, u, text=text, blocks=None, thread_ts=thread_ts, client_msg_id=str(uuid.uuid4())
            )
        event = {**msg, "channel": c.id, "event_ts": msg["ts"], "channel_type": c.channel_type}
        self._emit_event((event, c), tamper=tamper)
        return str(msg["ts"])

    def edit(self, user: Any, channel: Any, ts: str, text: str) -> None:
        u = self.workspace.user(_user_id(user))
        c = self.channel(channel)
        with self.workspace.lock:
            previous, msg = self.workspace.edit_message(c, ts, u, text=text, blocks=None)
            event = web_api.changed_event(self.workspace.ids.ts(), c, msg, previous)
        self._emit_event((event, c))

    def delete(self, user: Any, channel: Any, ts: str) -> None:
        u = self.workspace.user(_user_id(user))
        c = self.channel(channel)
        with self.workspace.lock:
            msg = self.workspace.delete_message(c, ts, u)
            event = web_api.deleted_event(self.workspace.ids.ts(), c, msg)
        self._emit_event((event, c))

    def join(self, user: Any, channel: Any, *, invited_by: Any = None) -> None:
        u = self.workspace.user(_user_id(user))
        c = self.channel(channel)
        inviter = _user_id(invited_by) if invited_by is not None else None
        if inviter is not None and inviter not in c.members:
            raise SlackError("not_in_channel")
        if c.is_private and inviter is None and u.id not in c.members:  # as Slack: private means by invitation
            raise SlackError("method_not_supported_for_channel_type")
        msg = self.workspace.join(c, u.id, inviter=inviter)
        if msg is not None:
            self._emit_event(({**msg, "channel": c.id, "event_ts": msg["ts"], "channel_type": c.channel_type}, c))

    def dm(self, user: Any) -> Channel:
        """A person's direct conversation with the bot (the app's Messages tab)."""
        return self.workspace.dm_channel(_user_id(user))

    def share_file(
        self,
        user: Any,
        channel: Any,
        filename: str,
        content: bytes | str,
        *,
        title: str | None = None,
        mimetype: str = "text/plain",
        filetype: str = "text",
        text: str = "",
    ) -> UploadedFile:
        """A person shares a file: a `message` with `files` (subtype file_share) and a `file_shared` event,
        each delivered if the app subscribed to it."""
        u = self.workspace.user(_user_id(user))
        c = self.channel(channel)
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        with self.workspace.lock:
            f, msg = self.workspace.share_file(
                c, u, filename=filename, content=data, title=title, mimetype=mimetype, filetype=filetype, text=text
            )
            msg["files"] = [web_api.file_object(self, f)]
            event = {
                **json.loads(json.dumps(msg)),
                "channel": c.id,
                "event_ts": msg["ts"],
                "channel_type": c.channel_type,
            }
        self._emit_event((event, c))
        self._emit_event(
            (
                {
                    "type": "file_shared",
                    "channel_id": c.id,
                    "file_id": f.id,
                    "user_id": u.id,
                    "file": {"id": f.id},
                    "event_ts": msg["ts"],
                },
                c,
            )
        )
        return f

    def react(self, user: Any, channel: Any, ts: str, name: str, *, added: bool = True) -> Delivery | None:
        """A person adds (or removes) a reaction: `reaction_added` / `reaction_removed`, shaped as Slack's."""
        u = self.workspace.user(_user_id(user))
        c = self.channel(channel)
        with self.workspace.lock:
            if u.id not in c.members:
                raise SlackError("not_in_channel")
            msg = self.workspace.react(c, ts, u, name.strip(":"), added=added)
            event = {
                "type": "reaction_added" if added else "reaction_removed",
                "user": u.id,
                "reaction": name.strip(":"),
                "item_user": msg.get("user"),
                "item": {"type": "message", "channel": c.id, "ts": ts},
                "event_ts": self.workspace.ids.ts(),
            }
        return self._emit_event((event, c))

    def click(self, user: Any, channel: Any, message_ts: str, action_id: str, value: str | None = None) -> Delivery:
        """Press a button in a message (or an ephemeral message this person sees)."""
        u = self.workspace.user(_user_id(user))
        c = self.channel(channel)
        with self.workspace.lock:
            message, is_ephemeral = self._find_clickable(u, c, message_ts)
            block_id, element = _find_element(message.get("blocks") or [], action_id, value)
            token = self._new_response_url("action", u.id, c.id, origin=(is_ephemeral, message_ts))
            action: dict[str, Any] = {
                "action_id": action_id,
                "block_id": block_id,
                "type": element.get("type", "button"),
                "action_ts": self.workspace.ids.ts(),
            }
            if "text" in element:
                action["text"] = element["text"]
            if "value" in element:
                action["value"] = element["value"]
            if element.get("style"):
                action["style"] = element["style"]
            payload: dict[str, Any] = {
                "type": "block_actions",
                "user": {"id": u.id, "username": u.name, "name": u.name, "team_id": self.team_id},
                "api_app_id": self.workspace.app_id,
                "token": VERIFICATION_TOKEN,
                "container": {
                    "type": "message",
                    "message_ts": message_ts,
                    "channel_id": c.id,
                    "is_ephemeral": is_ephemeral,
                },
                "trigger_id": f"{int(time.time())}.{secrets.randbelow(10**9)}.{secrets.token_hex(8)}",
                "team": {"id": self.team_id, "domain": self.workspace.team_domain},
                "enterprise": None,
                "is_enterprise_install": False,
                "channel": {"id": c.id, "name": "directmessage" if c.is_im else c.name},
                "state": {"values": {}},
                "response_url": f"{self.base_url}response/{token}",
                "actions": [action],
            }
            if not is_ephemeral:
                payload["message"] = json.loads(json.dumps(message))
        return self._deliver(INTERACTIVE, payload, context={"user": u.id, "channel": c.id})

    def shortcut(self, user: Any, channel: Any, message_ts: str, callback_id: str) -> Delivery:
        """Run a message shortcut on a message."""
        u = self.workspace.user(_user_id(user))
        c = self.channel(channel)
        with self.workspace.lock:
            message = self.workspace.message(c, message_ts)
            token = self._new_response_url("action", u.id, c.id)
            payload = {
                "type": "message_action",
                "token": VERIFICATION_TOKEN,
                "action_ts": self.workspace.ids.ts(),
                "team": {"id": self.team_id, "domain": self.workspace.team_domain},
                "user": {"id": u.id, "username": u.name, "name": u.name, "team_id": self.team_id},
                "channel": {"id": c.id, "name": c.name},
                "is_enterprise_install": False,
                "enterprise": None,
                "callback_id": callback_id,
                "trigger_id": f"{int(time.time())}.{secrets.randbelow(10**9)}.{secrets.token_hex(8)}",
                "message_ts": message_ts,
                "message": json.loads(json.dumps(message)),
                "response_url": f"{self.base_url}response/{token}",
            }
        return self._deliver(INTERACTIVE, payload, context={"user": u.id, "channel": c.id})

    def _find_clickable(self, u: User, c: Channel, ts: str) -> tuple[dict[str, Any], bool]:
        for msg in c.messages:
            if msg["ts"] == ts:
                return msg, False
        for eph in self.workspace.ephemerals:
            if eph["ts"] == ts and eph["user"] == u.id and eph["channel"] == c.id:
                return eph, True
        raise SlackError("message_not_found")

    # -- HTTP-mode forgeries -------------------------------------------------------------------

    def send_raw(
        self, kind: str, payload: dict[str, Any], *, tamper: str | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int | None, str]:
        """POST one signed (or tampered) request to `request_url` without retries: (status, body)."""
        assert self.request_url, "send_raw needs request_url"
        d = Delivery(kind=kind, payload=payload)
        body, ctype = encode(d)
        h = self.http.headers(body, ctype, tamper)
        h.update(headers or {})

        async def go() -> tuple[int | None, str]:
            status, _, data, _ = await self.http.post(self.request_url or "", body, h, self.ack_timeout)
            return status, data.decode("utf-8", errors="replace")

        return self._run(go())

    def event_payload(self, event: dict[str, Any]) -> dict[str, Any]:
        """Wrap an event the way the Events API does (`event_callback`)."""
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": None,
            "api_app_id": self.workspace.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": self.workspace.ids.new("Ev"),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.workspace.bot.id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{secrets.token_hex(12)}",
        }

    # -- faults ------------------------------------------------------------------------------

    def drop_socket_connections(self, *, graceful: bool = False) -> int:
        """Cut the Socket Mode connections as a network failure would (the app must reconnect)."""
        return int(self._run(self.socket_mode.drop_connections(graceful=graceful)))

    def send_socket_disconnect(self, reason: str = "refresh_requested") -> None:
        self._run(self.socket_mode.send_disconnect(reason))

    # -- inspection ----------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[web_api.ApiCall]:
        with self._calls_lock:
            return [c for c in self._calls if method is None or c.method == method]

    def throttled(self, method: str | None = None) -> list[web_api.ApiCall]:
        """The calls Slack's rate tiers refused with 429 (injected faults not included)."""
        return [c for c in self.calls(method) if c.fault == "tier"]

    def max_in_flight(self, method: str) -> int:
        """The most calls of `method` the sandbox was answering at the same moment."""
        with self._calls_lock:
            return self._peak.get(method, 0)

    def _enter_call(self, method: str) -> None:
        with self._calls_lock:
            now = self._in_flight.get(method, 0) + 1
            self._in_flight[method] = now
            self._peak[method] = max(self._peak.get(method, 0), now)

    def _leave_call(self, method: str) -> None:
        with self._calls_lock:
            self._in_flight[method] -= 1

    def _record_call(self, call: web_api.ApiCall) -> None:
        with self._calls_lock:
            self._calls.append(call)

    def messages(
        self, channel: Any, *, threads: bool = True, subtypes: bool = True, by: Any = None
    ) -> list[dict[str, Any]]:
        """Messages in a channel, oldest first (a copy)."""
        c = self.channel(channel)
        author = _user_id(by) if by is not None else None
        with self.workspace.lock:
            out = []
            for m in c.messages:
                if not threads and m.get("thread_ts") not in (None, m["ts"]):
                    continue
                if not subtypes and m.get("subtype"):
                    continue
                if author and m.get("user") != author:
                    continue
                out.append(json.loads(json.dumps(m)))
            return out

    def bot_messages(self, channel: Any, *, threads: bool = True) -> list[dict[str, Any]]:
        return self.messages(channel, threads=threads, by=self.workspace.bot.id)

    def thread(self, channel: Any, ts: str) -> list[dict[str, Any]]:
        return [m for m in self.messages(channel) if m["ts"] == ts or m.get("thread_ts") == ts]

    def ephemerals(self, user: Any = None, channel: Any = None) -> list[dict[str, Any]]:
        uid = _user_id(user) if user is not None else None
        cid = self.channel(channel).id if channel is not None else None
        with self.workspace.lock:
            return [
                dict(e)
                for e in self.workspace.ephemerals
                if (uid is None or e["user"] == uid) and (cid is None or e["channel"] == cid)
            ]

    def files(self, *, user: Any = None, channel: Any = None, shared_by: Any = None) -> list[UploadedFile]:
        """Completed uploads by the bot shared to a channel, or to a person's DM with the bot; with
        `shared_by`, the files that person shared instead."""
        owner = _user_id(shared_by) if shared_by is not None else None
        with self.workspace.lock:
            targets: set[str] | None = None
            if user is not None:
                targets = {self.workspace.dm_channel(_user_id(user)).id}
            if channel is not None:
                targets = (targets or set()) | {self.channel(channel).id}
            return [
                f
                for f in self.workspace.files.values()
                if f.completed and (targets is None or targets & set(f.channels)) and f.user == owner
            ]

    def wait_until(
        self, predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.01, message: str = ""
    ) -> Any:
        """Poll until `predicate()` is truthy and return it; AssertionError after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {message or predicate}")
            time.sleep(interval)

    # -- delivery plumbing ---------------------------------------------------------------------

    def _deliver(
        self, kind: str, payload: dict[str, Any], *, tamper: str | None = None, context: dict[str, Any] | None = None
    ) -> Delivery:
        d = Delivery(kind=kind, payload=payload, tamper=tamper, context=context or {})
        self.deliveries.append(d)
        gateway = self.http if self.request_url else self.socket_mode
        self._spawn(gateway.deliver(d))
        return d

    def _emit_event(self, item: tuple[dict[str, Any], Channel], *, tamper: str | None = None) -> Delivery | None:
        """Deliver an event if the app subscribed to it and could see it (the bot is in the channel)."""
        event, channel = item
        if self.workspace.bot.id not in channel.members:
            return None
        if self.subscriptions is not None and subscription_of(event, channel) not in self.subscriptions:
            return None
        return self._deliver(EVENTS_API, self.event_payload(event), tamper=tamper)

    def redeliver(self, delivery: Delivery) -> Delivery:
        """Send an event again as Slack's retry would (same payload and event_id, retry_attempt > 0)."""
        d = Delivery(
            kind=delivery.kind,
            payload=delivery.payload,
            envelope_id=delivery.envelope_id,
            context=delivery.context,
            first_attempt=max(1, len(delivery.attempts)),
        )
        self.deliveries.append(d)
        gateway = self.http if self.request_url else self.socket_mode
        self._spawn(gateway.deliver(d))
        return d

    def events(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.kind == EVENTS_API]

    def _on_ack(self, d: Delivery) -> None:
        """A slash command's ack with content shows to its typist, like Slack does."""
        if d.kind != SLASH_COMMANDS or not isinstance(d.ack_payload, dict):
            return
        body = d.ack_payload
        if not (body.get("text") or body.get("blocks")):
            return
        ctx = d.context
        shown = self._show(body, ctx["user"], ctx["channel"], source="ack")
        hook = self._response_urls.get(ctx.get("hook", ""))
        if hook is not None and shown is not None and hook.last_ephemeral is None:
            hook.last_ephemeral = shown

    def _on_unacked(self, d: Delivery) -> None:
        if d.kind != SLASH_COMMANDS:
            return
        ctx = d.context
        code = "operation_timeout" if d.failure in ("timeout", "http_timeout") else "dispatch_failed"
        c = self.workspace.channels[ctx["channel"]]
        self.workspace.add_ephemeral(
            c,
            ctx["user"],
            text=f'{d.payload["command"]} failed with the error "{code}"',
            blocks=None,
            source="slack",
        )

    def _show(self, body: dict[str, Any], user: str, channel: str, *, source: str) -> str | None:
        """Show an answer to its person (ephemeral) or the channel; the ephemeral's ts if one."""
        c = self.workspace.channels[channel]
        blocks = body.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if body.get("response_type") == "in_channel":
            with self.workspace.lock:
                msg = self.workspace.new_message(c, self.workspace.bot, text=body.get("text"), blocks=blocks)
            self._emit_event(({**msg, "channel": c.id, "event_ts": msg["ts"], "channel_type": c.channel_type}, c))
            return None
        return str(self.workspace.add_ephemeral(c, user, text=body.get("text"), blocks=blocks, source=source)["ts"])

    def _new_response_url(self, source: str, user: str, channel: str, origin: tuple[bool, str] | None = None) -> str:
        token = secrets.token_urlsafe(12)
        self._response_urls[token] = _ResponseUrl(token, source, user, channel, origin)
        return token

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        hook = self._response_urls.get(request.match_info["token"])
        if hook is None:
            return web.Response(status=404, text="no_active_hooks")
        hook.uses += 1
        if hook.uses > 5:
            return web.Response(status=404, text="used_url")
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        if not isinstance(body, dict):
            return web.Response(status=400, text="invalid_payload")
        blocks = body.get("blocks")
        from .workspace import check_message_content

        if not body.get("delete_original"):
            try:
                check_message_content(body.get("text"), blocks)
            except SlackError as e:
                return web.Response(status=400, text=e.code)
        self.responses.append(ResponsePost(hook.token, hook.source, hook.user, hook.channel, body, time.monotonic()))
        with self.workspace.lock:
            if hook.origin and (body.get("replace_original") or body.get("delete_original")):
                self._apply_to_original(hook, body)
            elif hook.last_ephemeral and body.get("replace_original") and body.get("response_type") != "in_channel":
                self._apply_to_original(
                    _ResponseUrl(hook.token, hook.source, hook.user, hook.channel, (True, hook.last_ephemeral)), body
                )
            else:
                shown = self._show(body, hook.user, hook.channel, source="response_url")
                if shown is not None:
                    hook.last_ephemeral = shown
        return web.Response(text="ok")

    def _apply_to_original(self, hook: _ResponseUrl, body: dict[str, Any]) -> None:
        assert hook.origin is not None
        is_ephemeral, ts = hook.origin
        c = self.workspace.channels[hook.channel]
        if is_ephemeral:
            for e in list(self.workspace.ephemerals):
                if e["ts"] == ts and e["user"] == hook.user:
                    if body.get("delete_original"):
                        self.workspace.ephemerals.remove(e)
                    else:
                        e["text"], e["blocks"] = body.get("text") or "", body.get("blocks") or []
            return
        if body.get("delete_original"):
            msg = self.workspace.message(c, ts)
            c.messages.remove(msg)
            c.deleted.append(msg)
            self._emit_event((web_api.deleted_event(self.workspace.ids.ts(), c, msg), c))
        else:
            previous, msg = self.workspace.edit_message(
                c, ts, self.workspace.bot, text=body.get("text"), blocks=body.get("blocks")
            )
            self._emit_event((web_api.changed_event(self.workspace.ids.ts(), c, msg, previous), c))


def subscription_of(event: dict[str, Any], channel: Channel) -> str:
    """The Events API subscription that brings this event: message.channels / .groups / .im, or its type."""
    if event.get("type") == "message":
        return {"channel": "message.channels", "group": "message.groups", "im": "message.im"}[channel.channel_type]
    return str(event.get("type"))


def _user_id(ref: Any) -> str:
    if isinstance(ref, SimUser):
        return ref.id
    if isinstance(ref, User):
        return ref.id
    return str(ref)


def _message_text(body: dict[str, Any]) -> str:
    """The text a person would read: `text`, else the text of the blocks."""
    parts = [str(body.get("text") or "")]
    for block in body.get("blocks") or []:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(str(text.get("text", "")))
        elif isinstance(text, str):
            parts.append(text)
        for f in block.get("fields") or []:
            parts.append(str(f.get("text", "")))
        for el in block.get("elements") or []:
            if isinstance(el, dict) and isinstance(el.get("text"), str):
                parts.append(el["text"])
    return "\n".join(p for p in parts if p)


def _find_element(blocks: list[dict[str, Any]], action_id: str, value: str | None) -> tuple[str, dict[str, Any]]:
    for block in blocks:
        candidates = list(block.get("elements") or [])
        if block.get("accessory"):
            candidates.append(block["accessory"])
        for el in candidates:
            if not isinstance(el, dict) or el.get("action_id") != action_id:
                continue
            if value is not None and el.get("value") != value:
                continue
            return str(block.get("block_id") or _block_id(block)), el
    raise SlackError("action_not_found", detail=f"no element with action_id={action_id!r} value={value!r}")


def _block_id(block: dict[str, Any]) -> str:
    # Slack assigns a random block_id when the app gave none; make it stable per content.
    return f"b{abs(hash(json.dumps(block, sort_keys=True))) % 10**6:06d}"
