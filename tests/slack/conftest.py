"""Fixtures for the Slack tests: a sandbox per test, real slack-sdk clients and slack-bolt apps."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator

from bot.sandbox.slack import SlackSandbox

#: ../shared beside the checkout (fixtures, schema); absent on a newcomer's machine.
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
FIXTURES = SHARED / "fixtures" / "slack"


@pytest.fixture
def slack_fixtures() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"shared Slack fixtures not found at {FIXTURES}")
    return FIXTURES


@pytest.fixture
def sb() -> Iterator[SlackSandbox]:
    """A sandbox with short timeouts so redelivery tests take a fraction of a second."""
    with SlackSandbox(ack_timeout=0.5, connect_wait=5.0) as sandbox:
        yield sandbox


def make_client(sb: SlackSandbox, *, max_rate_limit_retries: int = 5) -> WebClient:
    fast = BackoffRetryIntervalCalculator(backoff_factor=0.01)
    return WebClient(
        token=sb.bot_token,
        base_url=sb.api_url,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2, interval_calculator=fast),
            RateLimitErrorRetryHandler(max_retry_count=max_rate_limit_retries),
            ServerErrorRetryHandler(max_retry_count=2, interval_calculator=fast),
        ],
    )


@pytest.fixture
def client(sb: SlackSandbox) -> WebClient:
    return make_client(sb)


@pytest.fixture
def socket_app(sb: SlackSandbox) -> Iterator[Callable[[App], SocketModeHandler]]:
    """Connect a bolt App to the sandbox over Socket Mode (builtin client); closed afterwards."""
    handlers: list[SocketModeHandler] = []

    def connect(app: App) -> SocketModeHandler:
        handler = SocketModeHandler(app, sb.app_token, ping_interval=0.2)
        handler.connect()
        sb.wait_until(lambda: sb.socket_mode.connections, timeout=5, message="socket mode connection")
        handlers.append(handler)
        return handler

    yield connect
    for handler in handlers:
        # Close from the server side first: the builtin client otherwise sits in a 3 s recv().
        handler.client.auto_reconnect_enabled = False
        handler.client.default_auto_reconnect_enabled = False
    if handlers:
        sb.drop_socket_connections(graceful=True)
    for handler in handlers:
        # close() joins worker threads that poll a queue once a second; let that finish off-test.
        threading.Thread(target=handler.close, daemon=True).start()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        logging.getLogger("tests.wsgi").debug(format, *args)


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@pytest.fixture
def http_app(sb: SlackSandbox) -> Iterator[Callable[[App], str]]:
    """Serve a bolt App over HTTP on 127.0.0.1:0 and point the sandbox's Request URL at it."""
    servers: list[WSGIServer] = []

    def serve(app: App) -> str:
        handler = SlackRequestHandler(app)
        server = make_server(
            "127.0.0.1", 0, handler, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
        )
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        url = f"http://127.0.0.1:{server.server_port}/slack/events"
        sb.request_url = url
        return url

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def new_app(sb: SlackSandbox) -> Callable[..., App]:
    """A bolt App wired to the sandbox: injected WebClient with retry handlers, its signing secret."""

    def make(**kwargs: object) -> App:
        return App(client=make_client(sb), signing_secret=sb.signing_secret, **kwargs)  # type: ignore[arg-type]

    return make
