"""HTTP mode: the sandbox POSTs signed requests to a real slack_bolt App served on 127.0.0.1:0."""

from __future__ import annotations

import time

from slack_bolt import App

from bot.sandbox.slack import SlackSandbox, sign


def test_signature_is_slacks_v0_hmac() -> None:
    # The example from Slack's "Verifying requests" guide.
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    assert sign(secret, "1531420618", body) == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_command_over_http_verified_by_bolt(sb: SlackSandbox, new_app, http_app) -> None:
    ada = sb.add_user("Ada Lovelace")
    channel = sb.add_channel("general", [ada])
    app: App = new_app()

    @app.command("/breakout")
    def breakout(ack, command, respond) -> None:
        ack(text=f"ok: {command['text']}")
        respond(text="all groups ready", response_type="in_channel")

    http_app(app)
    result = ada.run_command(channel, "/breakout", "start kindness")
    assert result.acked and result.delivery.ack_status == 200
    assert result.ack_text == "ok: start kindness"
    result.wait_for_responses(1)
    assert [m["text"] for m in sb.messages(channel)] == ["all groups ready"]  # in_channel
    assert [e["text"] for e in ada.ephemerals()] == ["ok: start kindness"]


def test_bad_signature_and_stale_timestamp_are_refused(sb: SlackSandbox, new_app, http_app) -> None:
    ada = sb.add_user("Ada Lovelace")
    channel = sb.add_channel("general", [ada])
    app: App = new_app()
    ran: list[str] = []

    @app.command("/breakout")
    def breakout(ack, command) -> None:
        ran.append(command["text"])
        ack()

    @app.event("message")
    def on_message(event) -> None:
        ran.append(event["text"])

    http_app(app)
    forged = ada.run_command(channel, "/breakout", "stop", tamper="bad_signature")
    stale = ada.run_command(channel, "/breakout", "stop", tamper="stale_timestamp")
    assert (forged.delivery.ack_status, stale.delivery.ack_status) == (401, 401)
    assert not forged.acked and not stale.acked
    assert ada.ephemerals()[-1]["text"] == '/breakout failed with the error "dispatch_failed"'
    sb.max_retries = 1
    ada.post(channel, "forged", tamper="bad_signature")
    delivery = sb.events()[-1]
    assert delivery.wait(3) is False and [a.status for a in delivery.attempts] == [401, 401]
    assert ran == []
    assert ada.run_command(channel, "/breakout", "status").acked
    assert ran == ["status"]


def test_event_retried_with_retry_headers_after_an_error(sb: SlackSandbox, new_app, http_app) -> None:
    ada = sb.add_user("Ada Lovelace")
    channel = sb.add_channel("general", [ada])
    app: App = new_app(process_before_response=True, raise_error_for_unhandled_request=False)
    seen: list[tuple[str | None, str | None]] = []

    @app.event("message")
    def flaky(event, request) -> None:
        seen.append((request.headers.get("x-slack-retry-num", [None])[0],
                     request.headers.get("x-slack-retry-reason", [None])[0]))
        if len(seen) == 1:
            raise RuntimeError("database is down")  # bolt answers 500
        if len(seen) == 2:
            time.sleep(sb.ack_timeout + 0.2)  # too slow: Slack gives up waiting

    http_app(app)
    ada.post(channel, "hello")
    delivery = sb.events()[-1]
    assert delivery.wait(5)
    assert [(a.status, a.outcome) for a in delivery.attempts] == [
        (500, "http_error"),
        (None, "http_timeout"),
        (200, "acked"),
    ]
    assert seen == [(None, None), ("1", "http_error"), ("2", "http_timeout")]


def test_block_actions_and_url_verification_over_http(sb: SlackSandbox, new_app, http_app) -> None:
    ada = sb.add_user("Ada Lovelace")
    channel = sb.add_channel("general", [ada])
    app: App = new_app()
    values: list[str] = []

    @app.action("consent")
    def consent(ack, body, respond) -> None:
        ack()
        values.append(body["actions"][0]["value"])
        respond(text="Thanks, you chose anonymous.", replace_original=False)

    http_app(app)
    ts = app.client.chat_postEphemeral(
        channel=channel.id,
        user=ada.id,
        text="How may we name you?",
        blocks=[{"type": "actions", "elements": [
            {"type": "button", "action_id": "consent", "value": "anonymous",
             "text": {"type": "plain_text", "text": "Anonymous"}}]}],
    )["message_ts"]
    delivery = ada.click(channel, ts, "consent")
    assert delivery.wait(3) and values == ["anonymous"]
    assert delivery.payload["container"]["is_ephemeral"] is True
    sb.wait_until(lambda: ada.ephemerals()[-1]["text"] == "Thanks, you chose anonymous.")

    status, body = sb.send_raw("events_api", {"token": "t", "challenge": "c-123", "type": "url_verification"})
    assert (status, body) == (200, '{"challenge": "c-123"}')
