"""The sandbox's gateway, exercised by the real discord.py over a real websocket."""

from __future__ import annotations

import asyncio
import time

import discord
import pytest

from bot.sandbox.discord import ClientThread, DiscordSandbox, P, all_intents, start_client, stop_client


def test_connects_identifies_and_caches_the_guild(sandbox: DiscordSandbox) -> None:
    guild = sandbox.add_guild("Community Call")
    alice = sandbox.add_member(guild, "alice", is_admin=True)
    facilitators = sandbox.add_role(guild, "Facilitators")
    bob = sandbox.add_member(guild, "bob", roles=[facilitators])
    category = sandbox.add_category(guild, "Calls")
    stage = sandbox.add_voice_channel(guild, "Main call", category=category)
    general = sandbox.add_text_channel(guild, "General Chat")
    alice.join_voice(stage)
    bob.join_voice(stage)

    client = discord.Client(intents=all_intents(), guild_ready_timeout=0.05)
    with ClientThread(client, sandbox.token):
        assert sandbox.identifies == 1
        query = sandbox.gateway_queries[0]
        assert query["v"] == "10" and query["encoding"] == "json"
        assert query["compress"] == "zlib-stream"  # discord.py's default, decoded by discord.py itself
        cached = client.get_guild(guild.id)
        assert cached is not None and cached.name == "Community Call"
        assert {m.name for m in cached.members} == {"breakout-bot", "owner", "alice", "bob"}
        assert cached.get_role(facilitators.id).name == "Facilitators"
        voice = cached.get_channel(stage.id)
        assert isinstance(voice, discord.VoiceChannel) and voice.category_id == category.id
        assert {m.name for m in voice.members} == {"alice", "bob"}
        # Discord lower-cases text channel names and turns spaces into dashes.
        assert cached.get_channel(general.id).name == "general-chat"
        assert cached.get_member(alice.id).guild_permissions.administrator
        assert not cached.get_member(bob.id).guild_permissions.administrator
        assert client.user.id == sandbox.bot_user.id and client.application_id == sandbox.application_id


def test_heartbeats_are_acknowledged() -> None:
    with DiscordSandbox(heartbeat_interval_ms=50) as sb:
        sb.point_discord_py()
        sb.add_guild()
        client = discord.Client(intents=all_intents(), guild_ready_timeout=0.05)
        with ClientThread(client, sb.token):
            sb.wait_until(lambda: sb.heartbeats >= 3, 3)
            assert client.latency < 1.0  # discord.py measures latency from our ACKs


def test_bad_token_is_refused(sandbox: DiscordSandbox) -> None:
    client = discord.Client(intents=all_intents())
    with pytest.raises(discord.LoginFailure):
        ClientThread(client, "not-the-token").start()


def test_privileged_intent_not_enabled_closes_with_4014() -> None:
    with DiscordSandbox(privileged_intents=()) as sb:
        sb.point_discord_py()
        client = discord.Client(intents=all_intents())
        with pytest.raises(discord.PrivilegedIntentsRequired):
            ClientThread(client, sb.token).start()


def test_messages_created_edited_deleted_reach_the_client(sandbox: DiscordSandbox) -> None:
    asyncio.run(_messages_created_edited_deleted_reach_the_client(sandbox))


async def _messages_created_edited_deleted_reach_the_client(sandbox: DiscordSandbox) -> None:
    guild = sandbox.add_guild()
    alice = sandbox.add_member(guild, "alice")
    chat = sandbox.add_text_channel(guild, "chat")
    seen: list[tuple[str, str]] = []
    client = discord.Client(intents=all_intents(), guild_ready_timeout=0.05)

    @client.event
    async def on_message(message: discord.Message) -> None:
        seen.append(("create", message.content))

    @client.event
    async def on_raw_message_edit(event: discord.RawMessageUpdateEvent) -> None:
        seen.append(("edit", event.message.content))

    @client.event
    async def on_raw_message_delete(event: discord.RawMessageDeleteEvent) -> None:
        seen.append(("delete", str(event.message_id)))

    task = await start_client(client, sandbox.token)
    try:
        msg = alice.say(chat, "Community is @everyone <@&123>")
        await sandbox.async_wait_until(lambda: len(seen) == 1)
        assert msg.pings == {"everyone": True, "users": [], "roles": []}  # a member's @everyone pings; no such role
        alice.edit(msg, "Community is everyone")
        await sandbox.async_wait_until(lambda: len(seen) == 2)
        alice.delete(msg)
        await sandbox.async_wait_until(lambda: len(seen) == 3)
        assert seen == [("create", "Community is @everyone <@&123>"), ("edit", "Community is everyone"), ("delete", str(msg.id))]
        assert msg.pings["everyone"] is False and msg.edits == ["Community is @everyone <@&123>"]
        # The bot's own messages come back as MESSAGE_CREATE too; the author is the bot.
        sent = await client.get_channel(chat.id).send("from the bot")
        await sandbox.async_wait_until(lambda: ("create", "from the bot") in seen)
        assert sent.author.id == client.user.id
    finally:
        await stop_client(client, task)


def test_without_message_content_intent_content_is_empty(sandbox: DiscordSandbox) -> None:
    asyncio.run(_without_message_content_intent_content_is_empty(sandbox))


async def _without_message_content_intent_content_is_empty(sandbox: DiscordSandbox) -> None:
    guild = sandbox.add_guild()
    alice = sandbox.add_member(guild, "alice")
    chat = sandbox.add_text_channel(guild, "chat")
    seen: list[str] = []
    intents = discord.Intents.default()  # no message_content
    client = discord.Client(intents=intents, guild_ready_timeout=0.05)

    @client.event
    async def on_message(message: discord.Message) -> None:
        seen.append(message.content)

    task = await start_client(client, sandbox.token)
    try:
        alice.say(chat, "secret words")
        alice.say(chat, f"{client.user.mention} hello bot")
        await sandbox.async_wait_until(lambda: len(seen) == 2)
        assert seen == ["", f"<@{client.user.id}> hello bot"]
    finally:
        await stop_client(client, task)


def test_dropped_connection_resumes_and_replays_missed_events(sandbox: DiscordSandbox) -> None:
    asyncio.run(_dropped_connection_resumes_and_replays_missed_events(sandbox))


async def _dropped_connection_resumes_and_replays_missed_events(sandbox: DiscordSandbox) -> None:
    guild = sandbox.add_guild()
    alice = sandbox.add_member(guild, "alice")
    chat = sandbox.add_text_channel(guild, "chat")
    seen: list[str] = []
    resumed = asyncio.Event()
    client = discord.Client(intents=all_intents(), guild_ready_timeout=0.05)

    @client.event
    async def on_message(message: discord.Message) -> None:
        seen.append(message.content)

    @client.event
    async def on_resumed() -> None:
        resumed.set()

    task = await start_client(client, sandbox.token)
    try:
        alice.say(chat, "before")
        await sandbox.async_wait_until(lambda: seen == ["before"])
        sandbox.drop_gateway()
        # Sent while the bot is disconnected: queued in the session and replayed on RESUME.
        for i in range(5):
            alice.say(chat, f"during {i}")
        await asyncio.wait_for(resumed.wait(), 5)
        alice.say(chat, "after")
        await sandbox.async_wait_until(lambda: len(seen) == 7)
        assert seen == ["before", *[f"during {i}" for i in range(5)], "after"]
        assert sandbox.identifies == 1 and sandbox.resumes == 1
        assert sandbox.gateway_connections == 2
    finally:
        await stop_client(client, task)


def test_aborted_tcp_connection_also_resumes(sandbox: DiscordSandbox) -> None:
    asyncio.run(_aborted_tcp_connection_also_resumes(sandbox))


async def _aborted_tcp_connection_also_resumes(sandbox: DiscordSandbox) -> None:
    guild = sandbox.add_guild()
    alice = sandbox.add_member(guild, "alice")
    chat = sandbox.add_text_channel(guild, "chat")
    seen: list[str] = []
    client = discord.Client(intents=all_intents(), guild_ready_timeout=0.05)

    @client.event
    async def on_message(message: discord.Message) -> None:
        seen.append(message.content)

    task = await start_client(client, sandbox.token)
    try:
        sandbox.drop_gateway(abort=True)
        alice.say(chat, "lost?")
        await sandbox.async_wait_until(lambda: seen == ["lost?"], 10)
        assert sandbox.resumes == 1 and sandbox.identifies == 1
    finally:
        await stop_client(client, task)


def test_invalidated_session_identifies_again(sandbox: DiscordSandbox) -> None:
    asyncio.run(_invalidated_session_identifies_again(sandbox))


async def _invalidated_session_identifies_again(sandbox: DiscordSandbox) -> None:
    guild = sandbox.add_guild()
    sandbox.add_member(guild, "alice")

    class QuickClient(discord.Client):
        async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
            pass  # discord.py waits 5s before re-identifying (Discord's identify limit); shrink it

    client = QuickClient(intents=all_intents(), guild_ready_timeout=0.05)
    task = await start_client(client, sandbox.token)
    try:
        sandbox.invalidate_sessions()
        sandbox.drop_gateway()
        await sandbox.async_wait_until(lambda: sandbox.identifies == 2, 10)
        await sandbox.async_wait_until(lambda: client.is_ready() and client.get_guild(guild.id) is not None)
        assert sandbox.resumes == 0
    finally:
        await stop_client(client, task)


def test_voice_and_channel_and_member_events_update_the_cache(sandbox: DiscordSandbox) -> None:
    asyncio.run(_voice_and_channel_and_member_events_update_the_cache(sandbox))


async def _voice_and_channel_and_member_events_update_the_cache(sandbox: DiscordSandbox) -> None:
    guild = sandbox.add_guild()
    alice = sandbox.add_member(guild, "alice")
    main = sandbox.add_voice_channel(guild, "Main")
    client = discord.Client(intents=all_intents(), guild_ready_timeout=0.05)
    task = await start_client(client, sandbox.token)
    try:
        cached = client.get_guild(guild.id)
        alice.join_voice(main)
        await sandbox.async_wait_until(lambda: cached.get_member(alice.id).voice is not None)
        room = await cached.create_voice_channel("Room 1")
        await cached.get_member(alice.id).move_to(room)
        assert sandbox.voice_channel_of(alice).id == room.id
        await sandbox.async_wait_until(lambda: cached.get_member(alice.id).voice.channel.id == room.id)
        role = sandbox.add_role(guild, "Facilitators")
        sandbox.give_role(alice, role)
        await sandbox.async_wait_until(lambda: any(r.id == role.id for r in cached.get_member(alice.id).roles))
        await room.delete()
        await sandbox.async_wait_until(lambda: cached.get_channel(room.id) is None and cached.get_member(alice.id).voice is None)
        assert sandbox.voice_channel_of(alice) is None  # deleting a voice channel disconnects its members
    finally:
        await stop_client(client, task)


def test_moving_a_member_not_in_voice_is_refused(sandbox: DiscordSandbox) -> None:
    asyncio.run(_moving_a_member_not_in_voice_is_refused(sandbox))


async def _moving_a_member_not_in_voice_is_refused(sandbox: DiscordSandbox) -> None:
    guild = sandbox.add_guild()
    alice = sandbox.add_member(guild, "alice")
    room = sandbox.add_voice_channel(guild, "Room")
    client = discord.Client(intents=all_intents(), guild_ready_timeout=0.05)
    task = await start_client(client, sandbox.token)
    try:
        with pytest.raises(discord.HTTPException) as err:
            await client.get_guild(guild.id).get_member(alice.id).move_to(client.get_channel(room.id))
        assert err.value.code == 40032
    finally:
        await stop_client(client, task)


def test_sandboxes_bind_distinct_free_ports() -> None:
    with DiscordSandbox() as a, DiscordSandbox() as b:
        assert a.port and b.port and a.port != b.port
        assert a.token != b.token


def test_start_and_stop_are_quick() -> None:
    started = time.monotonic()
    with DiscordSandbox() as sb:
        assert sb.rest_base.endswith("/api/v10")
    assert time.monotonic() - started < 2.0
    assert P.ADMINISTRATOR == 8


def test_member_chunks_on_request(sandbox: DiscordSandbox) -> None:
    asyncio.run(_member_chunks_on_request(sandbox))


async def _member_chunks_on_request(sandbox: DiscordSandbox) -> None:
    guild = sandbox.add_guild()
    for name in ("alice", "albert", "bob"):
        sandbox.add_member(guild, name)
    client = discord.Client(intents=all_intents(), guild_ready_timeout=0.05)
    task = await start_client(client, sandbox.token)
    try:
        g = client.get_guild(guild.id)
        found = await g.query_members("al", limit=10)  # op 8 REQUEST_GUILD_MEMBERS -> GUILD_MEMBERS_CHUNK
        assert sorted(m.name for m in found) == ["albert", "alice"]
        everyone = await g.chunk()
        assert {m.name for m in everyone} == {"breakout-bot", "owner", "alice", "albert", "bob"}
    finally:
        await stop_client(client, task)


def test_reactions_reach_a_client_with_the_reactions_intent_only(sandbox: DiscordSandbox) -> None:
    guild = sandbox.add_guild()
    alice = sandbox.add_member(guild, "alice")
    bob = sandbox.add_member(guild, "bob")
    chat = sandbox.add_text_channel(guild, "chat")
    seen: list[tuple[str, str, int, int | None]] = []
    said: list[str] = []

    class Watcher(discord.Client):
        async def on_message(self, message: discord.Message) -> None:
            said.append(message.content)

        async def on_raw_reaction_add(self, event: discord.RawReactionActionEvent) -> None:
            seen.append(("add", str(event.emoji), event.user_id, event.member.id if event.member else None))

        async def on_raw_reaction_remove(self, event: discord.RawReactionActionEvent) -> None:
            seen.append(("remove", str(event.emoji), event.user_id, event.member.id if event.member else None))

    with ClientThread(Watcher(intents=all_intents(), guild_ready_timeout=0.05), sandbox.token) as runner:
        message = alice.say(chat, "react to me")
        bob.react(message, "⭐")
        bob.react(message, "⭐")  # once per person and emoji: no second event
        alice.react(message, "🚫")
        bob.unreact(message, "⭐")
        sandbox.wait_until(lambda: len(seen) >= 3, what="the reaction events")
        assert seen == [("add", "⭐", bob.id, bob.id), ("add", "🚫", alice.id, alice.id), ("remove", "⭐", bob.id, None)]
        fetched = runner.call(runner.client.get_channel(chat.id).fetch_message(message.id))  # type: ignore[union-attr]
        assert [(str(r.emoji), r.count) for r in fetched.reactions] == [("🚫", 1)]

    seen.clear()
    intents = all_intents()
    intents.guild_reactions = False
    with ClientThread(Watcher(intents=intents, guild_ready_timeout=0.05), sandbox.token):
        bob.react(alice.say(chat, "and me"), "⭐")
        alice.say(chat, "a message after the reaction")  # events arrive in order: this one comes after it
        sandbox.wait_until(lambda: "a message after the reaction" in said, what="the message after the reaction")
        assert seen == []
