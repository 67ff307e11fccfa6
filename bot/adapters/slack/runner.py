"""Wiring: settings -> WebClient -> port -> core -> bolt App -> Socket Mode or HTTP.

``breakout-bot run slack`` calls ``run_slack``; tests and the demo build a ``SlackBot`` with their
own client (pointed at the sandbox), HTTP port 0 and a short Socket Mode ping interval.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
from collections.abc import Callable
from typing import Any, Self

import waitress
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from waitress import wasyncore

from bot.config import Settings
from bot.services.app import BreakoutApp

from . import catch_up, errors, listeners
from .client import make_web_client
from .people import Directory, Roles
from .port import SlackPort
from .replay import use_replay_guard
from .services import SlackServices

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"


class HttpServer:
    """Slack's Request URL, served by waitress in this process (so tests and the demo can bind port 0).

    A burst (60 people answering at once) must not be refused or left waiting in the kernel: the
    listen backlog takes ``backlog`` connections, up to ``connection_limit`` are read at once, and
    ``threads`` run the app. The database pool is sized from the same setting (``BREAKOUT_HTTP_THREADS``).
    """

    def __init__(self, app: Any, *, host: str, port: int, threads: int, backlog: int) -> None:
        self._server: Any = waitress.create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            backlog=backlog,
            connection_limit=max(100, threads * 4),
            ident="breakout-bot",
            channel_timeout=60,
        )
        self.port: int = int(self._server.effective_port)
        self._thread = threading.Thread(target=self._server.run, name="slack-http", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Close the listening socket and open connections from inside waitress's loop, then its threads."""
        server = self._server
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        self._thread.join(timeout=5)
        if self._thread.is_alive():  # the loop did not answer: close from here
            wasyncore.close_all(server._map)
            self._thread.join(timeout=5)
        server.task_dispatcher.shutdown(timeout=5)


def refuse_unreadable_timestamps(handler: SlackRequestHandler) -> Callable[..., Any]:
    """The WSGI app, with requests whose X-Slack-Request-Timestamp is not a number refused as unsigned (401).

    slack-sdk's verifier does ``int(timestamp)`` and a ValueError there becomes HTTP 500; Slack
    always sends whole seconds, so anything else is not from Slack.
    """

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        if timestamp is not None and not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            start_response("401 Unauthorized", [("Content-Type", "application/json")])
            return [b'{"error": "invalid request"}']
        return handler(environ, start_response)

    return app


class SlackBot:
    """The bot on Slack: start() connects (Socket Mode) or listens (HTTP); stop() undoes it."""

    def __init__(
        self,
        settings: Settings,
        *,
        client: WebClient | None = None,
        mode: str | None = None,
        http_host: str = "0.0.0.0",
        http_port: int | None = None,
        ping_interval: float = 10.0,
        rng: random.Random | None = None,
        clock_name: str | None = None,
        now: Callable[..., Any] | None = None,
    ) -> None:
        self.settings = settings
        self.mode = mode or settings.resolved_slack_mode
        if self.mode == "socket" and not settings.slack_app_token:
            raise ValueError("Socket Mode needs SLACK_APP_TOKEN (xapp-...); or set SLACK_MODE=http.")
        if self.mode == "http" and not settings.slack_signing_secret:
            raise ValueError("HTTP mode needs SLACK_SIGNING_SECRET to check that requests come from Slack.")
        self.client = client or make_web_client(settings)
        self.directory = Directory(self.client)
        self.roles = Roles(
            self.client, self.directory, facilitators=settings.slack_facilitators, organisers=settings.slack_organisers
        )
        self.port = SlackPort(self.client, self.directory)
        extra: dict[str, Any] = {"now": now} if now is not None else {}
        self.core = BreakoutApp(settings, self.port, rng=rng, clock_name=clock_name, **extra)
        self.services = SlackServices(self.core, self.port, self.directory, self.roles)
        self.app = App(
            client=self.client,
            signing_secret=settings.slack_signing_secret or "",
            # Listeners finish before the ack: a quote is committed before Slack hears "got it".
            # Slow command work runs in lazy listeners after the ack.
            process_before_response=True,
            request_verification_enabled=self.mode == "http",
        )
        errors.register(self.app, self.services)  # the one error handler
        use_replay_guard(self.app, self.core.handled)  # a replayed command or click does nothing
        self.services.use_actor_middleware(self.app)  # who is asking, once per request
        listeners.register(self.app, self.services)
        self.http_host, self.http_port = http_host, http_port if http_port is not None else settings.slack_port
        self.ping_interval = ping_interval
        self._handler: SocketModeHandler | None = None
        self._server: HttpServer | None = None
        self._started = False

    @property
    def url(self) -> str | None:
        """The Request URL in HTTP mode (what Slack, or the sandbox, POSTs to)."""
        if self._server is None:
            return None
        host = "127.0.0.1" if self.http_host in ("0.0.0.0", "") else self.http_host
        return f"http://{host}:{self._server.port}{EVENTS_PATH}"

    def start(self) -> Self:
        self.core.start()
        self._started = True
        if self.mode == "socket":
            self._handler = SocketModeHandler(
                self.app, self.settings.slack_app_token, web_client=self.client, ping_interval=self.ping_interval
            )
            self.catch_up = catch_up.follow(self.services, self._handler.client)  # on every (re)connection
            self._handler.connect()
            log.info("connected to Slack over Socket Mode")
        else:
            self._server = HttpServer(
                refuse_unreadable_timestamps(SlackRequestHandler(self.app)),
                host=self.http_host,
                port=self.http_port,
                threads=self.settings.http_threads,
                backlog=self.settings.http_backlog,
            )
            self._server.start()
            self.catch_up = catch_up.follow(self.services)  # what was said while the server was down
            log.info("listening for Slack on %s", self.url)
        return self

    def stop(self, *, wait: bool = True) -> None:
        """Disconnect, stop the clock, close the database. ``wait=False`` skips joining idle threads."""
        if self._handler is not None:
            handler, self._handler = self._handler, None
            handler.client.auto_reconnect_enabled = False
            handler.client.default_auto_reconnect_enabled = False
            if wait:
                handler.close()
            else:
                threading.Thread(target=handler.close, daemon=True).start()
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.services.workers.shutdown(wait=True)
        if self._started:
            self.core.shutdown()
            self._started = False

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_slack(settings: Settings) -> int:
    """Run until SIGINT/SIGTERM."""
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        bot = SlackBot(settings)
    except ValueError as exc:
        print(f"Cannot start on Slack: {exc}")
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    bot.start()
    print(f"breakout-bot is running on Slack ({bot.mode} mode){' at ' + bot.url if bot.url else ''}. Ctrl-C stops it.")
    try:
        stop.wait()
    finally:
        bot.stop()
    return 0
