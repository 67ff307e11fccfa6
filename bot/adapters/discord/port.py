"""The chat port on Discord: what the core asks (group channels, posts, private words, files).

The core is synchronous and calls from worker threads (the scheduler, the fan-out pool); each call
here runs a coroutine on the bot's event loop with ``asyncio.run_coroutine_threadsafe`` and waits.
Calling from the loop itself would deadlock, so that raises instead.

Per breakout: a category "Breakout · <title>" with one text channel per group, visible only to the
group, the facilitators and the bot (permission overwrites); when the plan asks, one voice channel
per group too, and the people in the main call are moved in at the start and back at the end.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import logging
import secrets
import threading
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from bot.services.port import (
    ChannelLeftOver,
    ChatError,
    ConsentOption,
    ConsentPrompt,
    Delivery,
    GroupChannelRequest,
    Outgoing,
)

from .people import Roles
from .text import NO_MENTIONS, for_discord, heading
from .views import consent_view

if TYPE_CHECKING:
    from .client import BreakoutBot

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_CONTENT = 2000
CATEGORY_PREFIX = "Breakout · "
CATEGORY_LIMIT = 50  # channels per category (Discord)
NOT_IN_VOICE = 40032  # "Target user is not connected to voice": they hung up just before the move


def clip(text: str, limit: int = MAX_CONTENT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def post_nonce(key: str) -> str:
    """A nonce for a post key: Discord takes at most 25 characters, so a digest of it."""
    return "p" + hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


def _content(message: Outgoing) -> str:
    body = for_discord(message.text)
    return clip(f"{heading(message.title)}\n{body}" if message.title else body)


def _explain(exc: discord.HTTPException, doing: str) -> ChatError:
    if isinstance(exc, discord.Forbidden):
        return ChatError(
            f"Discord refused to let the bot {doing}: it needs the Manage Channels, Manage Roles, "
            f"Move Members and Send Messages permissions (see deploy/discord.md). ({exc.text or exc.status})"
        )
    if isinstance(exc, discord.NotFound):
        return ChatError(f"Discord could not {doing}: the channel or person no longer exists. ({exc.text})")
    return ChatError(f"Discord could not {doing} ({exc.status}: {exc.text or 'no details'}); try again in a moment.")


def _room_name(request: GroupChannelRequest) -> str:
    """The group's voice room: "Group N", or "Group N · breakout B" when its text channel has a name of
    its breakout's own (another breakout of the same plan runs alongside, in the same categories)."""
    if request.name.startswith(f"breakout-{request.breakout_id}-"):
        return f"Group {request.number} · breakout {request.breakout_id}"
    return f"Group {request.number}"


class DiscordPort:
    platform = "discord"

    def __init__(self, roles: Roles | None = None, *, timeout: float = 120.0) -> None:
        self.roles = roles or Roles()
        self.timeout = timeout
        self.client: BreakoutBot | None = None
        self._breakout_locks: dict[int, asyncio.Lock] = {}
        self._move_locks: dict[int, asyncio.Lock] = {}
        self._deleted: set[int] = set()
        self._placed: dict[int, set[int]] = {}  # category -> channels we made there (the cache lags)
        self._guard = threading.Lock()

    def bind(self, client: BreakoutBot) -> None:
        self.client = client

    # ------------------------------------------------------------------ bridging

    def _run(self, coro: Coroutine[Any, Any, T], doing: str) -> T:
        client = self.client
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        problem: Exception | None = None
        if client is None:
            problem = ChatError("The Discord bot is not connected yet.")
        elif client.is_closed():
            problem = ChatError("The Discord bot is shutting down; this will be retried when it is back.")
        elif running is client.loop:
            problem = RuntimeError("DiscordPort was called on the bot's event loop; call the core via bot.blocking()")
        if problem is not None:
            coro.close()
            raise problem
        assert client is not None
        loop = client.loop

        async def guarded() -> T:
            await asyncio.wait_for(client.wait_until_ready(), self.timeout)
            return await coro

        future = asyncio.run_coroutine_threadsafe(guarded(), loop)
        try:
            return future.result(self.timeout)
        except discord.HTTPException as exc:
            raise _explain(exc, doing) from exc
        except TimeoutError as exc:
            future.cancel()
            raise ChatError(f"Discord did not answer in time when the bot tried to {doing}.") from exc

    def _lock(self, breakout_id: int) -> asyncio.Lock:
        with self._guard:
            return self._breakout_locks.setdefault(breakout_id, asyncio.Lock())

    def _moves(self, guild_id: int) -> asyncio.Lock:
        """Moves share one rate-limit bucket per server, so sending them one at a time costs no
        throughput, and keeps discord.py from over-sending the bucket (its 429 retries bypass its
        own token count, so parallel senders trip the limit in every window)."""
        with self._guard:
            return self._move_locks.setdefault(guild_id, asyncio.Lock())

    async def _move(self, member: discord.Member, channel: discord.VoiceChannel, reason: str) -> None:
        async with self._moves(member.guild.id):
            await member.move_to(channel, reason=reason)

    # ------------------------------------------------------------------ the port

    def open_group_channel(self, request: GroupChannelRequest) -> str:
        return self._run(self._open_group_channel(request), f"make the channel for group {request.number}")

    def post(self, *, channel_id: str, message: Outgoing) -> Delivery:
        return self._run(self._post(int(channel_id), message), "post in a group channel")

    def find_post(self, *, channel_id: str, key: str, message: Outgoing, since: dt.datetime) -> Delivery | None:
        return self._run(self._find_post(int(channel_id), key, message, since), "check the group channel's history")

    def tell(
        self,
        *,
        user_id: str,
        text: str,
        channel_id: str | None = None,
        consent_options: Sequence[ConsentOption] = (),
        breakout_id: int | None = None,
    ) -> None:
        self._run(
            self.tell_async(
                int(user_id),
                text,
                channel_id=int(channel_id) if channel_id else None,
                consent_options=consent_options,
                breakout_id=breakout_id,
            ),
            "send a private message",
        )

    def ask_consent(self, *, user_id: str, channel_id: str, prompt: ConsentPrompt) -> None:
        """By direct message with the buttons; in the group channel (addressed, not pinging) when the
        person's DMs are closed."""
        self._run(
            self.tell_async(
                int(user_id),
                prompt.text,
                channel_id=int(channel_id),
                consent_options=prompt.options,
                breakout_id=prompt.breakout_id,
            ),
            "ask how to name someone",
        )

    def send_file(
        self, *, user_id: str, filename: str, content: bytes, title: str, channel_id: str | None = None
    ) -> None:
        self._run(self._send_file(int(user_id), filename, content, title), "send a file")

    def close_group_channel(self, *, channel_id: str, request: GroupChannelRequest, archive: bool) -> None:
        self._run(
            self._close_group_channel(int(channel_id), request, archive), f"close the channel of group {request.number}"
        )

    # ------------------------------------------------------------------ on the loop

    async def _channel(self, channel_id: int) -> discord.abc.GuildChannel | discord.abc.PrivateChannel | discord.Thread:
        assert self.client is not None
        return self.client.get_channel(channel_id) or await self.client.fetch_channel(channel_id)

    async def _members(self, guild: discord.Guild, ids: Sequence[str]) -> list[discord.Member]:
        out = []
        for uid in dict.fromkeys(ids):
            member = guild.get_member(int(uid))
            if member is None:
                try:
                    member = await guild.fetch_member(int(uid))
                except discord.NotFound:
                    log.warning("member %s left guild %s before the breakout", uid, guild.id)
                    continue
            out.append(member)
        return out

    def _overwrites(
        self, guild: discord.Guild, people: Sequence[discord.Member], *, voice: bool = False
    ) -> dict[discord.Role | discord.Member | discord.Object, discord.PermissionOverwrite]:
        allowed = discord.PermissionOverwrite(
            view_channel=True, send_messages=True, read_message_history=True, connect=True if voice else None
        )
        overwrites: dict[discord.Role | discord.Member | discord.Object, discord.PermissionOverwrite] = {
            guild.default_role: discord.PermissionOverwrite(view_channel=False, connect=False if voice else None),
            guild.me: discord.PermissionOverwrite(
                view_channel=True,
                send_messages=True,
                read_message_history=True,
                embed_links=True,
                attach_files=True,
                manage_channels=True,
                connect=True if voice else None,
                move_members=True if voice else None,
            ),
        }
        for role in self.roles.facilitator_roles(guild):
            overwrites[role] = allowed
        for person in people:
            overwrites[person] = allowed
        return overwrites

    def _breakout_categories(self, guild: discord.Guild, request: GroupChannelRequest) -> list[discord.CategoryChannel]:
        base = clip(f"{CATEGORY_PREFIX}{request.breakout_title}", 94)
        names = {base} | {f"{base} ({n})" for n in range(2, 21)}
        return [c for c in guild.categories if c.name in names and c.id not in self._deleted]

    def _filled(self, category: discord.CategoryChannel) -> int:
        ids = {c.id for c in category.channels} | self._placed.get(category.id, set())
        return len(ids - self._deleted)

    async def _category(
        self, guild: discord.Guild, request: GroupChannelRequest, needed: int
    ) -> discord.CategoryChannel:
        """The breakout's category with room for ``needed`` more channels: Discord allows 50 per
        category, so a big call spills into "Breakout · <title> (2)" and so on."""
        base = clip(f"{CATEGORY_PREFIX}{request.breakout_title}", 94)
        existing = {c.name: c for c in self._breakout_categories(guild, request)}
        for n in range(1, 21):
            name = base if n == 1 else f"{base} ({n})"
            category = existing.get(name)
            if category is None:
                overwrites: dict[discord.Role | discord.Member | discord.Object, discord.PermissionOverwrite] = {
                    guild.default_role: discord.PermissionOverwrite(view_channel=False),
                    guild.me: discord.PermissionOverwrite(view_channel=True, manage_channels=True),
                }
                category = await guild.create_category(
                    name, overwrites=overwrites, reason=f"breakout {request.breakout_id}"
                )
                self._placed[category.id] = set()
                return category
            if self._filled(category) + needed <= CATEGORY_LIMIT:
                return category
        raise ChatError("This breakout needs more than 20 full categories of channels; use fewer groups.")

    async def _open_group_channel(self, request: GroupChannelRequest) -> str:
        home = await self._channel(int(request.home_channel))
        guild = getattr(home, "guild", None)
        if guild is None:
            raise ChatError("Breakouts run in a server's text channel, not in a direct message.")
        people = await self._members(guild, [*request.members, *request.facilitators])
        overwrites = self._overwrites(guild, people)
        room_name = _room_name(request)
        async with self._lock(request.breakout_id):  # one breakout's channels are placed one at a time
            categories = self._breakout_categories(guild, request)
            text = next(
                (
                    c
                    for cat in categories
                    for c in cat.text_channels
                    if c.name == request.name and c.id not in self._deleted
                ),
                None,
            )
            room = next(
                (
                    c
                    for cat in categories
                    for c in cat.voice_channels
                    if c.name == room_name and c.id not in self._deleted
                ),
                None,
            )
            call_id = int(request.call_channel) if request.call_channel else None
            topic = clip(request.topic, 1024)
            needed = (text is None) + (request.voice_rooms and room is None)
            category = (
                text.category
                if text is not None and text.category is not None
                else await self._category(guild, request, needed)
            )
            if text is None:
                text = await guild.create_text_channel(
                    request.name,
                    category=category,
                    overwrites=overwrites,
                    topic=topic,
                    reason=f"breakout {request.breakout_id}",
                )
                self._placed.setdefault(category.id, set()).add(text.id)
            elif text.overwrites != overwrites:
                await text.edit(overwrites=overwrites, topic=topic)
            if request.voice_rooms and room is None:
                try:
                    room = await guild.create_voice_channel(
                        room_name,
                        category=category,
                        reason=f"breakout {request.breakout_id}",
                        overwrites=self._overwrites(guild, people, voice=True),
                    )
                except discord.HTTPException as exc:  # the text channel stays known, so the end tidies it
                    raise ChannelLeftOver(
                        str(_explain(exc, f"make the voice room for group {request.number}")), channel_id=str(text.id)
                    ) from exc
                self._placed.setdefault(category.id, set()).add(room.id)
        if request.voice_rooms and room is not None:
            await self._move_in(request, people, room, call_id)
        return str(text.id)

    async def _move_in(
        self,
        request: GroupChannelRequest,
        people: Sequence[discord.Member],
        room: discord.VoiceChannel,
        call_id: int | None,
    ) -> None:
        """The group's people who are in the main call go to their room (facilitators stay; people
        in other voice channels are left alone)."""
        if call_id is None:
            return
        members = set(request.members)
        for person in people:
            if str(person.id) not in members or person.voice is None or person.voice.channel is None:
                continue
            if person.voice.channel.id == call_id:
                await self._move(person, room, f"breakout {request.breakout_id} starts")

    async def _post(self, channel_id: int, message: Outgoing) -> Delivery:
        channel = await self._channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            raise ChatError("That channel cannot take messages.")
        kwargs: dict = {}
        guild = getattr(channel, "guild", None)
        if message.consent_options and message.breakout_id is not None and guild is not None:
            kwargs["view"] = consent_view(message.consent_options, guild_id=guild.id, breakout_id=message.breakout_id)
        # The nonce goes with enforce_nonce (discord.py adds it): for a few minutes Discord answers a
        # repeated nonce with the message it already made instead of making a second. Derived from the
        # post's key, it also covers a retry by another process; without a key, a fresh one per post.
        nonce = post_nonce(message.key) if message.key is not None else str(secrets.randbits(63))
        sent = await channel.send(_content(message), allowed_mentions=NO_MENTIONS, nonce=nonce, **kwargs)
        return Delivery(str(sent.id), str(sent.channel.id))

    async def _find_post(self, channel_id: int, key: str, message: Outgoing, since: dt.datetime) -> Delivery | None:
        """The bot's post in the channel since ``since``. Discord's message objects carry ``nonce`` only
        when it still knows it (the create answer, the gateway event); history read back usually does
        not, so the same content posted by the bot in that time counts as the post."""
        channel = await self._channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            raise ChatError("That channel cannot take messages.")
        assert self.client is not None and self.client.user is not None
        me, nonce, content = self.client.user.id, post_nonce(key), _content(message)
        match: discord.Message | None = None
        async for sent in channel.history(limit=None, after=since, oldest_first=True):
            if sent.author.id != me:
                continue
            if sent.nonce is not None and str(sent.nonce) == nonce:
                return Delivery(str(sent.id), str(channel_id))
            if match is None and sent.nonce is None and sent.content == content:
                match = sent
        return None if match is None else Delivery(str(match.id), str(channel_id))

    async def tell_async(
        self,
        user_id: int,
        text: str,
        *,
        channel_id: int | None = None,
        consent_options: Sequence[ConsentOption] = (),
        breakout_id: int | None = None,
        guild_id: int | None = None,
    ) -> None:
        assert self.client is not None
        kwargs: dict = {}
        if guild_id is None and channel_id is not None:
            channel = self.client.get_channel(channel_id)
            guild_id = getattr(getattr(channel, "guild", None), "id", None)
        if consent_options and breakout_id is not None and guild_id is not None:
            kwargs["view"] = consent_view(consent_options, guild_id=guild_id, breakout_id=breakout_id)
        user = self.client.get_user(user_id) or await self.client.fetch_user(user_id)
        try:
            await user.send(clip(for_discord(text)), allowed_mentions=NO_MENTIONS, **kwargs)
        except discord.Forbidden:
            if channel_id is None:
                raise
            # Their DMs are closed: say it in the channel, addressed but not pinging.
            fallback = await self._channel(channel_id)
            await fallback.send(clip(f"<@{user_id}> {for_discord(text)}"), allowed_mentions=NO_MENTIONS, **kwargs)  # type: ignore[union-attr]

    async def _send_file(self, user_id: int, filename: str, content: bytes, title: str) -> None:
        assert self.client is not None
        user = self.client.get_user(user_id) or await self.client.fetch_user(user_id)
        await user.send(
            for_discord(title), file=discord.File(io.BytesIO(content), filename=filename), allowed_mentions=NO_MENTIONS
        )

    async def _close_group_channel(self, channel_id: int, request: GroupChannelRequest, archive: bool) -> None:
        """Each step on its own: everyone in the voice room back to the call (one who just hung up is
        skipped), the room deleted once it is empty, the text channel made read-only or deleted.
        A step that fails does not stop the others; what failed is raised together, to be tried again
        (every step finds its own state, so a second run does only what is left)."""
        assert self.client is not None
        text = self.client.get_channel(channel_id)
        if isinstance(text, discord.TextChannel):
            guild: discord.Guild | None = text.guild
        else:
            home = self.client.get_channel(int(request.home_channel))
            guild = getattr(home, "guild", None)
        problems: list[str] = []
        if guild is not None:
            problems += await self._close_room(guild, request)
        if isinstance(text, discord.TextChannel) and text.id not in self._deleted:
            try:
                await self._close_text(text, request, archive)
            except discord.NotFound:
                self._deleted.add(text.id)
            except discord.HTTPException as exc:
                problems.append(str(_explain(exc, f"close the channel of group {request.number}")))
        if problems:
            raise ChatError("; ".join(problems))

    async def _close_room(self, guild: discord.Guild, request: GroupChannelRequest) -> list[str]:
        room = next(
            (
                c
                for cat in self._breakout_categories(guild, request)
                for c in cat.voice_channels
                if c.name == _room_name(request) and c.id not in self._deleted
            ),
            None,
        )
        if room is None:
            return []
        problems: list[str] = []
        call = guild.get_channel(int(request.call_channel)) if request.call_channel else None
        if isinstance(call, discord.VoiceChannel):
            for member in list(room.members):
                try:
                    await self._move(member, call, f"breakout {request.breakout_id} ended")
                except discord.HTTPException as exc:
                    if exc.code == NOT_IN_VOICE:
                        continue  # hung up just now: nobody to move back
                    problems.append(str(_explain(exc, f"move {member.display_name} back to the call")))
        if problems:
            return problems  # the room stays until everyone is back: deleting it would cut them off
        try:
            await room.delete(reason=f"breakout {request.breakout_id} ended")
        except discord.NotFound:
            pass
        except discord.HTTPException as exc:
            return [str(_explain(exc, f"delete the voice room of group {request.number}"))]
        self._deleted.add(room.id)
        return []

    async def _close_text(self, text: discord.TextChannel, request: GroupChannelRequest, archive: bool) -> None:
        guild, category = text.guild, text.category
        if archive:
            # Kept for reading: nobody but the bot can post any more.
            overwrites = dict(text.overwrites)
            for target, overwrite in overwrites.items():
                if target != guild.me and target != guild.default_role:
                    overwrite.update(send_messages=False)
            await text.edit(overwrites=overwrites, reason=f"breakout {request.breakout_id} ended")
            return
        await text.delete(reason=f"breakout {request.breakout_id} ended")
        self._deleted.add(text.id)
        if category is not None and self._filled(category) == 0:
            await category.delete(reason=f"breakout {request.breakout_id} ended")
            self._deleted.add(category.id)
