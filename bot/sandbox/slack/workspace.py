"""The state of a simulated Slack workspace and Slack's rules about it.

Everything here is plain data guarded by one lock: the Web API handlers (on the sandbox's event
loop) and the simulated people (on the test's thread) both change it. Rule violations raise
`SlackError` carrying Slack's own error code, which the Web API turns into `{"ok": false}`.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .blocks import MAX_BLOCKS_TEXT, blocks_text_length, validate_blocks


class SlackError(Exception):
    """A Slack Web API error: `code` is what Slack puts in `error`."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


_CHANNEL_NAME = re.compile(r"^[a-z0-9_\-\u00c0-\uffff]+$")
MAX_CHANNEL_NAME = 80
MAX_TEXT = 40_000
MAX_INVITES = 1000


@dataclass
class User:
    id: str
    name: str
    real_name: str
    display_name: str
    first_name: str
    last_name: str
    team_id: str
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    bot_id: str | None = None
    deleted: bool = False
    tz: str = "Europe/London"

    def to_api(self) -> dict[str, Any]:
        profile: dict[str, Any] = {
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.display_name,
            "display_name_normalized": self.display_name,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "team": self.team_id,
        }
        if self.bot_id:
            profile["bot_id"] = self.bot_id
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_primary_owner": self.is_owner,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1_700_000_000,
        }


@dataclass
class Channel:
    id: str
    name: str
    creator: str
    is_private: bool = False
    is_im: bool = False
    im_user: str | None = None
    is_archived: bool = False
    members: list[str] = field(default_factory=list)
    created: int = field(default_factory=lambda: int(time.time()))
    #: Top-level messages and thread replies, in posting order, as Slack message dicts.
    messages: list[dict[str, Any]] = field(default_factory=list)
    #: Messages deleted from the channel, kept for inspection.
    deleted: list[dict[str, Any]] = field(default_factory=list)

    def to_api(self, viewer: str | None = None) -> dict[str, Any]:
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_general": self.name == "general",
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": viewer in self.members if viewer else False,
            "created": self.created,
            "creator": self.creator,
            "unlinked": 0,
            "num_members": len(self.members),
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }

    @property
    def channel_type(self) -> str:
        if self.is_im:
            return "im"
        return "group" if self.is_private else "channel"


@dataclass
class Usergroup:
    id: str
    handle: str
    name: str
    users: list[str]


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    title: str | None = None
    content: bytes | None = None
    completed: bool = False
    channels: list[str] = field(default_factory=list)
    initial_comment: str | None = None
    thread_ts: str | None = None
    #: Who shared it: a simulated person's id; None for the bot's own uploads.
    user: str | None = None
    created: int = field(default_factory=lambda: int(time.time()))
    mimetype: str = "text/plain"
    filetype: str = "text"

    @property
    def text(self) -> str:
        return (self.content or b"").decode("utf-8", errors="replace")


class Ids:
    """Slack-looking ids and strictly increasing message timestamps."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._last_ts = 0.0
        self._lock = threading.Lock()

    def new(self, prefix: str) -> str:
        return f"{prefix}{next(self._counter):08d}X"

    def ts(self) -> str:
        with self._lock:
            now = max(time.time(), self._last_ts + 0.000001)
            self._last_ts = now
            return f"{now:.6f}"


class Workspace:
    """Users, channels, messages, user groups and files of one team."""

    def __init__(self, team_id: str = "T0SANDBOX", team_domain: str = "sandbox") -> None:
        self.lock = threading.RLock()
        self.ids = Ids()
        self.team_id = team_id
        self.team_domain = team_domain
        self.app_id = "A0SANDBOX"
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.usergroups: dict[str, Usergroup] = {}
        self.files: dict[str, UploadedFile] = {}
        #: Ephemeral messages, in order: dicts with user, channel, ts, text, blocks, source.
        self.ephemerals: list[dict[str, Any]] = []
        bot_id = "B0SANDBOX"
        self.bot = User(
            id="U0SANDBOT",
            name="breakout-bot",
            real_name="Breakout Bot",
            display_name="Breakout Bot",
            first_name="",
            last_name="",
            team_id=team_id,
            is_bot=True,
            bot_id=bot_id,
        )
        self.users[self.bot.id] = self.bot

    # -- people and places --------------------------------------------------------------

    def add_user(
        self,
        real_name: str,
        display_name: str | None = None,
        first_name: str | None = None,
        *,
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
        name: str | None = None,
    ) -> User:
        with self.lock:
            parts = real_name.split()
            uid = self.ids.new("U")
            user = User(
                id=uid,
                name=name or re.sub(r"[^a-z0-9]+", ".", real_name.lower()).strip("."),
                real_name=real_name,
                display_name=display_name if display_name is not None else "",
                first_name=first_name if first_name is not None else (parts[0] if parts else ""),
                last_name=" ".join(parts[1:]),
                team_id=self.team_id,
                is_admin=is_admin or is_owner,
                is_owner=is_owner,
                is_bot=is_bot,
                bot_id=self.ids.new("B") if is_bot else None,
            )
            self.users[uid] = user
            return user

    def add_channel(
        self, name: str, members: list[str] | None = None, *, is_private: bool = False, creator: str | None = None
    ) -> Channel:
        with self.lock:
            check_channel_name(name)
            if self.find_channel_by_name(name) is not None:
                raise SlackError("name_taken")
            cid = self.ids.new("C")
            channel = Channel(id=cid, name=name, creator=creator or "", is_private=is_private)
            for uid in members or []:
                self.user(uid)
                if uid not in channel.members:
                    channel.members.append(uid)
            self.channels[cid] = channel
            return channel

    def add_usergroup(self, handle: str, members: list[str]) -> Usergroup:
        with self.lock:
            gid = self.ids.new("S")
            group = Usergroup(id=gid, handle=handle, name=handle, users=list(members))
            self.usergroups[gid] = group
            return group

    def dm_channel(self, user_id: str) -> Channel:
        """The bot's direct-message conversation with a person, made on first use."""
        with self.lock:
            for channel in self.channels.values():
                if channel.is_im and channel.im_user == user_id:
                    return channel
            self.user(user_id)
            cid = self.ids.new("D")
            channel = Channel(
                id=cid, name=cid, creator=self.bot.id, is_im=True, im_user=user_id, members=[user_id, self.bot.id]
            )
            self.channels[cid] = channel
            return channel

    # -- lookups that raise Slack's errors -------------------------------------------------

    def user(self, user_id: str) -> User:
        try:
            return self.users[user_id]
        except KeyError:
            raise SlackError("user_not_found") from None

    def find_channel_by_name(self, name: str) -> Channel | None:
        name = name.lstrip("#")
        for channel in self.channels.values():
            if not channel.is_im and channel.name == name:
                return channel
        return None

    def channel(self, ref: str, *, viewer: str | None = None) -> Channel:
        """Resolve a channel id (or `#name`, or a user id meaning the DM) the way the API does.

        Private channels the viewer is not in do not exist as far as the viewer can tell.
        """
        channel = self.channels.get(ref)
        if channel is None and ref.startswith(("U", "W")) and ref in self.users:
            channel = self.dm_channel(ref)
        if channel is None and not ref.startswith(("C", "D", "G")):
            channel = self.find_channel_by_name(ref)
        if channel is None:
            raise SlackError("channel_not_found")
        if viewer and (channel.is_private or channel.is_im) and viewer not in channel.members:
            raise SlackError("channel_not_found")
        return channel

    def message(self, channel: Channel, ts: str) -> dict[str, Any]:
        for msg in channel.messages:
            if msg["ts"] == ts:
                return msg
        raise SlackError("message_not_found")

    # -- channel operations ----------------------------------------------------------------

    def create_channel(self, name: str, *, is_private: bool, creator: str) -> Channel:
        with self.lock:
            return self.add_channel(name, [creator], is_private=is_private, creator=creator)

    def join(self, channel: Channel, user_id: str, *, inviter: str | None = None) -> dict[str, Any] | None:
        """Add a member; return the `channel_join` message Slack posts, if one was posted."""
        with self.lock:
            if user_id in channel.members:
                return None
            channel.members.append(user_id)
            if channel.is_im:
                return None
            msg: dict[str, Any] = {
                "type": "message",
                "subtype": "channel_join",
                "ts": self.ids.ts(),
                "user": user_id,
                "text": f"<@{user_id}> has joined the channel",
                "team": self.team_id,
            }
            if inviter:
                msg["inviter"] = inviter
            channel.messages.append(msg)
            return msg

    # -- messages --------------------------------------------------------------------------

    def new_message(
        self,
        channel: Channel,
        author: User,
        *,
        text: str | None,
        blocks: list[dict[str, Any]] | None,
        thread_ts: str | None = None,
        client_msg_id: str | None = None,
        allow_empty: bool = False,
    ) -> dict[str, Any]:
        with self.lock:
            if not (allow_empty and not text and not blocks):
                check_message_content(text, blocks)
            msg: dict[str, Any] = {"type": "message", "text": text or "", "user": author.id, "ts": self.ids.ts()}
            msg["team"] = self.team_id
            if author.is_bot:
                msg["bot_id"] = author.bot_id
                msg["app_id"] = self.app_id
                msg["bot_profile"] = {
                    "id": author.bot_id,
                    "app_id": self.app_id,
                    "name": author.real_name,
                    "deleted": False,
                    "team_id": self.team_id,
                }
            elif client_msg_id:
                msg["client_msg_id"] = client_msg_id
            if blocks is not None:
                msg["blocks"] = with_block_ids(blocks)
            elif not author.is_bot and text:
                msg["blocks"] = [rich_text_block(text)]
            if thread_ts:
                parent = self.message(channel, thread_ts) if thread_ts else None
                if parent is not None and parent.get("thread_ts") not in (None, parent["ts"]):
                    # A reply to a reply joins the parent's thread, like Slack does.
                    thread_ts = parent["thread_ts"]
                    parent = self.message(channel, thread_ts)
                msg["thread_ts"] = thread_ts
                msg["parent_user_id"] = parent["user"] if parent else None
                if parent is not None:
                    parent["thread_ts"] = thread_ts
                    parent["reply_count"] = parent.get("reply_count", 0) + 1
                    parent["latest_reply"] = msg["ts"]
                    users = parent.setdefault("reply_users", [])
                    if author.id not in users:
                        users.append(author.id)
            channel.messages.append(msg)
            return msg

    def edit_message(
        self, channel: Channel, ts: str, editor: User, *, text: str | None, blocks: list[dict[str, Any]] | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Change a message in place; return (previous copy, message now)."""
        with self.lock:
            msg = self.message(channel, ts)
            if msg.get("user") != editor.id:
                raise SlackError("cant_update_message")
            check_message_content(text if text is not None else msg.get("text"), blocks)
            previous = dict(msg)
            if text is not None:
                msg["text"] = text
            if blocks is not None:
                msg["blocks"] = with_block_ids(blocks)
            elif not editor.is_bot and text is not None:
                msg["blocks"] = [rich_text_block(text)]
            msg["edited"] = {"user": editor.id, "ts": self.ids.ts()}
            return previous, msg

    def delete_message(self, channel: Channel, ts: str, deleter: User) -> dict[str, Any]:
        with self.lock:
            msg = self.message(channel, ts)
            if msg.get("user") != deleter.id and not deleter.is_admin:
                raise SlackError("cant_delete_message")
            if msg.get("reply_count"):
                # A thread's parent with replies leaves a tombstone, as on Slack: the replies stay.
                index = channel.messages.index(msg)
                channel.messages[index] = tombstone_of(msg)
            else:
                channel.messages.remove(msg)
            channel.deleted.append(msg)
            return msg

    def share_file(
        self,
        channel: Channel,
        author: User,
        *,
        filename: str,
        content: bytes,
        title: str | None = None,
        mimetype: str = "text/plain",
        filetype: str = "text",
        text: str = "",
    ) -> tuple[UploadedFile, dict[str, Any]]:
        """A person uploads a file into a channel: the file, and the message that carries it."""
        with self.lock:
            if author.id not in channel.members:
                raise SlackError("not_in_channel")
            fid = self.ids.new("F")
            f = UploadedFile(
                id=fid,
                filename=filename,
                length=len(content),
                title=title or filename,
                content=content,
                completed=True,
                channels=[channel.id],
                user=author.id,
                mimetype=mimetype,
                filetype=filetype,
            )
            # A message carrying a file: Slack's clients send it as an ordinary message with `files`.
            msg = self.new_message(channel, author, text=text, blocks=None, allow_empty=True)
            msg["upload"] = True
            msg["display_as_bot"] = False
            msg["subtype"] = "file_share"
            self.files[fid] = f
            return f, msg

    def react(self, channel: Channel, ts: str, user: User, name: str, *, added: bool) -> dict[str, Any]:
        """Add (or take back) one person's reaction on a message; Slack's errors for doing it twice."""
        with self.lock:
            msg = self.message(channel, ts)
            reactions: list[dict[str, Any]] = msg.setdefault("reactions", [])
            entry = next((r for r in reactions if r["name"] == name), None)
            if added:
                if entry is not None and user.id in entry["users"]:
                    raise SlackError("already_reacted")
                if entry is None:
                    entry = {"name": name, "users": [], "count": 0}
                    reactions.append(entry)
                entry["users"].append(user.id)
            else:
                if entry is None or user.id not in entry["users"]:
                    raise SlackError("no_reaction")
                entry["users"].remove(user.id)
            entry["count"] = len(entry["users"])
            if not entry["users"]:
                reactions.remove(entry)
            if not reactions:
                msg.pop("reactions")
            return msg

    def add_ephemeral(
        self,
        channel: Channel,
        user_id: str,
        *,
        text: str | None,
        blocks: list[dict[str, Any]] | None,
        source: str,
        thread_ts: str | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            entry = {
                "type": "message",
                "user": user_id,
                "channel": channel.id,
                "ts": self.ids.ts(),
                "text": text or "",
                "blocks": blocks or [],
                "source": source,
                "thread_ts": thread_ts,
            }
            self.ephemerals.append(entry)
            return entry


def tombstone_of(msg: dict[str, Any]) -> dict[str, Any]:
    """What Slack leaves of a deleted thread parent (``subtype: tombstone``, by USLACKBOT)."""
    return {
        "type": "message",
        "subtype": "tombstone",
        "text": "This message was deleted.",
        "user": "USLACKBOT",
        "hidden": True,
        "ts": msg["ts"],
        "thread_ts": msg.get("thread_ts") or msg["ts"],
        "parent_user_id": "USLACKBOT",
        "reply_count": msg.get("reply_count", 0),
        "reply_users_count": len(msg.get("reply_users") or []),
        "latest_reply": msg.get("latest_reply"),
        "reply_users": list(msg.get("reply_users") or []),
        "is_locked": False,
        "subscribed": False,
    }


def with_block_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Slack gives every block without a `block_id` a random one when it stores the message."""
    import secrets

    return [b if "block_id" in b else {**b, "block_id": secrets.token_urlsafe(4)} for b in blocks]


def rich_text_block(text: str) -> dict[str, Any]:
    """The rich_text block Slack's clients attach to a typed message."""
    return {
        "type": "rich_text",
        "block_id": f"rt{abs(hash(text)) % 100000:05d}",
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
    }


def check_channel_name(name: str) -> None:
    if not name:
        raise SlackError("invalid_name_required")
    if len(name) > MAX_CHANNEL_NAME:
        raise SlackError("invalid_name_maxlength")
    if re.fullmatch(r"[\-_]+", name):
        raise SlackError("invalid_name_punctuation")
    if not _CHANNEL_NAME.match(name):
        raise SlackError("invalid_name_specials")


def check_message_content(text: str | None, blocks: list[dict[str, Any]] | None) -> None:
    if not text and not blocks:
        raise SlackError("no_text")
    if text and len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")
    if blocks is not None:
        problems = validate_blocks(blocks)
        if problems:
            raise SlackError(
                "invalid_blocks",
                errors=problems,
                response_metadata={"messages": [f"[ERROR] {p}" for p in problems]},
            )
        if blocks_text_length(blocks) > MAX_BLOCKS_TEXT:
            raise SlackError("msg_blocks_too_long")
