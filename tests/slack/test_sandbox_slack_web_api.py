"""The sandbox's Web API, driven by the real slack_sdk WebClient over a real socket."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.slack import SlackError, SlackSandbox


def error_of(call) -> str:
    with pytest.raises(SlackApiError) as raised:
        call()
    return str(raised.value.response["error"])


def test_auth_checks(sb: SlackSandbox) -> None:
    assert error_of(lambda: WebClient(base_url=sb.api_url).auth_test()) == "not_authed"
    assert error_of(lambda: WebClient(token="xoxb-wrong", base_url=sb.api_url).auth_test()) == "invalid_auth"
    app_client = WebClient(token=sb.app_token, base_url=sb.api_url)
    assert error_of(app_client.auth_test) == "not_allowed_token_type"
    bot_client = WebClient(token=sb.bot_token, base_url=sb.api_url)
    assert error_of(lambda: bot_client.apps_connections_open(app_token=sb.bot_token)) == "not_allowed_token_type"
    url = app_client.apps_connections_open(app_token=sb.app_token)["url"]
    assert url.startswith(f"ws://127.0.0.1:{sb.port}/link/?ticket=")
    me = bot_client.auth_test()
    assert (me["user_id"], me["bot_id"], me["team_id"]) == (sb.bot.id, sb.bot.bot_id, sb.team_id)


def test_users_and_usergroups(sb: SlackSandbox, client: WebClient) -> None:
    ada = sb.add_user("Ada Lovelace", display_name="ada", is_admin=True)
    bob = sb.add_user("Bob Marley", first_name="Robert")
    group = sb.add_usergroup("facilitators", [ada])
    info = client.users_info(user=bob.id)["user"]
    assert info["profile"]["first_name"] == "Robert"
    assert info["real_name"] == "Bob Marley" and info["is_admin"] is False and info["is_bot"] is False
    assert client.users_info(user=ada.id)["user"]["is_admin"] is True
    assert error_of(lambda: client.users_info(user="U999")) == "user_not_found"
    # Pagination: three users (and the bot) two at a time.
    sb.add_user("Cy Twombly")
    ids, cursor = [], None
    while True:
        page = client.users_list(limit=2, cursor=cursor)
        ids += [m["id"] for m in page["members"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert len(ids) == 4 and sb.bot.id in ids
    handles = {g["handle"]: g["id"] for g in client.usergroups_list()["usergroups"]}
    assert handles == {"facilitators": group.id}
    assert client.usergroups_users_list(usergroup=group.id)["users"] == [ada.id]
    assert error_of(lambda: client.usergroups_users_list(usergroup="S404")) == "no_such_subteam"


def test_channels_create_invite_archive(sb: SlackSandbox, client: WebClient) -> None:
    ada, bob = sb.add_user("Ada Lovelace"), sb.add_user("Bob Marley")
    made = client.conversations_create(name="breakout-kindness-1")["channel"]
    assert made["is_member"] is True and made["name"] == "breakout-kindness-1"
    assert error_of(lambda: client.conversations_create(name="breakout-kindness-1")) == "name_taken"
    assert error_of(lambda: client.conversations_create(name="Breakout Kindness")) == "invalid_name_specials"
    assert error_of(lambda: client.conversations_create(name="x" * 81)) == "invalid_name_maxlength"

    # One call invites many people; each join posts a channel_join message, as Slack does.
    client.conversations_invite(channel=made["id"], users=f"{ada.id},{bob.id}")
    channel = sb.channel("breakout-kindness-1")
    assert channel.members == [sb.bot.id, ada.id, bob.id]
    joins = [m for m in sb.messages(channel) if m.get("subtype") == "channel_join"]
    assert [m["user"] for m in joins] == [ada.id, bob.id]
    assert len(sb.calls("conversations.invite")) == 1

    with pytest.raises(SlackApiError) as raised:
        client.conversations_invite(channel=made["id"], users=[ada.id, "U404"])
    assert raised.value.response["error"] == "already_in_channel"
    assert {e["user"]: e["error"] for e in raised.value.response["errors"]} == {
        ada.id: "already_in_channel",
        "U404": "user_not_found",
    }
    assert error_of(lambda: client.conversations_invite(channel="C404", users=ada.id)) == "channel_not_found"

    members = client.conversations_members(channel=made["id"], limit=2)
    assert len(members["members"]) == 2 and members["response_metadata"]["next_cursor"]

    client.conversations_archive(channel=made["id"])
    assert sb.channel(made["id"]).is_archived
    assert error_of(lambda: client.chat_postMessage(channel=made["id"], text="hi")) == "is_archived"
    assert error_of(lambda: client.conversations_create(name="breakout-kindness-1")) == "name_taken"
    listed = client.conversations_list(exclude_archived=True)["channels"]
    assert made["id"] not in [c["id"] for c in listed]
    client.conversations_unarchive(channel=made["id"])
    assert error_of(lambda: client.conversations_unarchive(channel=made["id"])) == "not_archived"
    assert client.conversations_info(channel=made["id"])["channel"]["is_archived"] is False


def test_bot_must_be_in_channel(sb: SlackSandbox, client: WebClient) -> None:
    ada = sb.add_user("Ada Lovelace")
    outside = sb.add_channel("random", [ada], bot_member=False)
    secret = sb.add_channel("secret", [ada], is_private=True, bot_member=False)
    assert error_of(lambda: client.chat_postMessage(channel=outside.id, text="hi")) == "not_in_channel"
    assert error_of(lambda: client.conversations_invite(channel=outside.id, users=ada.id)) == "not_in_channel"
    # A private channel the bot is not in does not exist for the bot.
    assert error_of(lambda: client.conversations_info(channel=secret.id)) == "channel_not_found"
    assert error_of(lambda: client.chat_postMessage(channel="C404", text="hi")) == "channel_not_found"
    assert client.conversations_join(channel=outside.id)["channel"]["is_member"] is True
    assert client.conversations_join(channel=outside.id)["warning"] == "already_in_channel"
    assert error_of(lambda: client.conversations_join(channel=secret.id)) == "channel_not_found"
    assert client.chat_postMessage(channel=outside.id, text="hi")["ok"]


# Nine posts into one channel at once are beyond Slack's 1 a second (bursts of 5): a faster Slack clock.
@pytest.mark.slack_time_scale(0.01)
def test_post_update_delete_and_limits(sb: SlackSandbox, client: WebClient) -> None:
    ada = sb.add_user("Ada Lovelace")
    channel = sb.add_channel("general", [ada])
    posted = client.chat_postMessage(channel=channel.id, text="Question 1")
    reply = client.chat_postMessage(channel=channel.id, text="a reply", thread_ts=posted["ts"])
    assert float(reply["ts"]) > float(posted["ts"])
    thread = sb.thread(channel, posted["ts"])
    assert [m["text"] for m in thread] == ["Question 1", "a reply"]
    assert thread[0]["reply_count"] == 1 and thread[1]["thread_ts"] == posted["ts"]

    client.chat_update(channel=channel.id, ts=posted["ts"], text="Question 1 (edited)")
    assert sb.messages(channel)[0]["text"] == "Question 1 (edited)"
    ada_ts = ada.post(channel, "mine")
    assert error_of(lambda: client.chat_update(channel=channel.id, ts=ada_ts, text="x")) == "cant_update_message"
    client.chat_delete(channel=channel.id, ts=reply["ts"])
    assert [m["text"] for m in sb.messages(channel)] == ["Question 1 (edited)", "mine"]
    assert error_of(lambda: client.chat_delete(channel=channel.id, ts=reply["ts"])) == "message_not_found"

    section = {"type": "section", "text": {"type": "mrkdwn", "text": "ok"}}
    assert error_of(lambda: client.chat_postMessage(channel=channel.id, text="x", blocks=[section] * 51)) == (
        "invalid_blocks"
    )
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(
            channel=channel.id, text="x", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3001}}]
        )
    assert "must be less than 3001 characters" in raised.value.response["response_metadata"]["messages"][0]
    assert error_of(lambda: client.chat_postMessage(channel=channel.id, text="z" * 40_001)) == "msg_too_long"
    big = {"type": "section", "text": {"type": "mrkdwn", "text": "w" * 2900}}
    assert error_of(lambda: client.chat_postMessage(channel=channel.id, text="x", blocks=[big] * 5)) == (
        "msg_blocks_too_long"
    )
    with pytest.warns(UserWarning, match="top-level `text`"):  # slack-sdk warns; the sandbox refuses
        assert error_of(lambda: client.chat_postMessage(channel=channel.id, text="")) == "no_text"
    assert client.chat_postMessage(channel=channel.id, text="x", blocks=[section] * 50)["ok"]
    # Form-encoded blocks (a JSON string) are read as well as JSON bodies.
    form = {"channel": channel.id, "text": "a line", "blocks": '[{"type": "divider"}]'}
    assert client.api_call("chat.postMessage", data=form)["ok"]


def test_ephemeral_dm_and_file_upload(sb: SlackSandbox, client: WebClient) -> None:
    ada, bob = sb.add_user("Ada Lovelace"), sb.add_user("Bob Marley")
    channel = sb.add_channel("general", [ada])
    client.chat_postEphemeral(channel=channel.id, user=ada.id, text="only you")
    assert [e["text"] for e in ada.ephemerals()] == ["only you"]
    assert error_of(lambda: client.chat_postEphemeral(channel=channel.id, user=bob.id, text="x")) == (
        "user_not_in_channel"
    )
    dm = client.conversations_open(users=bob.id)["channel"]["id"]
    assert dm.startswith("D")
    client.chat_postMessage(channel=dm, text="hello Bob")
    assert [m["text"] for m in bob.dms()] == ["hello Bob"]

    content = "# Summary\n\n> kindness matters\n"
    result = client.files_upload_v2(channel=dm, content=content, filename="summary.md", title="Summary")
    assert result["files"][0]["title"] == "Summary"
    (uploaded,) = bob.files()
    assert uploaded.text == content and uploaded.filename == "summary.md"
    assert sb.files(user=ada) == []
    methods = [c.method for c in sb.calls()]
    assert methods[-2:] == ["files.getUploadURLExternal", "files.completeUploadExternal"]


def test_rate_limit_is_retried_after_retry_after(sb: SlackSandbox, client: WebClient) -> None:
    ada = sb.add_user("Ada Lovelace")
    channel = sb.add_channel("general", [ada])
    sb.faults.rate_limit("chat.postMessage", times=1, retry_after=1)
    client.chat_postMessage(channel=channel.id, text="after the limit")
    first, second = sb.calls("chat.postMessage")
    assert (first.status, first.error, second.status) == (429, "ratelimited", 200)
    assert second.at - first.at >= 1.0  # RateLimitErrorRetryHandler waited for Retry-After
    assert [m["text"] for m in sb.messages(channel)] == ["after the limit"]


def test_rate_limit_without_retry_handler_surfaces(sb: SlackSandbox) -> None:
    sb.faults.rate_limit("auth.test", times=1, retry_after=7)
    bare = WebClient(token=sb.bot_token, base_url=sb.api_url, retry_handlers=[])
    with pytest.raises(SlackApiError) as raised:
        bare.auth_test()
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == ["7"] or raised.value.response.headers[
        "Retry-After"
    ] == "7"


def test_storm_and_server_errors(sb: SlackSandbox, client: WebClient) -> None:
    ada = sb.add_user("Ada Lovelace")
    channel = sb.add_channel("general", [ada])
    sb.faults.rate_limit_storm("chat.postMessage", every=2, retry_after=0)
    for i in range(3):
        client.chat_postMessage(channel=channel.id, text=f"m{i}")
    statuses = [c.status for c in sb.calls("chat.postMessage")]
    assert statuses == [200, 429, 200, 429, 200]
    assert [m["text"] for m in sb.messages(channel)] == ["m0", "m1", "m2"]

    sb.faults.clear()
    sb.faults.server_error("conversations.info", times=2, status=503)
    assert client.conversations_info(channel=channel.id)["channel"]["id"] == channel.id
    assert [c.status for c in sb.calls("conversations.info")] == [503, 503, 200]
    sb.faults.server_error("conversations.info", times=3, status=500)
    with pytest.raises(SlackApiError):
        client.conversations_info(channel=channel.id)  # two retries allowed, three failures


def test_connection_error_retry(sb: SlackSandbox) -> None:
    from bot.sandbox.slack import SlackSandbox as Sandbox

    # A client pointed at a port nobody listens on raises after its connection retries.
    dead = Sandbox().start()
    url, token = dead.api_url, dead.bot_token
    dead.stop()
    from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

    client = WebClient(token=token, base_url=url, retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1)])
    with pytest.raises(Exception) as raised:
        client.auth_test()
    assert "Connection refused" in str(raised.value) or "URLError" in type(raised.value).__name__


def test_only_subscribed_events_are_delivered(sb: SlackSandbox) -> None:
    ada = sb.add_user("Ada Lovelace")
    public = sb.add_channel("general", [ada])
    private = sb.add_channel("secret", [ada], is_private=True)
    outside = sb.add_channel("random", [ada], bot_member=False)
    sb.subscriptions = {"message.channels"}
    ada.post(public, "seen")
    ada.post(private, "not subscribed")
    ada.post(outside, "the bot is not here")
    assert [d.payload["event"]["text"] for d in sb.events()] == ["seen"]


def test_files_people_share_listing_and_download(sb: SlackSandbox, client: WebClient) -> None:
    import urllib.request

    ada, bob = sb.add_user("Ada Lovelace"), sb.add_user("Bob Marley")
    channel = sb.add_channel("general", [ada, bob])
    hidden = sb.add_channel("elsewhere", [ada], bot_member=False)
    older = ada.share_file(channel, "older.txt", "first")
    newer = ada.share_file(sb.dm(ada), "chat.txt", b"18:00:05 From A to Everyone:\n\thi\n")
    ada.share_file(hidden, "secret.txt", "the bot is not in this channel")
    bob.share_file(channel, "bobs.txt", "not Ada's")
    assert [m.get("subtype") for m in sb.messages(channel) if m.get("files")] == ["file_share", "file_share"]

    listed = client.files_list(user=ada.id)
    assert [f["name"] for f in listed["files"]] == ["chat.txt", "older.txt"]  # newest first; only what the bot sees
    assert listed["paging"]["total"] == 2
    assert [f["id"] for f in client.files_list(user=ada.id, channel=channel.id)["files"]] == [older.id]
    in_dm = client.files_list(user=ada.id, channel=sb.dm(ada).id)["files"]
    assert [f["id"] for f in in_dm] == [newer.id] and in_dm[0]["ims"] == [sb.dm(ada).id]
    info = client.files_info(file=newer.id)["file"]
    assert info["size"] == newer.length and info["user"] == ada.id and info["mimetype"] == "text/plain"
    assert error_of(lambda: client.files_info(file="F404")) == "file_not_found"
    assert error_of(lambda: client.files_list(types="nonsense")) == "unknown_type"

    url = info["url_private_download"]
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": f"Bearer {sb.bot_token}"})) as r:
        assert r.read() == b"18:00:05 From A to Everyone:\n\thi\n"
    with urllib.request.urlopen(url) as r:  # no token: Slack's sign-in page, not the file
        assert r.headers["Content-Type"].startswith("text/html") and b"Sign in" in r.read()
    assert [(d["file"], d["authorized"]) for d in sb.downloads] == [(newer.id, True), (newer.id, False)]


def test_reactions_are_real_shaped_events(sb: SlackSandbox) -> None:
    ada, bob = sb.add_user("Ada Lovelace"), sb.add_user("Bob Marley")
    channel = sb.add_channel("general", [ada, bob])
    sb.subscriptions = {"reaction_added", "reaction_removed"}  # events are only recorded, no app listens
    sb.ack_timeout, sb.max_retries = 0.05, 0
    ts = ada.post(channel, "react to me")
    bob.react(channel, ts, "star")
    ada.react(channel, ts, ":star:")
    assert sb.messages(channel)[-1]["reactions"] == [{"name": "star", "users": [bob.id, ada.id], "count": 2}]
    with pytest.raises(SlackError) as twice:
        bob.react(channel, ts, "star")
    assert twice.value.code == "already_reacted"
    bob.unreact(channel, ts, "star")
    ada.unreact(channel, ts, "star")
    assert "reactions" not in sb.messages(channel)[-1]
    with pytest.raises(SlackError):
        ada.unreact(channel, ts, "star")
    events = [d.payload["event"] for d in sb.events()]
    assert [e["type"] for e in events] == ["reaction_added", "reaction_added", "reaction_removed", "reaction_removed"]
    assert events[0] == {"type": "reaction_added", "user": bob.id, "reaction": "star", "item_user": ada.id,
                         "item": {"type": "message", "channel": channel.id, "ts": ts}, "event_ts": events[0]["event_ts"]}
