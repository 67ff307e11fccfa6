"""Messages and their history: posts, replies, edits, deletions, DMs, attachments and reactions.

Ephemeral messages are stored (the person they were for can see them) but never reach the gateway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import model as m
from .dispatch import GatewayDispatch
from .gateway import Intents
from .members import SandboxError
from .records import APPLICATION_COMMAND, InteractionRecord

if TYPE_CHECKING:
    from .members import SimMember


class Messages(GatewayDispatch):
    """Every message in every channel, in order, with what each change dispatches."""

    def messages(
        self, channel: m.Channel, *, include_ephemeral: bool = False, include_deleted: bool = False
    ) -> list[m.Message]:
        with self.lock:
            out = [self._messages[i] for i in self._by_channel.get(channel.id, [])]
        return [x for x in out if (include_deleted or not x.deleted) and (include_ephemeral or x.ephemeral_for is None)]

    def bot_messages(self, channel: m.Channel) -> list[m.Message]:
        return [x for x in self.messages(channel) if x.author.id == self.bot_user.id]

    def all_messages(self) -> list[m.Message]:
        with self.lock:
            return list(self._messages.values())

    def dm_messages(self, member: SimMember) -> list[m.Message]:
        with self.lock:
            chans = [
                c for c in self.channels.values() if c.type == m.DM and any(u.id == member.id for u in c.recipients)
            ]
        return [x for c in chans for x in self.messages(c)]

    # ------------------------------------------------------------------ changes (REST and members)

    def _dm_channel(self, user: m.User) -> m.Channel:
        with self.lock:
            for ch in self.channels.values():
                if ch.type == m.DM and ch.recipients and ch.recipients[0].id == user.id:
                    return ch
            ch = m.Channel(id=m.snowflake(), type=m.DM, name="", recipients=[user])
            self.channels[ch.id] = ch
            self._by_channel[ch.id] = []
            return ch

    def _attachments(
        self, files: list[tuple[str, str, bytes, str | None]], payload: dict[str, Any]
    ) -> list[m.Attachment]:
        out = []
        for _field, filename, data, ctype in files:
            att = m.Attachment(m.snowflake(), filename, data, ctype)
            att.url = f"{self.base_url}/attachments/{att.id}/{filename}"
            self.attachments[att.id] = att
            out.append(att)
        return out

    def _new_message(
        self,
        channel: m.Channel,
        author: m.User,
        payload: dict[str, Any],
        files: list[tuple[str, str, bytes, str | None]],
        *,
        flags: int = 0,
        ephemeral_for: int | None = None,
        interaction: InteractionRecord | None = None,
    ) -> m.Message:
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        content = payload.get("content") or ""
        allowed = payload.get("allowed_mentions")
        msg = m.Message(
            id=m.snowflake(),
            channel_id=channel.id,
            author=author,
            content=content,
            guild_id=channel.guild_id,
            embeds=list(payload.get("embeds") or []),
            components=list(payload.get("components") or []),
            attachments=self._attachments(files, payload),
            flags=flags | (int(payload.get("flags") or 0) & ~m.FLAG_EPHEMERAL),
            allowed_mentions=allowed,
            pings=m.compute_pings(content, allowed, guild),
            nonce=payload.get("nonce"),
            ephemeral_for=ephemeral_for,
        )
        if ephemeral_for is not None:
            msg.flags |= m.FLAG_EPHEMERAL
        if interaction is not None:
            msg.webhook_id = self.application_id
            msg.application_id = self.application_id
            msg.interaction_id = interaction.id
            msg.type = 20 if interaction.type == APPLICATION_COMMAND else 0
            msg.interaction_metadata = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": self._user_payload(interaction.user_id),
                "authorizing_integration_owners": {"0": str(interaction.guild_id)} if interaction.guild_id else {},
            }
        self._messages[msg.id] = msg
        self._by_channel.setdefault(channel.id, []).append(msg.id)
        channel.last_message_id = msg.id
        return msg

    def _post_message(
        self,
        channel: m.Channel,
        author: m.User,
        payload: dict[str, Any],
        files: list[Any],
        *,
        reply_to: m.Message | None = None,
    ) -> m.Message:
        if reply_to is None and isinstance(payload.get("message_reference"), dict):
            with self.lock:
                reply_to = self._messages.get(int(payload["message_reference"].get("message_id", 0)))
        with self.lock:
            msg = self._new_message(channel, author, payload, files)
            if reply_to is not None:
                msg.reference, msg.type = reply_to, 19  # REPLY
        self._dispatch_message("MESSAGE_CREATE", msg)
        return msg

    def _edit_message(self, msg: m.Message, payload: dict[str, Any], files: list[Any]) -> None:
        with self.lock:
            guild = self.guilds.get(msg.guild_id) if msg.guild_id else None
            if "content" in payload:
                msg.edits.append(msg.content)
                msg.content = payload["content"] or ""
                msg.allowed_mentions = payload.get("allowed_mentions", msg.allowed_mentions)
                msg.pings = m.compute_pings(msg.content, msg.allowed_mentions, guild)
            if "embeds" in payload:
                msg.embeds = list(payload["embeds"] or [])
            if "components" in payload:
                msg.components = list(payload["components"] or [])
            if "attachments" in payload or files:
                keep = {
                    int(a["id"])
                    for a in payload.get("attachments") or []
                    if "id" in a and str(a["id"]).isdigit() and int(a["id"]) > 100
                }
                msg.attachments = [a for a in msg.attachments if a.id in keep] + self._attachments(files, payload)
            msg.flags &= ~m.FLAG_LOADING
            msg.edited_timestamp = m.iso_now()
        self._dispatch_message("MESSAGE_UPDATE", msg)

    def _delete_message(self, msg: m.Message) -> None:
        with self.lock:
            msg.deleted = True
            data: dict[str, Any] = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            if msg.guild_id:
                data["guild_id"] = str(msg.guild_id)
        if msg.ephemeral_for is None:
            intent = Intents.GUILD_MESSAGES if msg.guild_id else Intents.DIRECT_MESSAGES
            self._dispatch_guild_event("MESSAGE_DELETE", data, intent)

    def _bulk_delete(self, channel: m.Channel, msgs: list[m.Message]) -> None:
        with self.lock:
            for msg in msgs:
                msg.deleted = True
            data = {"ids": [str(x.id) for x in msgs], "channel_id": str(channel.id), "guild_id": str(channel.guild_id)}
        self._dispatch_guild_event("MESSAGE_DELETE_BULK", data, Intents.GUILD_MESSAGES)

    # ------------------------------------------------------------------ reactions

    def _react(self, who: SimMember, message: m.Message, emoji: str, *, added: bool) -> None:
        """A member's reaction (Discord API "Message Reaction Add/Remove"): reacting needs Read Message
        History, and Add Reactions for an emoji nobody has used on the message yet."""
        channel = self._channel(message.channel_id)
        if message.deleted or message.ephemeral_for is not None:
            raise SandboxError("nobody can react to a deleted or ephemeral message")
        if channel.type != m.DM:
            if not self.can(who, channel, m.P.VIEW_CHANNEL | m.P.READ_MESSAGE_HISTORY):
                raise SandboxError(f"{who.name} cannot react in #{channel.name}")
            if added and emoji not in message.reactions and not self.can(who, channel, m.P.ADD_REACTIONS):
                raise SandboxError(f"{who.name} may not add new reactions in #{channel.name}")
        with self.lock:
            users = message.reactions.setdefault(emoji, [])
            if added == (who.id in users):
                if not users:
                    message.reactions.pop(emoji, None)
                return  # already there / already gone: Discord sends nothing
            if added:
                users.append(who.id)
            else:
                users.remove(who.id)
                if not users:
                    message.reactions.pop(emoji, None)
            data: dict[str, Any] = {
                "user_id": str(who.id),
                "channel_id": str(channel.id),
                "message_id": str(message.id),
                "emoji": {"id": None, "name": emoji},
                "burst": False,
                "type": 0,
            }
            if message.guild_id is not None:
                data["guild_id"] = str(message.guild_id)
                if added:
                    data["member"] = who.member.payload()
            if added:
                data["message_author_id"] = str(message.author.id)
                data["burst_colors"] = []
        intent = Intents.GUILD_MESSAGE_REACTIONS if message.guild_id else Intents.DIRECT_MESSAGE_REACTIONS
        self._dispatch_guild_event("MESSAGE_REACTION_ADD" if added else "MESSAGE_REACTION_REMOVE", data, intent)
