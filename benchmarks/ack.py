"""Ack latency in HTTP mode: the bot against a bare slack-bolt app on the same server, same signed load.

    .venv/bin/python benchmarks/ack.py [--requests 600] [--concurrency 1 50] [--runs 1]
        [--database URL] [--servers waitress wsgiref gunicorn] [--threads 16]

The load is what a big call sends: signed message events (replies in the group channels, 90%) and
signed ``/breakout status`` slash commands (10%), generated with the signing secret and POSTed by a
separate process (aiohttp, a new connection per request as Slack does) with 1 or 50 in flight. The
bot runs a real breakout (60 people in 12 groups) on the Slack sandbox; the bare app acks commands and
ignores events. Prints p50/p99 ack latency, acks over 3 s, failures and throughput, and the bot's
ratio to bare Bolt. SQLite always; PostgreSQL too when ``--database`` or BREAKOUT_TEST_DATABASE_URL is
given (in a scratch schema, dropped afterwards). Asserts nothing: speed is measured here, not in tests.

Servers: ``waitress`` is what ``breakout-bot run slack`` uses; ``wsgiref`` is the threaded wsgiref
server with its listen backlog of 5 that HTTP mode used before; ``gunicorn`` (gthread, one worker)
runs in its own process, so only the bare app is measured on it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import multiprocessing
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PEOPLE, GROUP_SIZE, COMMAND_SHARE, SLOW = 60, 5, 0.1, 3.0


# -- the load: a separate process, so the server's threads do not share a GIL with the client ----------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()


def _load(url: str, secret: str, requests: list[tuple[bytes, str]], in_flight: int, conn: Any) -> None:
    """POST every request, ``in_flight`` at a time; send back [(seconds, status)] and the wall time."""
    import aiohttp

    async def run() -> tuple[list[tuple[float, int | None]], float]:
        gate = asyncio.Semaphore(in_flight)
        connector = aiohttp.TCPConnector(limit=0, force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one(body: bytes, content_type: str) -> tuple[float, int | None]:
                async with gate:
                    timestamp = str(int(time.time()))
                    headers = {
                        "Content-Type": content_type,
                        "X-Slack-Request-Timestamp": timestamp,
                        "X-Slack-Signature": sign(secret, timestamp, body),
                    }
                    t0 = time.perf_counter()
                    try:
                        async with session.post(
                            url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=30)
                        ) as resp:
                            await resp.read()
                            status: int | None = resp.status
                    except (aiohttp.ClientError, TimeoutError):
                        status = None
                    return time.perf_counter() - t0, status

            t0 = time.perf_counter()
            results = await asyncio.gather(*(one(b, c) for b, c in requests))
            return list(results), time.perf_counter() - t0

    conn.send(asyncio.run(run()))
    conn.close()


@dataclass
class Figures:
    p50: float
    p99: float
    slow: int
    failed: int
    throughput: float
    n: int
    by_kind: str = ""  # p50/p99 of replies and of commands apart

    def line(self) -> str:
        return (
            f"p50 {self.p50 * 1000:7.2f} ms  p99 {self.p99 * 1000:8.2f} ms  over 3 s {self.slow:4d}  "
            f"failed {self.failed:3d}  {self.throughput:7.0f} req/s  (n={self.n}; {self.by_kind})"
        )


def _p50_p99(times: list[float]) -> str:
    if not times:
        return "-"
    times = sorted(times)
    return f"{statistics.median(times) * 1000:.1f}/{times[min(len(times) - 1, int(len(times) * 0.99))] * 1000:.1f} ms"


def drive(url: str, secret: str, requests: list[tuple[bytes, str]], in_flight: int) -> Figures:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_load, args=(url, secret, requests, in_flight, child))
    process.start()
    results, wall = parent.recv()
    process.join()
    times = sorted(t for t, _ in results)
    replies = [t for (t, _), (_, kind) in zip(results, requests, strict=True) if kind == "application/json"]
    commands = [t for (t, _), (_, kind) in zip(results, requests, strict=True) if kind != "application/json"]
    return Figures(
        by_kind=f"replies {_p50_p99(replies)}, commands {_p50_p99(commands)}",
        p50=statistics.median(times),
        p99=times[min(len(times) - 1, int(len(times) * 0.99))],
        slow=sum(1 for t in times if t > SLOW),
        failed=sum(1 for _, s in results if s != 200),
        throughput=len(results) / wall,
        n=len(results),
    )


# -- the workspace and the signed requests ---------------------------------------------------------


def form(payload: dict[str, Any]) -> tuple[bytes, str]:
    return urlencode(payload).encode(), "application/x-www-form-urlencoded"


def event(payload: dict[str, Any]) -> tuple[bytes, str]:
    return json.dumps(payload).encode(), "application/json"


class Workspace:
    """The sandbox workspace of a big call, and signed requests made from its people and channels."""

    def __init__(self) -> None:
        from bot.sandbox.slack import SlackSandbox

        self.sb = SlackSandbox(ack_timeout=10.0).start()
        self.fiona = self.sb.add_user("Fiona Mensah", display_name="Fiona", is_admin=True)
        self.people = [self.sb.add_user(f"Person{i} Guest{i}", display_name=f"Person{i}") for i in range(PEOPLE)]
        self.home = self.sb.add_channel("community-call", [self.fiona, *self.people])
        self.rng = random.Random(7)
        self.groups: list[tuple[Any, list[Any]]] = []
        self.replies = 0  # message events made so far (each should become one quote)

    def find_groups(self) -> None:
        channels = [c for c in self.sb.workspace.channels.values() if c.name.startswith("breakout-")]
        by_id = {p.id: p for p in self.people}
        self.groups = [(c, [by_id[m] for m in c.members if m in by_id]) for c in channels]

    def reply(self, i: int) -> tuple[bytes, str]:
        self.replies += 1
        channel, members = self.rng.choice(self.groups) if self.groups else (self.home, self.people)
        author = self.rng.choice(members)
        msg = self.sb.workspace.new_message(
            channel,
            author.user,
            text=f"Reply {i}: what helped was talking to <@{self.rng.choice(members).id}> after class",
            blocks=None,
            client_msg_id=str(uuid.uuid4()),
        )
        body = {**msg, "channel": channel.id, "event_ts": msg["ts"], "channel_type": channel.channel_type}
        return event(self.sb.event_payload(body))

    def command(self, text: str) -> tuple[bytes, str]:
        token = self.sb._new_response_url("command", self.fiona.id, self.home.id)
        return form(
            {
                "token": "sandbox-verification-token",
                "team_id": self.sb.team_id,
                "team_domain": self.sb.workspace.team_domain,
                "channel_id": self.home.id,
                "channel_name": self.home.name,
                "user_id": self.fiona.id,
                "user_name": self.fiona.user.name,
                "command": "/breakout",
                "text": text,
                "api_app_id": self.sb.workspace.app_id,
                "is_enterprise_install": "false",
                "response_url": f"{self.sb.base_url}response/{token}",
                "trigger_id": f"{int(time.time())}.{self.rng.randrange(10**9)}.{uuid.uuid4().hex[:16]}",
            }
        )

    def load(self, n: int) -> list[tuple[bytes, str]]:
        return [self.command("status") if self.rng.random() < COMMAND_SHARE else self.reply(i) for i in range(n)]


# -- the servers -----------------------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # request_queue_size stays 5: the listen backlog HTTP mode had before


@contextlib.contextmanager
def serve(server: str, wsgi: Any, threads: int) -> Iterator[str]:
    """Serve a WSGI app in this process; yields its Request URL."""
    if server == "waitress":
        from bot.adapters.slack.runner import HttpServer

        http = HttpServer(wsgi, host="127.0.0.1", port=0, threads=threads, backlog=1024)
        http.start()
        try:
            yield f"http://127.0.0.1:{http.port}/slack/events"
        finally:
            http.stop()
    elif server == "wsgiref":
        ref = make_server("127.0.0.1", 0, wsgi, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
        threading.Thread(target=ref.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{ref.server_port}/slack/events"
        finally:
            ref.shutdown()
            ref.server_close()
    else:
        raise ValueError(server)


def bare_app(secret: str, api_url: str, token: str) -> Any:
    """A bare slack-bolt app: acks /breakout, ignores messages (process_before_response, as the bot)."""
    from slack_bolt import Ack, App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    app = App(client=WebClient(token=token, base_url=api_url), signing_secret=secret, process_before_response=True)

    @app.command("/breakout")
    def breakout(ack: Ack) -> None:
        ack()

    @app.event("message")
    def message() -> None:
        pass

    return SlackRequestHandler(app)


def gunicorn_wsgi() -> Any:
    """For ``gunicorn 'ack:gunicorn_wsgi()'``: the bare app, its secret and sandbox from the environment."""
    return bare_app(os.environ["ACK_SECRET"], os.environ["ACK_API_URL"], os.environ["ACK_TOKEN"])


@contextlib.contextmanager
def serve_gunicorn(ws: Workspace, threads: int) -> Iterator[str]:
    exe = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which("gunicorn")
    if exe is None:
        raise RuntimeError("gunicorn is not installed: pip install gunicorn")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "ACK_SECRET": ws.sb.signing_secret,
        "ACK_API_URL": ws.sb.api_url,
        "ACK_TOKEN": ws.sb.bot_token,
        "PYTHONPATH": f"{REPO}:{REPO / 'benchmarks'}",
    }
    cmd = [exe, "-k", "gthread", "-w", "1", "--threads", str(threads), "--backlog", "1024"]
    cmd += ["-b", f"127.0.0.1:{port}", "--log-level", "warning", "ack:gunicorn_wsgi()"]
    process = subprocess.Popen(cmd, env=env, cwd=REPO / "benchmarks")
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/slack/events"
    finally:
        process.terminate()
        process.wait(10)


# -- the bot ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def database(url: str | None) -> Iterator[str]:
    """SQLite in a temporary folder, or a scratch schema on the PostgreSQL database given."""
    if url is None:
        tmp = Path(tempfile.mkdtemp())
        try:
            yield f"sqlite:///{tmp / 'ack.db'}"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    import sqlalchemy as sa

    schema = f"ack_{uuid.uuid4().hex[:8]}"
    scratch = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with scratch.connect() as c:
        c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"
    finally:
        with scratch.connect() as c:
            c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        scratch.dispose()


@contextlib.contextmanager
def running_bot(ws: Workspace, url: str, threads: int) -> Iterator[Any]:
    """The real bot in HTTP mode on the sandbox, with a breakout of 60 people in 12 groups running."""
    from bot.adapters.slack.client import make_web_client
    from bot.adapters.slack.runner import SlackBot
    from bot.config import Settings

    settings = Settings.from_mapping(
        {
            "DATABASE_URL": url,
            "BREAKOUT_PROMPTS_DIR": str(REPO / "prompts"),
            "SLACK_BOT_TOKEN": ws.sb.bot_token,
            "SLACK_SIGNING_SECRET": ws.sb.signing_secret,
            "SLACK_API_URL": ws.sb.api_url,
            "SLACK_MODE": "http",
            "BREAKOUT_HTTP_THREADS": str(threads),
            "LOG_LEVEL": "WARNING",
        }
    )
    bot = SlackBot(
        settings,
        client=make_web_client(settings, backoff_factor=0.01),
        http_host="127.0.0.1",
        http_port=0,
        rng=random.Random(4),
        clock_name=f"ack-{uuid.uuid4().hex[:6]}",
    )
    bot.start()
    try:
        ws.sb.request_url = bot.url
        result = ws.fiona.run_command(ws.home, "/breakout", f"start kindness-in-education size={GROUP_SIZE}")
        ws.sb.wait_until(lambda: len(ws.sb.calls("chat.postMessage")) > 0 and _groups_ready(ws), timeout=120)
        assert result.acked, "the start was not acknowledged"
        ws.find_groups()
        yield bot
    finally:
        bot.stop(wait=False)


def _groups_ready(ws: Workspace) -> bool:
    channels = [c for c in ws.sb.workspace.channels.values() if c.name.startswith("breakout-")]
    return len(channels) >= PEOPLE // GROUP_SIZE and all(
        any("Question 1" in json.dumps(m.get("blocks", "")) for m in c.messages) for c in channels
    )


def quotes_stored(bot: Any) -> int:
    from sqlalchemy import func, select

    from bot.store.models import Quote

    with bot.core.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(Quote)) or 0)


# -- the run ---------------------------------------------------------------------------------------


def median_figures(runs: list[Figures]) -> Figures:
    runs = sorted(runs, key=lambda f: f.p99)
    return runs[len(runs) // 2]


def measure(name: str, url: str, ws: Workspace, n: int, in_flight: int, runs: int) -> Figures:
    drive(url, ws.sb.signing_secret, ws.load(30), min(in_flight, 10))  # warm caches and connections
    figures = median_figures([drive(url, ws.sb.signing_secret, ws.load(n), in_flight) for _ in range(runs)])
    print(f"  {name:22s} {in_flight:2d} in flight: {figures.line()}", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=600, help="requests per measurement")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 50])
    parser.add_argument("--runs", type=int, default=1, help="runs per measurement; the median (by p99) is shown")
    parser.add_argument("--database", default=os.environ.get("BREAKOUT_TEST_DATABASE_URL"))
    parser.add_argument("--servers", nargs="+", default=["waitress"], choices=["waitress", "wsgiref", "gunicorn"])
    parser.add_argument("--threads", type=int, default=16, help="server threads (BREAKOUT_HTTP_THREADS)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth" is the point here

    print(
        f"ack benchmark: {args.requests} signed requests per run ({COMMAND_SHARE:.0%} /breakout status, "
        f"the rest replies), {args.threads} server threads, cores: {os.cpu_count()}"
    )
    ws = Workspace()
    try:
        bare: dict[tuple[str, int], Figures] = {}
        print("bare slack-bolt:")
        for server in args.servers:
            for c in args.concurrency:
                if server == "gunicorn":
                    with serve_gunicorn(ws, args.threads) as url:
                        bare[server, c] = measure(f"bare on {server}", url, ws, args.requests, c, args.runs)
                else:
                    wsgi = bare_app(ws.sb.signing_secret, ws.sb.api_url, ws.sb.bot_token)
                    with serve(server, wsgi, args.threads) as url:
                        bare[server, c] = measure(f"bare on {server}", url, ws, args.requests, c, args.runs)
        for db_url in [None] + ([args.database] if args.database else []):
            label = "PostgreSQL" if db_url else "SQLite"
            print(f"the bot on {label}:")
            with database(db_url) as url, running_bot(ws, url, args.threads) as bot:
                before, sent = quotes_stored(bot), ws.replies
                for server in [s for s in args.servers if s != "gunicorn"]:
                    for c in args.concurrency:
                        if server == "waitress":
                            figures = measure(f"bot on {server}", bot.url, ws, args.requests, c, args.runs)
                        else:
                            from slack_bolt.adapter.wsgi import SlackRequestHandler

                            with serve(server, SlackRequestHandler(bot.app), args.threads) as url:
                                figures = measure(f"bot on {server}", url, ws, args.requests, c, args.runs)
                        base = bare.get((server, c)) or bare.get(("waitress", c))
                        if base:
                            print(
                                f"  {'':22s} ratio to bare: p50 x{figures.p50 / base.p50:.1f}, "
                                f"throughput x{figures.throughput / base.throughput:.2f}"
                            )
                time.sleep(1.0)
                print(f"  quotes stored: {quotes_stored(bot) - before} of {ws.replies - sent} replies sent")
    finally:
        ws.sb.stop()


if __name__ == "__main__":
    main()
