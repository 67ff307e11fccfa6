"""Socket Mode: a real slack_bolt App with the builtin SocketModeClient, against the sandbox."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.sandbox.slack import SlackSandbox
from bot.sandbox.slack.socket_mode import MAX_CONNECTIONS


def test_command_ack_payload_and_response_url(sb: SlackSandbox, new_app, socket_app) -> None:
    ada = sb.add_user("Ada Lovelace")
    channel = sb.add_channel("general", [ada])
    app: App = new_app()
    seen: list[dict] = []

    @app.command("/breakout")
    def breakout(ack, command, respond) -> None:
        seen.append(command)
        ack(f"Starting *{command['text']}*…")
        respond(text="channels 3/3", response_type="ephemeral")

    socket_app(app)
    assert sb.socket_mode.connection_count == 1

    result = ada.run_command(channel, "/breakout", "start kindness groups=3")
    assert result.acked and result.ack == {"text": "Starting *start kindness groups=3*…"}
    (posted,) = result.wait_for_responses(1)
    assert posted.text == "channels 3/3" and posted.response_type == "ephemeral"
    # The ack and the response_url post race (as in Slack); the person sees both.
    assert sorted(e["text"] for e in ada.ephemerals()) == ["Starting *start kindness groups=3*…", "channels 3/3"]
    assert seen[0]["user_id"] == ada.id and seen[0]["channel_id"] == channel.id
    assert seen[0]["response_url"].startswith(sb.base_url)
    # The envelope the app saw had Slack's shape and asked for a response payload.
    ack_frame = next(f for f in sb.socket_mode.received if f.get("envelope_id") == result.delivery.envelope_id)
    assert ack_frame["payload"] == {"text": "Starting *start kindness groups=3*…"}


def test_message_events_and_own_messages_ignored(sb: SlackSandbox, new_app, socket_app) -> None:
    ada = sb.add_user("Ada Lovelace")
    channel = sb.add_channel("breakout-kindness-1", [ada])
    app: App = new_app()
    events: list[dict] = []

    @app.event("message")
    def on_message(event, say) -> None:
        events.append(event)
        if event.get("text") == "hello bot" and not event.get("subtype"):
            say(text="hello human", thread_ts=event["ts"])

    socket_app(app)
    ts = ada.post(channel, "hello bot")
    sb.wait_until(lambda: len(sb.bot_messages(channel)) == 1, message="the bot's reply")
    reply_ts = ada.reply(channel, ts, "in the thread")
    ada.edit(channel, ts, "hello bot (edited)")
    ada.delete(channel, reply_ts)
    sb.wait_until(lambda: len(events) >= 4, message="four events")
    sb.wait_until(lambda: all(d.done.is_set() for d in sb.events()), message="all events acked")

    # The app handles envelopes in parallel threads, so arrival order at the listener may vary.
    kinds = sorted((e.get("subtype") or "", e.get("text") or e.get("message", {}).get("text") or "") for e in events)
    assert kinds == [
        ("", "hello bot"),
        ("", "in the thread"),
        ("message_changed", "hello bot (edited)"),
        ("message_deleted", ""),
    ]
    by_text = {e.get("text"): e for e in events if not e.get("subtype")}
    changed = next(e for e in events if e.get("subtype") == "message_changed")
    deleted = next(e for e in events if e.get("subtype") == "message_deleted")
    assert by_text["in the thread"]["thread_ts"] == ts and by_text["in the thread"]["parent_user_id"] == ada.id
    assert changed["message"]["ts"] == ts and changed["previous_message"]["text"] == "hello bot"
    assert deleted["deleted_ts"] == reply_ts
    # The bot's own post was delivered (with bot_id) and acked, but bolt kept it from the listener.
    own = [d for d in sb.events() if d.payload["event"].get("bot_id") == sb.bot.bot_id]
    assert own and all(d.acked.is_set() for d in own)
    assert not any(e.get("bot_id") for e in events)
    assert sb.bot_messages(channel)[0]["thread_ts"] == ts


def test_unacked_event_is_redelivered_with_retry_attempt(sb: SlackSandbox, new_app, socket_app) -> None:
    ada = sb.add_user("Ada Lovelace")
    channel = sb.add_channel("general", [ada])
    # process_before_response: bolt acks only when the listener returns, so a slow first try times out.
    app: App = new_app(process_before_response=True)
    attempts: list[tuple[str | None, str | None]] = []

    @app.event("message")
    def slow_first_time(event, context, request) -> None:
        attempts.append((request.headers.get("x-slack-retry-num", [None])[0], event["ts"]))
        if len(attempts) == 1:
            time.sleep(sb.ack_timeout + 0.3)

    socket_app(app)
    ts = ada.post(channel, "remember me")
    sb.wait_until(lambda: sb.events()[-1].acked.is_set(), message="ack of the retry")
    delivery = sb.events()[-1]
    assert [a.retry_attempt for a in delivery.attempts] == [0, 1]
    assert [a.outcome for a in delivery.attempts] == ["timeout", "acked"]
    assert delivery.attempts[1].retry_reason == "timeout"
    assert attempts == [("0", ts), ("1", ts)]


def test_gives_up_after_max_retries_and_command_times_out(sb: SlackSandbox, new_app, socket_app) -> None:
    ada = sb.add_user("Ada Lovelace")
    channel = sb.add_channel("general", [ada])
    sb.max_retries = 1
    app: App = new_app(process_before_response=True)
    calls: list[str] = []

    @app.event("message")
    def never_in_time(event) -> None:
        calls.append(event["ts"])
        time.sleep(2 * sb.ack_timeout + 0.2)  # even the retry's window closes before this acks

    @app.command("/breakout")
    def too_slow(ack) -> None:
        time.sleep(sb.ack_timeout + 0.2)
        ack("too late")

    socket_app(app)
    ada.post(channel, "lost")
    delivery = sb.events()[-1]
    sb.wait_until(delivery.done.is_set, timeout=5)
    assert not delivery.acked.is_set() and delivery.failure == "timeout"
    assert [a.retry_attempt for a in delivery.attempts] == [0, 1]
    assert len(calls) == 2

    result = ada.run_command(channel, "/breakout", "status")
    assert not result.acked and result.delivery.retries == 0  # commands are never redelivered
    assert ada.ephemerals()[-1]["text"] == '/breakout failed with the error "operation_timeout"'


def test_dropped_connection_reconnects_and_keeps_delivering(sb: SlackSandbox, new_app, socket_app) -> None:
    ada = sb.add_user("Ada Lovelace")
    channel = sb.add_channel("general", [ada])
    app: App = new_app()
    texts: list[str] = []
    app.event("message")(lambda event: texts.append(event["text"]))
    socket_app(app)
    ada.post(channel, "before")
    sb.wait_until(lambda: texts == ["before"] and sb.events()[-1].acked.is_set())  # else it is redelivered

    assert sb.drop_socket_connections() == 1
    ada.post(channel, "during the outage")  # held (then redelivered) until the app is back
    sb.wait_until(lambda: sb.socket_mode.connections, timeout=5, message="reconnect")
    sb.wait_until(lambda: "during the outage" in texts, timeout=5)
    assert sb.socket_mode.connection_count == 2

    sb.send_socket_disconnect("refresh_requested")
    # The client opens a new connection, then lets the old one go once its reader notices.
    sb.wait_until(
        lambda: sb.socket_mode.connection_count == 3 and len(sb.socket_mode.connections) == 1,
        timeout=5,
        message="reconnect after disconnect",
    )
    ada.post(channel, "after refresh")
    sb.wait_until(lambda: "after refresh" in texts, timeout=5)
    assert texts == ["before", "during the outage", "after refresh"]


def test_click_a_button_and_replace_original(sb: SlackSandbox, new_app, socket_app) -> None:
    ada = sb.add_user("Ada Lovelace")
    channel = sb.add_channel("breakout-kindness-1", [ada])
    app: App = new_app()
    clicks: list[dict] = []

    @app.action("consent_choice")
    def on_click(ack, body, respond) -> None:
        ack()
        clicks.append(body)
        respond(replace_original=True, text=f"You chose {body['actions'][0]['value']}")

    socket_app(app)
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "How may we name you?"}},
        {
            "type": "actions",
            "block_id": "consent",
            "elements": [
                {"type": "button", "action_id": "consent_choice", "text": {"type": "plain_text", "text": "Full name"},
                 "value": "full"},
                {"type": "button", "action_id": "consent_choice_anon",
                 "text": {"type": "plain_text", "text": "Anonymous"}, "value": "anonymous"},
            ],
        },
    ]
    ts = app.client.chat_postMessage(channel=channel.id, text="consent", blocks=blocks)["ts"]
    delivery = ada.click(channel, ts, "consent_choice", "full")
    assert delivery.wait(3)
    sb.wait_until(lambda: sb.messages(channel)[0]["text"].startswith("You chose"), message="replace_original")
    (body,) = clicks
    assert body["type"] == "block_actions" and body["user"]["id"] == ada.id
    assert body["container"] == {"type": "message", "message_ts": ts, "channel_id": channel.id, "is_ephemeral": False}
    assert body["actions"][0]["block_id"] == "consent" and body["actions"][0]["value"] == "full"
    assert body["message"]["blocks"][1]["elements"][0]["value"] == "full"
    assert sb.messages(channel)[0]["text"] == "You chose full"


def test_payload_shapes_match_real_slack(sb: SlackSandbox, slack_fixtures: Path, new_app, socket_app) -> None:
    ada = sb.add_user("Ada Lovelace")
    channel = sb.add_channel("general", [ada])
    app: App = new_app()
    app.command("/breakout")(lambda ack: ack())
    app.event("message")(lambda: None)
    app.action("go")(lambda ack: ack())
    socket_app(app)
    ada.run_command(channel, "/breakout", "help")
    ts = ada.post(channel, "hello")
    ada.reply(channel, ts, "reply")
    ada.edit(channel, ts, "hello again")
    ada.delete(channel, ts)  # a thread's parent: Slack leaves a tombstone (message_changed)
    ada.delete(channel, ada.post(channel, "bye"))  # a lone message: message_deleted
    bot_ts = app.client.chat_postMessage(
        channel=channel.id,
        text="b",
        blocks=[{"type": "actions", "elements": [{"type": "button", "action_id": "go", "value": "v",
                                                   "text": {"type": "plain_text", "text": "Go"}}]}],
    )["ts"]
    ada.click(channel, bot_ts, "go").wait(3)
    sb.wait_until(lambda: all(d.done.is_set() for d in sb.deliveries))

    def keys(name: str) -> set[str]:
        return set(json.loads((slack_fixtures / name).read_text()))

    by_kind = {d.kind: d for d in sb.deliveries}
    command = by_kind["slash_commands"].payload
    fixture_command = json.loads((slack_fixtures / "socket_mode_slash_command.json").read_text())
    assert set(fixture_command["payload"]) <= set(command)
    form_keys = {kv.split("=")[0] for kv in (slack_fixtures / "slash_command.txt").read_text().strip().split("&")}
    assert form_keys - {"enterprise_id", "enterprise_name"} <= set(command)

    events = [d.payload for d in sb.events()]
    envelope_keys = keys("socket_mode_events_api_message.json")
    assert envelope_keys <= {"envelope_id", "payload", "type", "accepts_response_payload", "retry_attempt",
                             "retry_reason"}
    callback_keys = set(json.loads((slack_fixtures / "socket_mode_events_api_message.json").read_text())["payload"])
    for payload in events:
        assert callback_keys <= set(payload), callback_keys - set(payload)
    human = [p["event"] for p in events if p["event"].get("user") == ada.id and not p["event"].get("subtype")]
    fixture_event = json.loads((slack_fixtures / "event_message.json").read_text())["event"]
    assert set(fixture_event) <= set(human[0]) | {"thread_ts"}
    changed = next(p["event"] for p in events if p["event"].get("subtype") == "message_changed")
    fixture_changed = json.loads((slack_fixtures / "event_message_changed.json").read_text())["event"]
    assert set(fixture_changed) <= set(changed)
    assert set(fixture_changed["message"]) <= set(changed["message"])
    deleted = next(p["event"] for p in events if p["event"].get("subtype") == "message_deleted")
    fixture_deleted = json.loads((slack_fixtures / "event_message_deleted.json").read_text())["event"]
    assert set(fixture_deleted) <= set(deleted)

    action = by_kind["interactive"].payload
    fixture_action = json.loads((slack_fixtures / "block_actions.json").read_text())
    assert set(fixture_action) <= set(action)
    assert set(fixture_action["container"]) <= set(action["container"])
    assert set(fixture_action["actions"][0]) <= set(action["actions"][0])
    # The hello frame the client got on connect.
    hello_keys = keys("socket_mode_hello.json")
    assert hello_keys == {"type", "num_connections", "debug_info", "connection_info"}


def test_many_commands_in_parallel(sb: SlackSandbox, new_app, socket_app) -> None:
    people = [sb.add_user(f"Person {i}") for i in range(8)]
    channel = sb.add_channel("general", people)
    app: App = new_app()
    app.command("/breakout")(lambda ack, command: ack(f"hi {command['user_name']}"))
    socket_app(app)
    results: list = []
    threads = [threading.Thread(target=lambda p=p: results.append(p.run_command(channel, "/breakout", "status")))
               for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.ack_text for r in results) == sorted(f"hi {p.user.name}" for p in people)


def test_message_shortcut(sb: SlackSandbox, new_app, socket_app) -> None:
    ada = sb.add_user("Ada Lovelace")
    channel = sb.add_channel("general", [ada])
    app: App = new_app()
    seen: list[dict] = []

    @app.shortcut("highlight_quote")
    def on_shortcut(ack, shortcut, respond) -> None:
        ack()
        seen.append(shortcut)
        respond(text="Marked as a highlight.")

    socket_app(app)
    ts = ada.post(channel, "A sentence worth keeping.")
    delivery = ada.shortcut(channel, ts, "highlight_quote")
    assert delivery.wait(3) and delivery.kind == "interactive"
    sb.wait_until(lambda: any(e["text"] == "Marked as a highlight." for e in ada.ephemerals()))
    (payload,) = seen
    assert payload["type"] == "message_action" and payload["message_ts"] == ts
    assert payload["message"]["text"] == "A sentence worth keeping." and payload["channel"]["id"] == channel.id


# -- several connections (a fleet, or a refresh overlapping the old connection) -----------------


class Receiver:
    """One Socket Mode connection of the app (slack_sdk's builtin client): what arrived on it."""

    def __init__(self, sb: SlackSandbox, *, acks: bool = True) -> None:
        self.envelopes: list[tuple[str, int | None]] = []  # (envelope_id, retry_attempt)
        self.client = SocketModeClient(
            app_token=sb.app_token, web_client=WebClient(base_url=sb.api_url), ping_interval=0.2
        )
        self.acks = acks
        self.client.socket_mode_request_listeners.append(self._on_request)

    def _on_request(self, client: SocketModeClient, req: SocketModeRequest) -> None:
        self.envelopes.append((req.envelope_id, req.retry_attempt))
        if self.acks:
            client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))

    def ids(self) -> list[str]:
        return [envelope_id for envelope_id, _ in self.envelopes]


@pytest.fixture
def receivers(sb: SlackSandbox) -> Iterator[Callable[..., Receiver]]:
    """Open Socket Mode connections one after another (numbered 1, 2, ... by the sandbox); closed afterwards."""
    opened: list[Receiver] = []

    def connect(*, acks: bool = True) -> Receiver:
        receiver = Receiver(sb, acks=acks)
        count = sb.socket_mode.connection_count
        receiver.client.connect()
        sb.wait_until(lambda: sb.socket_mode.connection_count == count + 1, timeout=5, message="a new connection")
        opened.append(receiver)
        return receiver

    yield connect
    for receiver in opened:
        receiver.client.auto_reconnect_enabled = False
        receiver.client.default_auto_reconnect_enabled = False
    if opened:
        sb.drop_socket_connections(graceful=True)
    for receiver in opened:
        threading.Thread(target=receiver.client.close, daemon=True).start()


def test_each_envelope_goes_to_exactly_one_of_several_connections(sb: SlackSandbox, receivers) -> None:
    ada = sb.add_user("Ada Lovelace")
    channel = sb.add_channel("general", [ada])
    sb.ack_timeout = 3.0  # a slow machine must not turn a late ack into a redelivery here
    apps = [receivers() for _ in range(3)]
    assert len(sb.socket_mode.connections) == 3

    for i in range(9):
        ada.post(channel, f"message {i}")
    sb.wait_until(lambda: len(sb.events()) == 9 and all(d.acked.is_set() for d in sb.events()), timeout=10)

    sent = [d.envelope_id for d in sb.events()]
    arrived = [envelope_id for app in apps for envelope_id in app.ids()]
    # Each envelope arrived once, on one connection only, and was acked there at the first try.
    assert sorted(arrived) == sorted(sent)
    assert all(len(d.attempts) == 1 for d in sb.events())
    # Spread over the connections, not all down one of them.
    counts = [len(app.envelopes) for app in apps]
    assert all(n >= 1 for n in counts), counts
    assert sorted(counts) == [3, 3, 3]  # the sandbox takes them in turn
    assert {d.attempts[0].connection for d in sb.events()} == {1, 2, 3}
    for number, app in enumerate(apps, start=1):
        assert {d.envelope_id for d in sb.events() if d.attempts[0].connection == number} == set(app.ids())


def test_unacked_envelope_is_retried_on_another_connection(sb: SlackSandbox, receivers) -> None:
    ada = sb.add_user("Ada Lovelace")
    channel = sb.add_channel("general", [ada])
    working = receivers()
    stuck = receivers(acks=False)  # receives, never acknowledges (a process hung mid-request)

    for i in range(4):
        ada.post(channel, f"message {i}")
    sb.wait_until(lambda: len(sb.events()) == 4 and all(d.done.is_set() for d in sb.events()), timeout=10)

    assert all(d.acked.is_set() for d in sb.events())
    retried = [d for d in sb.events() if len(d.attempts) > 1]
    assert retried, "some envelope should have gone down the stuck connection first"
    for d in retried:
        assert [(a.connection, a.outcome) for a in d.attempts] == [(2, "timeout"), (1, "acked")]
        assert d.attempts[1].retry_attempt == 1 and d.attempts[1].retry_reason == "timeout"
        assert (d.envelope_id, 0) in stuck.envelopes and (d.envelope_id, 1) in working.envelopes
    # Nothing was acked twice: the working connection saw each envelope once.
    assert sorted(working.ids()) == sorted(d.envelope_id for d in sb.events())


def test_at_most_ten_connections_the_eleventh_is_told_too_many_websockets(sb: SlackSandbox) -> None:
    web = WebClient(base_url=sb.api_url)

    def open_url() -> str:
        return str(web.apps_connections_open(app_token=sb.app_token)["url"])

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            sockets = []
            for n in range(1, MAX_CONNECTIONS + 1):
                ws = await session.ws_connect(open_url())
                hello = await ws.receive_json(timeout=5)
                assert hello["type"] == "hello" and hello["num_connections"] == n
                sockets.append(ws)

            extra = await session.ws_connect(open_url())
            frame = await extra.receive_json(timeout=5)
            assert frame["type"] == "disconnect" and frame["reason"] == "too_many_websockets"
            closing = await extra.receive(timeout=5)
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert sb.socket_mode.refused == 1 and len(sb.socket_mode.connections) == MAX_CONNECTIONS

            # Once one is closed there is room again.
            await sockets.pop(0).close()
            for _ in range(100):
                if len(sb.socket_mode.connections) < MAX_CONNECTIONS:
                    break
                await asyncio.sleep(0.02)
            again = await session.ws_connect(open_url())
            hello = await again.receive_json(timeout=5)
            assert hello["type"] == "hello" and hello["num_connections"] == MAX_CONNECTIONS
            for ws in [*sockets, again]:
                await ws.close()

    asyncio.run(scenario())
    assert sb.socket_mode.connection_count == MAX_CONNECTIONS + 1 and sb.socket_mode.refused == 1
