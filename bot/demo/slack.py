"""The demo on the Slack sandbox: the real bot (slack-bolt) over real sockets, simulated people.

The same story as every platform's demo (``bot.demo.script``): Fiona (a workspace admin, so a
facilitator) types ``/breakout start`` in the call's channel, people choose how to be named with the
buttons, talk in their group channels (some in the question's thread), one edits and one deletes a
reply, the clock runs the questions, and Olu (in the ``@organisers`` user group) pulls ``/summary``.
What is printed at the end is the Markdown file the bot uploaded to Olu.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bot.adapters.slack.client import make_web_client
from bot.adapters.slack.runner import SlackBot
from bot.config import Settings
from bot.demo import script
from bot.sandbox.slack import SimUser, SlackSandbox


def run_slack_demo(settings: Settings, *, out: Path, mode: str = "socket", echo: Callable[[str], None] = print) -> str:
    with SlackSandbox() as sb:
        return _session(sb, settings, out, mode, echo)


def _latest_text(sb: SlackSandbox, user: SimUser, since: int) -> str | None:
    seen = sb.ephemerals(user)[since:]
    return seen[-1]["text"] if seen else None


def _answer(sb: SlackSandbox, result: Any, *, timeout: float = 60) -> str:
    """The final private answer to a command (the progress notes replaced)."""

    def final() -> str | None:
        if not result.responses:
            return None
        text = result.responses[-1].text
        return None if text.startswith("Setting up the breakout") else text

    return str(sb.wait_until(final, timeout=timeout, message="the bot's answer"))


def _session(sb: SlackSandbox, settings: Settings, out: Path, mode: str, echo: Callable[[str], None]) -> str:
    fiona = sb.add_user(script.FACILITATOR[0], display_name=script.FACILITATOR[1], is_admin=True)
    olu = sb.add_user(script.ORGANISER[0], display_name=script.ORGANISER[1])
    people = {v.full_name: sb.add_user(v.full_name, display_name=v.display_name) for v in script.VOICES}
    sb.add_usergroup("organisers", [olu])
    home = sb.add_channel("community-call", [fiona, olu, *people.values()])
    echo(
        f"Slack sandbox at {sb.base_url}: #{home.name} with {len(people)} people, {script.FACILITATOR[0]} "
        f"(workspace admin) and {script.ORGANISER[0]} (@organisers). Bot in {mode} mode."
    )

    settings = settings.replace(
        slack_bot_token=sb.bot_token,
        slack_app_token=sb.app_token if mode == "socket" else None,
        slack_signing_secret=sb.signing_secret,
        slack_api_url=sb.api_url,
        slack_mode=mode,
        slack_organisers=("@organisers",),
    )
    bot = SlackBot(
        settings,
        client=make_web_client(settings, backoff_factor=0.05),
        http_host="127.0.0.1",
        http_port=0,
        ping_interval=0.5,
        clock_name=f"demo-slack-{time.time()}",
    )
    bot.start()
    if mode == "http":
        sb.request_url = bot.url
    else:
        sb.wait_until(lambda: sb.socket_mode.connections, timeout=10, message="the bot's Socket Mode connection")
    try:

        def say(text: str) -> str:
            return re.sub(r"<@\{([^}]+)\}>", lambda m: f"<@{people[m.group(1)].id}>", text)

        command = f"start {script.PLAN} groups={script.GROUPS}"
        echo(f"$ /breakout {command}   (typed by {script.FACILITATOR[0]} in #{home.name})")
        echo(f"  (only Fiona sees) {_answer(sb, fiona.run_command(home, '/breakout', command))}")
        groups = sorted(
            (c for c in sb.workspace.channels.values() if c.name.startswith("breakout-")), key=lambda c: c.name
        )
        channel_of = {p.id: next(g for g in groups if p.id in g.members) for p in people.values()}

        def question_ts(channel: Any, number: int) -> str | None:
            for m in sb.bot_messages(channel):
                if any(
                    b.get("type") == "header" and b["text"]["text"].startswith(f"Question {number} of")
                    for b in m.get("blocks", [])
                ):
                    return str(m["ts"])
            return None

        for voice in script.VOICES:
            if voice.level is None:
                continue
            person = people[voice.full_name]
            channel = channel_of[person.id]
            welcome = sb.bot_messages(channel)[0]
            before = len(sb.ephemerals(person))
            person.click(channel, welcome["ts"], f"consent_{voice.level.value}").wait(10)
            answer = sb.wait_until(partial(_latest_text, sb, person, before), timeout=30, message="a consent answer")
            echo(f"  {voice.display_name} pressed a button: {answer.split('.')[1].strip()}.")

        sent: dict[tuple[str, int], str] = {}
        for question in (0, 1):
            if question == 1:
                sb.wait_until(lambda: all(question_ts(g, 2) for g in groups), timeout=120, message="question 2")
                echo("  (the clock posts question 2 in every group)")
            for n, voice in enumerate(script.VOICES):
                if not voice.replies[question]:
                    continue
                person = people[voice.full_name]
                channel = channel_of[person.id]
                text = say(voice.replies[question])
                in_thread = n % 3 == 0
                ts = person.post(channel, text, thread_ts=question_ts(channel, question + 1) if in_thread else None)
                where = " (in the question's thread)" if in_thread else ""
                echo(f"[#{channel.name}] {voice.display_name}{where}: {text}")
                sent[(voice.full_name, question)] = ts
            if question == 0:
                name, q, text = script.EDIT
                person = people[name]
                person.edit(channel_of[person.id], sent[(name, q)], text)
                echo(f"  ({person.user.display_name} edited their reply)")
        name, q = script.DELETE
        person = people[name]
        person.delete(channel_of[person.id], sent[(name, q)])
        echo(f"  ({person.user.display_name} deleted a reply)")
        sb.wait_until(
            lambda: all(sb.bot_messages(g)[-1]["text"].startswith("Time is up") for g in groups),
            timeout=120,
            message="the breakout to end",
        )
        sb.wait_until(lambda: all(d.done.is_set() for d in sb.events()), timeout=30, message="every event handled")
        echo("  (time is up: the bot closes every group)")

        echo(f"$ /summary   (typed by {script.ORGANISER[0]})")
        pulled = olu.run_command(home, "/summary", "")
        sb.wait_until(lambda: olu.files(), timeout=60, message="the summary file")
        note = _answer(sb, pulled)
        echo(f"  (only Olu sees the summary as {len(pulled.responses) - 1} message(s), and) {note}")
        (summary_file,) = olu.files()
        out.write_text(summary_file.text, encoding="utf-8")
        return summary_file.text
    finally:
        if bot._handler is not None:
            bot._handler.client.auto_reconnect_enabled = False
            bot._handler.client.default_auto_reconnect_enabled = False
            sb.drop_socket_connections(graceful=True)
        bot.stop(wait=False)
