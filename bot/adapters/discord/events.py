"""Capture: what people write in the group text channels becomes quotes; edits and deletions follow.

Gateway events are translated into the core's neutral events (``bot.services.events``): message
types, threads and emoji stop here. The core puts the consent prompt to a first-time speaker itself,
through the port. Needs the message content intent (see the README and deploy/discord.md). The quote is committed by
the core before anything else happens; the same message delivered twice (a gateway replay after a
RESUME) is stored once, by its natural key (server, channel, message id).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import discord

from bot.services.events import IncomingMessage, Kind, Meaning

from .people import person_info, workspace_of
from .text import to_neutral

if TYPE_CHECKING:
    from .client import BreakoutBot

log = logging.getLogger(__name__)

CAPTURED_TYPES = {discord.MessageType.default, discord.MessageType.reply}


def _in_order(bot: BreakoutBot, channel_id: int) -> asyncio.Lock:
    """One lock per channel: discord.py runs each event in its own task and the core in worker
    threads, so without it an edit or a deletion could overtake the message it changes. asyncio's
    lock is first come, first served, and each handler asks for it before its first await."""
    locks: dict[int, asyncio.Lock] = bot.__dict__.setdefault("_capture_locks", {})
    return locks.setdefault(channel_id, asyncio.Lock())


def where_captured(bot: BreakoutBot, channel_id: int, channel: object = None) -> tuple[int, str | None]:
    """Messages in a thread belong to the thread's parent channel; the thread's id is its starter message's.
    ``channel``: the channel object when it is at hand (an archived thread read back is not in the cache)."""
    if not isinstance(channel, discord.Thread):
        channel = bot.get_channel(channel_id)
    if isinstance(channel, discord.Thread) and channel.parent_id is not None:
        return channel.parent_id, str(channel.id)
    return channel_id, None


def _neutral(bot: BreakoutBot, content: str) -> str:
    def channel_name(cid: int) -> str | None:
        channel = bot.get_channel(cid)
        return getattr(channel, "name", None)

    return to_neutral(content, channel_name=channel_name)


def said(bot: BreakoutBot, message: discord.Message) -> IncomingMessage | None:
    """A person's message in a server as a neutral event (new, or a reply); ``None`` for anything else."""
    if message.guild is None or message.author.bot or message.webhook_id is not None:
        return None  # the bot's own posts and other bots' come back here too: never quotes
    if message.type not in CAPTURED_TYPES:
        return None
    channel_id, thread_id = where_captured(bot, message.channel.id, message.channel)
    if thread_id is None and message.reference is not None and message.reference.message_id:
        thread_id = str(message.reference.message_id)  # a reply to a question belongs to that question
    return IncomingMessage(
        kind=Kind.REPLY if thread_id else Kind.NEW,
        workspace=workspace_of(message.guild.id),
        channel_id=str(channel_id),
        message_id=str(message.id),
        author=person_info(message.author),
        text=_neutral(bot, message.content),
        at=message.created_at,
        thread_id=thread_id,
        edited_at=message.edited_at,  # read back after an edit: the quote keeps the edit's time
    )


async def _receive(bot: BreakoutBot, channel_id: int, event: IncomingMessage, doing: str) -> None:
    """Hand one event to the core, in its channel's order; a failure is logged with what it was."""
    try:
        async with _in_order(bot, channel_id):
            await bot.blocking(bot.app.capture.receive, event)
    except Exception:
        log.exception("%s %s in %s failed", doing, event.message_id, channel_id)


async def on_message(bot: BreakoutBot, message: discord.Message) -> None:
    event = said(bot, message)
    if event is not None:
        await _receive(bot, int(event.channel_id), event, "capturing message")


async def on_raw_message_edit(bot: BreakoutBot, event: discord.RawMessageUpdateEvent) -> None:
    data = event.data
    if event.guild_id is None or "content" not in data or data.get("author", {}).get("bot"):
        return  # embeds resolving also arrive as edits, without content
    channel_id, _ = where_captured(bot, event.channel_id)
    edited = data.get("edited_timestamp")
    incoming = IncomingMessage(
        kind=Kind.EDITED,
        workspace=workspace_of(event.guild_id),
        channel_id=str(channel_id),
        message_id=str(event.message_id),
        text=_neutral(bot, data["content"]),
        edited_at=dt.datetime.fromisoformat(edited) if edited else None,  # an older edit retried loses
    )
    await _receive(bot, channel_id, incoming, "applying the edit of message")


def _deleted(guild_id: int, channel_id: int, message_id: int | str) -> IncomingMessage:
    return IncomingMessage(
        kind=Kind.DELETED, workspace=workspace_of(guild_id), channel_id=str(channel_id), message_id=str(message_id)
    )


async def on_raw_message_delete(bot: BreakoutBot, event: discord.RawMessageDeleteEvent) -> None:
    if event.guild_id is None:
        return
    channel_id, _ = where_captured(bot, event.channel_id)
    await _receive(
        bot, channel_id, _deleted(event.guild_id, channel_id, event.message_id), "applying the deletion of message"
    )


async def on_raw_bulk_message_delete(bot: BreakoutBot, event: discord.RawBulkMessageDeleteEvent) -> None:
    if event.guild_id is None:
        return
    channel_id, _ = where_captured(bot, event.channel_id)
    for message_id in event.message_ids:
        await _receive(
            bot, channel_id, _deleted(event.guild_id, channel_id, message_id), "applying the deletion of message"
        )


#: The reactions that mean something to the write-up; all others cost nothing.
MEANINGS: dict[str, Meaning] = {
    "⭐": Meaning.HIGHLIGHT,
    "🌟": Meaning.HIGHLIGHT,
    "🚫": Meaning.LEAVE_OUT,
    "⛔": Meaning.LEAVE_OUT,
}


def meaning_of(emoji: discord.PartialEmoji) -> Meaning | None:
    """Unicode only: a server's custom emoji called "star" is not ⭐."""
    if emoji.is_custom_emoji() or not emoji.name:
        return None
    return MEANINGS.get(emoji.name.replace("\ufe0f", ""))


async def on_raw_reaction(bot: BreakoutBot, event: discord.RawReactionActionEvent) -> None:
    """⭐ from a facilitator or organiser marks a quote as a highlight; 🚫 from its author takes it out of
    the write-up; taking the reaction back undoes either. Other reactions cost nothing (no lookup, no
    database). What it did is said to the person by DM; a reaction that does not apply is ignored."""
    meaning = meaning_of(event.emoji)
    if meaning is None or event.guild_id is None or event.user_id == getattr(bot.user, "id", None):
        return
    guild = bot.get_guild(event.guild_id)
    member = event.member or (guild.get_member(event.user_id) if guild is not None else None)
    if member is None and guild is not None:
        try:
            member = await guild.fetch_member(event.user_id)
        except discord.HTTPException:
            log.warning("reaction by %s in %s: could not look the member up", event.user_id, event.guild_id)
            return
    if member is None or member.bot:
        return
    actor = bot.roles.actor(member, event.guild_id)
    channel_id, _ = where_captured(bot, event.channel_id)  # capture keys a thread's messages by the parent channel
    try:
        async with _in_order(bot, channel_id):  # after the capture of the message it reacts to
            reply = await bot.blocking(
                bot.app.curation.reaction,
                actor,
                channel_id=str(channel_id),
                message_id=str(event.message_id),
                meaning=meaning,
                added=event.event_type == "REACTION_ADD",
            )
    except Exception:
        log.exception("the %s reaction by %s on %s failed", meaning.value, event.user_id, event.message_id)
        return
    if reply:
        try:
            await bot.port.tell_async(member.id, reply)  # privately or not at all: never in the group channel
        except discord.HTTPException:
            log.info("could not tell %s about their %s reaction (DMs closed?)", member.id, meaning.value)


HISTORY_PAGE = 100
"""Messages per history request when reading back (Discord's maximum)."""
READ_BACK_BOUND = 50_000
"""At most this many messages are read back per group channel (with its threads); hitting it is logged,
and then nothing is deleted there, since the read was not complete."""


async def _stored_message_ids(bot: BreakoutBot, *, workspace: str, channel_id: str, since: dt.datetime) -> set[str]:
    """The message ids of the quotes stored for this channel (and its threads) sent at or after ``since``."""
    return set(
        await bot.blocking(bot.app.capture.stored_message_ids, workspace=workspace, channel_id=channel_id, since=since)
    )


async def _pages(source: discord.abc.Messageable, *, after: dt.datetime, page: int) -> AsyncIterator[discord.Message]:
    """Everything after ``after``, oldest first, ``page`` messages per request, with no cap."""
    cursor: dt.datetime | discord.Message = after
    while True:
        batch = [message async for message in source.history(limit=page, after=cursor, oldest_first=True)]
        for message in batch:
            yield message
        if len(batch) < page:
            return
        cursor = batch[-1]


async def _threads_of(channel: discord.TextChannel) -> list[discord.Thread]:
    """The channel's threads the bot could have captured from: active ones (from the gateway's cache)
    and archived ones, public and joined private (archiving can happen within a long breakout)."""
    threads = {t.id: t for t in channel.threads}
    async for thread in channel.archived_threads(limit=None):
        threads.setdefault(thread.id, thread)
    async for thread in channel.archived_threads(private=True, joined=True, limit=None):
        threads.setdefault(thread.id, thread)
    return list(threads.values())


async def _read_back_one(bot: BreakoutBot, message: discord.Message) -> None:
    """A message read from history: captured as if it had just arrived (idempotent), and an edit made
    while the bot was away applied (the stored text may be the one from before the edit)."""
    await on_message(bot, message)
    if message.edited_at is None or message.author.bot or message.guild is None:
        return
    channel_id, _ = where_captured(bot, message.channel.id, message.channel)
    edit = IncomingMessage(
        kind=Kind.EDITED,
        workspace=workspace_of(message.guild.id),
        channel_id=str(channel_id),
        message_id=str(message.id),
        text=_neutral(bot, message.content),
        edited_at=message.edited_at,
    )
    await _receive(bot, channel_id, edit, "applying on reading back the edit of message")


async def catch_up(bot: BreakoutBot, *, page_size: int = HISTORY_PAGE, bound: int = READ_BACK_BOUND) -> int:
    """Read back what was said in running breakouts' group channels (and their threads) while the bot
    was away (a restart, or a session Discord would not resume): new messages are captured, edits
    applied, and after a complete read of a channel's window (since its breakout started), stored
    quotes whose messages are no longer there (deleted meanwhile) are deleted through the core.
    Capture is idempotent, so repeats are free. Returns how many messages were looked at."""
    seen = 0
    for guild in bot.guilds:
        workspace = workspace_of(guild.id)
        try:
            watch = await bot.blocking(bot.app.capture.channels_to_watch, workspace=workspace)
        except Exception:
            log.exception("finding the channels to catch up in %s failed", guild.id)
            continue
        for channel_id, since in watch:
            channel = bot.get_channel(int(channel_id))
            if not isinstance(channel, discord.TextChannel):
                continue
            seen += await _catch_up_channel(
                bot, workspace, channel, since - dt.timedelta(seconds=1), page_size=page_size, bound=bound
            )
    return seen


async def _catch_up_channel(
    bot: BreakoutBot, workspace: str, channel: discord.TextChannel, after: dt.datetime, *, page_size: int, bound: int
) -> int:
    name = f"#{channel.name}"
    # What is stored is asked first: a quote captured live while reading is not in it, so it cannot
    # be taken for a deleted one; one in it that the complete read does not find was deleted.
    try:
        stored: set[str] | None = await _stored_message_ids(
            bot, workspace=workspace, channel_id=str(channel.id), since=after
        )
    except Exception:
        log.exception("finding the quotes stored for %s failed; reading back without deletions", name)
        stored = None
    there: set[str] = set()
    complete = True
    try:
        sources: list[discord.TextChannel | discord.Thread] = [channel, *await _threads_of(channel)]
        for source in sources:
            async for message in _pages(source, after=after, page=page_size):
                if len(there) >= bound:
                    log.warning(
                        "reading back %s: stopped after %d messages (the bound); later ones are not "
                        "read back and no deletions are applied there",
                        name,
                        bound,
                    )
                    complete = False
                    break
                there.add(str(message.id))
                await _read_back_one(bot, message)
            if not complete:
                break
    except discord.HTTPException:
        log.warning("could not read back %s completely; no deletions applied there", name, exc_info=True)
        complete = False
    if complete and stored:
        gone = sorted(stored - there, key=int)
        for message_id in gone:
            deleted = IncomingMessage(
                kind=Kind.DELETED, workspace=workspace, channel_id=str(channel.id), message_id=message_id
            )
            await _receive(bot, channel.id, deleted, "applying on reading back the deletion of message")
        if gone:
            log.info("reading back %s: %d quote(s) whose messages were deleted meanwhile removed", name, len(gone))
    return len(there)
