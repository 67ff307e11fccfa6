"""Fixtures for the Slack tests: a sandbox per test, real slack-sdk clients and slack-bolt apps."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import yaml
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import (
    BackoffRetryIntervalCalculator,
)

from bot.sandbox.slack import SlackSandbox

#: ../shared beside the checkout (fixtures, schema); absent on a newcomer's machine.
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
FIXTURES = SHARED / "fixtures" / "slack"


@pytest.fixture
def slack_fixtures() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"shared Slack fixtures not found at {FIXTURES}")
    return FIXTURES


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slack_time_scale(scale): run the test's sandbox Slack clock (and its rate tiers) faster"
    )


@pytest.fixture
def sb(request: pytest.FixtureRequest) -> Iterator[SlackSandbox]:
    """A sandbox with short timeouts so redelivery tests take a fraction of a second.

    Slack's rate tiers are on, at Slack's own speed unless the test is marked `slack_time_scale(s)`.
    """
    marker = request.node.get_closest_marker("slack_time_scale")
    time_scale = float(marker.args[0]) if marker else 1.0
    with SlackSandbox(ack_timeout=0.5, connect_wait=5.0, time_scale=time_scale) as sandbox:
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
    def log_message(self, format: str, *args: object) -> None:
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


# -- end-to-end: the real bot (bot.adapters.slack) on the sandbox -------------------------------

REPO = Path(__file__).resolve().parents[2]
PROMPTS = REPO / "prompts"
NAMES = ["Matthew Okafor", "Felize Marquez", "Saskia Lindqvist", "Paul Brennan", "Bob Kettering", "Dana Goldberg",
         "Devi Gupta", "Priya Hallam", "Sam Ortiz", "Tanya Boateng", "Lena Novak", "Kofi Asante"]


def name_of(i: int) -> str:
    """The i-th participant's name: the twelve above, then made-up ones for big calls."""
    return NAMES[i] if i < len(NAMES) else f"Person{i} Guest{i}"


class SlackCall:
    """One community call in a sandbox workspace, run by the real bot: reads like a transcript."""

    def __init__(self, sb: SlackSandbox, tmp_path: Path, *, mode: str = "socket", time_scale: float = 1.0,
                 people: int = 9, extra: dict[str, str] | None = None) -> None:
        self.sb, self.mode = sb, mode
        # The workspace sends the bot exactly the events its manifest subscribes to.
        manifest = yaml.safe_load((REPO / "deploy" / "slack-manifest.yaml").read_text(encoding="utf-8"))
        sb.subscriptions = set(manifest["settings"]["event_subscriptions"]["bot_events"])
        self.fiona = sb.add_user("Fiona Mensah", display_name="Fiona", is_admin=True)
        self.olu = sb.add_user("Olu Adeyemi", display_name="Olu")
        self.people = [sb.add_user(name_of(i), display_name=name_of(i).split()[0]) for i in range(people)]
        sb.add_usergroup("organisers", [self.olu])
        self.home = sb.add_channel("community-call", [self.fiona, self.olu, *self.people])
        from bot.config import Settings

        self.settings = Settings.from_mapping({
            "DATABASE_URL": f"sqlite:///{tmp_path / 'slack.db'}",
            "BREAKOUT_PROMPTS_DIR": str(PROMPTS),
            "BREAKOUT_TIME_SCALE": str(time_scale),
            "SLACK_BOT_TOKEN": sb.bot_token,
            "SLACK_APP_TOKEN": sb.app_token,
            "SLACK_SIGNING_SECRET": sb.signing_secret,
            "SLACK_API_URL": sb.api_url,
            "SLACK_MODE": mode,
            "SLACK_ORGANISERS": "@organisers",
            **(extra or {}),
        })
        self.clock_name = f"slack-test-{tmp_path.name}"
        self.bot = None
        self.start_bot()

    def start_bot(self):
        import random

        from bot.adapters.slack.client import RetryAfterHandler, make_web_client
        from bot.adapters.slack.runner import SlackBot

        client = make_web_client(self.settings, backoff_factor=0.01)
        for handler in client.retry_handlers:
            if isinstance(handler, RetryAfterHandler):
                handler.sleep = self.sb.sleep  # Retry-After is in Slack seconds; the sandbox's run faster
        self.bot = SlackBot(self.settings, client=client, http_host="127.0.0.1", http_port=0, ping_interval=0.2,
                            rng=random.Random(4), clock_name=self.clock_name)
        connections = self.sb.socket_mode.connection_count
        self.bot.start()
        if self.mode == "http":
            self.sb.request_url = self.bot.url
        else:
            self.sb.wait_until(lambda: self.sb.socket_mode.connection_count > connections and self.sb.socket_mode.connections,
                               timeout=5, message="the bot's Socket Mode connection")
        return self.bot

    def stop_bot(self) -> None:
        if self.bot is None:
            return
        if self.mode == "socket" and self.bot._handler is not None:
            self.bot._handler.client.auto_reconnect_enabled = False
            self.bot._handler.client.default_auto_reconnect_enabled = False
            self.sb.drop_socket_connections(graceful=True)
        self.bot.stop(wait=False)
        self.bot = None

    # -- transcript helpers ------------------------------------------------------------------

    def group_channels(self) -> list:
        return sorted((c for c in self.sb.workspace.channels.values() if c.name.startswith("breakout-")),
                      key=lambda c: c.name)

    def channel_of(self, user) -> object:
        return next(c for c in self.group_channels() if user.id in c.members)

    def posts(self, channel, *, header: str | None = None) -> list[dict]:
        out = []
        for m in self.sb.bot_messages(channel):
            head = next((b["text"]["text"] for b in m.get("blocks", []) if b["type"] == "header"), None)
            if header is None or (head or "").startswith(header):
                out.append(m)
        return out

    def question_ts(self, channel, number: int) -> str:
        (post,) = self.posts(channel, header=f"Question {number} of")
        return str(post["ts"])

    def breakout(self, text: str, user=None, channel=None):
        """Type /breakout TEXT and wait for the final answer; returns what the typist read last."""
        user = user or self.fiona
        result = user.run_command(channel or self.home, "/breakout", text)
        assert result.acked, result
        return result

    INTERIM = ("Starting ", "Setting up the breakout", "Putting the summary together")

    def answer(self, result, timeout: float = 10.0) -> str:
        """The typist's final private answer to a command (its ack note and progress replaced)."""
        hook = self.sb._response_urls[result.token]

        def final() -> str | None:
            eph = next((e for e in self.sb.workspace.ephemerals if e["ts"] == hook.last_ephemeral), None)
            if eph is None or not result.responses or eph["text"].startswith(self.INTERIM):
                return None
            return str(eph["text"])

        return str(self.sb.wait_until(final, timeout=timeout, message="the command's answer"))

    def close(self) -> None:
        self.stop_bot()


@pytest.fixture
def call_factory(sb: SlackSandbox, tmp_path: Path):
    calls: list[SlackCall] = []

    def make(**kwargs: object) -> SlackCall:
        call = SlackCall(sb, tmp_path, **kwargs)  # type: ignore[arg-type]
        calls.append(call)
        return call

    yield make
    for call in calls:
        call.close()
