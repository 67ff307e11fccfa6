"""The sandbox's REST API: raw HTTP shape, and the real discord.py's use of it."""

from __future__ import annotations

import asyncio
import io
import json
import time

import aiohttp
import discord

from bot.sandbox.discord import DiscordSandbox, P, all_intents, start_client, stop_client
from bot.sandbox.discord.model import Overwrite


async def _get(sb: DiscordSandbox, path: str, *, token: str | None = None, method: str = "GET", body: object = None) -> tuple[int, dict[str, str], object]:
    headers = {"Authorization": f"Bot {token or sb.token}"}
    async with aiohttp.ClientSession() as http:
        async with http.request(method, sb.rest_base + path, headers=headers, json=body) as resp:
            text = await resp.text()
            return resp.status, dict(resp.headers), json.loads(text) if text else None


def test_json_responses_have_exact_content_type_and_rate_limit_headers(sandbox: DiscordSandbox) -> None:
    status, headers, body = asyncio.run(_get(sandbox, "/users/@me"))
    assert status == 200
    assert headers["Content-Type"] == "application/json"  # discord.py compares with ==
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Reset-After", "X-RateLimit-Bucket"):
        assert name in headers
    assert body["id"] == str(sandbox.bot_user.id) and body["bot"] is True


def test_wrong_token_is_401_and_unknown_route_is_404(sandbox: DiscordSandbox) -> None:
    status, _, body = asyncio.run(_get(sandbox, "/users/@me", token="nope"))
    assert status == 401 and body["code"] == 0
    status, _, body = asyncio.run(_get(sandbox, "/no/such/route"))
    assert status == 404
    assert sandbox.unknown_routes == ["GET /api/v10/no/such/route"]


def test_injected_429_has_retry_after_body_and_headers(sandbox: DiscordSandbox) -> None:
    sandbox.inject_429("GET", "/users/@me", times=1, retry_after=0.25)
    status, headers, body = asyncio.run(_get(sandbox, "/users/@me"))
    assert status == 429
    assert body == {"message": "You are being rate limited.", "retry_after": 0.25, "global": False, "code": 0}
    assert headers["Retry-After"] == "1" and headers["Via"] and headers["X-RateLimit-Remaining"] == "0"
    assert asyncio.run(_get(sandbox, "/users/@me"))[0] == 200  # only the injected number of times


def test_gateway_bot_points_at_the_sandbox(sandbox: DiscordSandbox) -> None:
    _, _, body = asyncio.run(_get(sandbox, "/gateway/bot"))
    assert body["url"] == sandbox.gateway_url and body["shards"] == 1


def test_discord_py_waits_out_a_429_and_retries(sandbox: DiscordSandbox) -> None:
    asyncio.run(_discord_py_waits_out_a_429(sandbox))


async def _discord_py_waits_out_a_429(sandbox: DiscordSandbox) -> None:
    guild = sandbox.add_guild()
    chat = sandbox.add_text_channel(guild, "chat")
    client = discord.Client(intents=all_intents(), guild_ready_timeout=0.05)
    task = await start_client(client, sandbox.token)
    try:
        sandbox.inject_429("POST", "/channels/{channel_id}/messages", times=2, retry_after=0.1)
        started = time.monotonic()
        await client.get_channel(chat.id).send("hello")
        elapsed = time.monotonic() - started
        statuses = [c.status for c in sandbox.calls("POST", "/channels/{channel_id}/messages")]
        assert statuses == [429, 429, 200]
        assert elapsed >= 0.2  # it really waited retry_after each time
        assert [m.content for m in sandbox.bot_messages(chat)] == ["hello"]  # and posted exactly once
    finally:
        await stop_client(client, task)


def test_channels_overwrites_and_permissions(sandbox: DiscordSandbox) -> None:
    asyncio.run(_channels_overwrites_and_permissions(sandbox))


async def _channels_overwrites_and_permissions(sandbox: DiscordSandbox) -> None:
    guild = sandbox.add_guild()
    alice = sandbox.add_member(guild, "alice")
    bob = sandbox.add_member(guild, "bob")
    facilitators = sandbox.add_role(guild, "Facilitators")
    client = discord.Client(intents=all_intents(), guild_ready_timeout=0.05)
    task = await start_client(client, sandbox.token)
    try:
        g = client.get_guild(guild.id)
        everyone_hidden = discord.PermissionOverwrite(view_channel=False)
        visible = discord.PermissionOverwrite(view_channel=True, send_messages=True)
        category = await g.create_category("Breakout · Community Q&A", overwrites={g.default_role: everyone_hidden, g.me: visible})
        text = await g.create_text_channel(
            "Group 1",
            category=category,
            overwrites={g.default_role: everyone_hidden, g.me: visible, g.get_member(alice.id): visible, g.get_role(facilitators.id): visible},
        )
        voice = await g.create_voice_channel("Group 1", category=category)
        assert text.name == "group-1" and text.category_id == category.id
        sb_text = sandbox.channels[text.id]
        assert {o.id for o in sb_text.overwrites} == {guild.id, sandbox.bot_user.id, alice.id, facilitators.id}
        assert alice.can_see(sb_text) and not bob.can_see(sb_text)
        sandbox.give_role(bob, facilitators)
        assert bob.can_see(sb_text)
        assert sandbox.channels[voice.id].type == 2
        # Editing overwrites is a REST call too, and reaches the cache through CHANNEL_UPDATE.
        await text.set_permissions(g.get_member(alice.id), overwrite=None)
        assert not alice.can_see(sb_text)
        await sandbox.async_wait_until(lambda: g.get_member(alice.id) not in client.get_channel(text.id).overwrites)
        await category.delete()
        await sandbox.async_wait_until(lambda: client.get_channel(text.id).category_id is None)
    finally:
        await stop_client(client, task)


def test_the_bot_cannot_post_where_it_cannot_see(sandbox: DiscordSandbox) -> None:
    asyncio.run(_the_bot_cannot_post_where_it_cannot_see(sandbox))


async def _the_bot_cannot_post_where_it_cannot_see(sandbox: DiscordSandbox) -> None:
    guild = sandbox.add_guild()
    alice = sandbox.add_member(guild, "alice")
    secret = sandbox.add_text_channel(guild, "secret")
    sandbox.channels[secret.id].overwrites.append(Overwrite(guild.id, 0, allow=0, deny=P.VIEW_CHANNEL))
    client = discord.Client(intents=all_intents(), guild_ready_timeout=0.05)
    task = await start_client(client, sandbox.token)
    try:
        channel = client.get_partial_messageable(secret.id)
        try:
            await channel.send("hi")
        except discord.Forbidden as err:
            assert err.code == 50001
        else:
            raise AssertionError("posting in a hidden channel should be refused")
        assert not alice.can_see(secret)
    finally:
        await stop_client(client, task)


def test_allowed_mentions_are_recorded_and_honoured(sandbox: DiscordSandbox) -> None:
    asyncio.run(_allowed_mentions(sandbox))


async def _allowed_mentions(sandbox: DiscordSandbox) -> None:
    guild = sandbox.add_guild()
    alice = sandbox.add_member(guild, "alice")
    role = sandbox.add_role(guild, "Everyone Else", mentionable=True)
    chat = sandbox.add_text_channel(guild, "chat")
    client = discord.Client(intents=all_intents(), guild_ready_timeout=0.05)
    task = await start_client(client, sandbox.token)
    try:
        channel = client.get_channel(chat.id)
        text = f"@everyone @here <@&{role.id}> {alice.mention}"
        quiet = await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
        loud = await channel.send(text)
        quiet_m, loud_m = sandbox.messages(chat)
        assert quiet_m.id == quiet.id and loud_m.id == loud.id
        assert quiet_m.allowed_mentions == {"parse": []}
        assert quiet_m.pings == {"everyone": False, "users": [], "roles": []}
        assert loud_m.allowed_mentions is None
        assert loud_m.pings == {"everyone": True, "users": [alice.id], "roles": [role.id]}
        assert quiet.mention_everyone is False and loud.mention_everyone is True
    finally:
        await stop_client(client, task)


def test_messages_edit_bulk_delete_history_and_dm(sandbox: DiscordSandbox) -> None:
    asyncio.run(_messages_edit_bulk_delete_history_and_dm(sandbox))


async def _messages_edit_bulk_delete_history_and_dm(sandbox: DiscordSandbox) -> None:
    guild = sandbox.add_guild()
    alice = sandbox.add_member(guild, "alice")
    chat = sandbox.add_text_channel(guild, "chat")
    client = discord.Client(intents=all_intents(), guild_ready_timeout=0.05)
    task = await start_client(client, sandbox.token)
    try:
        channel = client.get_channel(chat.id)
        first = await channel.send("one")
        await first.edit(content="one, edited")
        second = await channel.send("two", file=discord.File(io.BytesIO(b"# notes"), filename="notes.md"))
        assert [m.content for m in sandbox.messages(chat)] == ["one, edited", "two"]
        assert sandbox.messages(chat)[1].attachments[0].text == "# notes"
        history = [m.content async for m in channel.history(limit=10)]
        assert history == ["two", "one, edited"]
        await channel.delete_messages([first, second])
        assert sandbox.messages(chat) == []
        await client.get_guild(guild.id).get_member(alice.id).send("psst")
        assert [m.content for m in alice.dms()] == ["psst"]
    finally:
        await stop_client(client, task)


def test_history_pages_after_a_message_and_archived_thread_lists(sandbox: DiscordSandbox) -> None:
    asyncio.run(_history_pages_after_a_message_and_archived_thread_lists(sandbox))


async def _history_pages_after_a_message_and_archived_thread_lists(sandbox: DiscordSandbox) -> None:
    guild = sandbox.add_guild()
    alice = sandbox.add_member(guild, "alice")
    chat = sandbox.add_text_channel(guild, "chat")
    said = [alice.say(chat, f"m{i}") for i in range(5)]
    thread = alice.start_thread(said[0], "about m0")
    client = discord.Client(intents=all_intents(), guild_ready_timeout=0.05)
    task = await start_client(client, sandbox.token)
    try:
        channel = client.get_channel(chat.id)
        page = [m.content async for m in channel.history(limit=2, after=discord.Object(said[0].id), oldest_first=True)]
        assert page == ["m1", "m2"]  # the oldest ones after it, as on Discord
        assert [t.id for t in channel.threads] == [thread.id]  # active threads come with GUILD_CREATE
        assert [t async for t in channel.archived_threads(limit=None)] == []  # the sandbox's never archive
        assert [t async for t in channel.archived_threads(private=True, joined=True, limit=None)] == []
    finally:
        await stop_client(client, task)


def test_a_bot_can_only_grant_permissions_it_has(sandbox: DiscordSandbox) -> None:
    asyncio.run(_a_bot_can_only_grant_permissions_it_has(sandbox))


async def _a_bot_can_only_grant_permissions_it_has(sandbox: DiscordSandbox) -> None:
    guild = sandbox.add_guild(bot_permissions=P.VIEW_CHANNEL | P.SEND_MESSAGES | P.MANAGE_CHANNELS | P.MANAGE_ROLES)
    alice = sandbox.add_member(guild, "alice")
    client = discord.Client(intents=all_intents(), guild_ready_timeout=0.05)
    task = await start_client(client, sandbox.token)
    try:
        g = client.get_guild(guild.id)
        member = g.get_member(alice.id)
        ok = await g.create_text_channel("fine", overwrites={member: discord.PermissionOverwrite(view_channel=True)})
        assert alice.can_see(sandbox.channels[ok.id])
        try:
            await g.create_text_channel("too-much", overwrites={member: discord.PermissionOverwrite(move_members=True)})
        except discord.Forbidden as err:
            assert err.code == 50013
        else:
            raise AssertionError("granting a permission the bot lacks should be refused")
        alice.join_voice(sandbox.add_voice_channel(guild, "Main"))
        room = await g.create_voice_channel("Room")
        try:
            await member.move_to(room)  # no Move Members
        except discord.Forbidden:
            pass
        else:
            raise AssertionError("moving without Move Members should be refused")
    finally:
        await stop_client(client, task)


def test_a_lost_reply_is_retried_and_the_nonce_prevents_a_duplicate(sandbox: DiscordSandbox) -> None:
    asyncio.run(_a_lost_reply_is_retried(sandbox))


async def _a_lost_reply_is_retried(sandbox: DiscordSandbox) -> None:
    guild = sandbox.add_guild()
    chat = sandbox.add_text_channel(guild, "chat")
    client = discord.Client(intents=all_intents(), guild_ready_timeout=0.05)
    task = await start_client(client, sandbox.token)
    try:
        channel = client.get_channel(chat.id)
        sandbox.inject_server_error("POST", "/channels/{channel_id}/messages", after_commit=True)
        await channel.send("with a nonce", nonce="12345")  # discord.py retries a 500 after ~1s
        assert [c.status for c in sandbox.calls("POST", "/channels/{channel_id}/messages")] == [500, 200]
        assert [m.content for m in sandbox.messages(chat)] == ["with a nonce"]
        sandbox.inject_server_error("POST", "/channels/{channel_id}/messages", after_commit=True)
        await channel.send("without one")  # discord.py 2.7 makes up a random nonce itself
        assert [m.content for m in sandbox.messages(chat)] == ["with a nonce", "without one"]
        # A client that does not send a nonce gets the duplicate, as on Discord.
        sandbox.inject_server_error("POST", "/channels/{channel_id}/messages", after_commit=True)
        status, _, _ = await _get(sandbox, f"/channels/{chat.id}/messages", method="POST", body={"content": "raw"})
        assert status == 500 and [m.content for m in sandbox.messages(chat)][-1] == "raw"
    finally:
        await stop_client(client, task)


def test_real_buckets_are_honoured_by_discord_py_without_a_single_429() -> None:
    asyncio.run(_real_buckets())


async def _real_buckets() -> None:
    with DiscordSandbox(rate_limits={"POST /channels/{channel_id}/messages": (3, 0.3)}) as sb:
        previous = sb.point_discord_py()
        try:
            guild = sb.add_guild()
            chat = sb.add_text_channel(guild, "chat")
            other = sb.add_text_channel(guild, "other")
            client = discord.Client(intents=all_intents(), guild_ready_timeout=0.05)
            task = await start_client(client, sb.token)
            try:
                started = time.monotonic()
                await asyncio.gather(*(client.get_channel(c.id).send(f"{c.name} {i}") for i in range(7) for c in (chat, other)))
                elapsed = time.monotonic() - started
                assert len(sb.messages(chat)) == 7 and len(sb.messages(other)) == 7
                assert sb.unexpected_429s == []  # discord.py waited on X-RateLimit-Remaining: 0
                assert elapsed >= 0.5  # 7 per channel at 3 per 0.3 s: it had to wait for two resets
            finally:
                await stop_client(client, task)
        finally:
            from bot.sandbox.discord import point_discord_py_at

            point_discord_py_at(*previous)
