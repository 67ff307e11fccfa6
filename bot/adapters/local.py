"""A chat platform in memory: the port for the offline run (``breakout-bot demo --platform local``).

It keeps every channel and private message so a run can be printed or inspected afterwards.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.services.port import ConsentOption, ConsentPrompt, Delivery, GroupChannelRequest, Outgoing


@dataclass
class LocalMessage:
    channel_id: str
    message_id: str
    text: str
    kind: str
    buttons: tuple[str, ...] = ()
    key: str | None = None  # the post's idempotency key, as Slack keeps it in metadata
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


@dataclass
class LocalChat:
    platform: str = "local"
    echo: Callable[[str], None] | None = None
    channels: dict[str, set[str]] = field(default_factory=dict)  # name -> members
    messages: dict[str, list[LocalMessage]] = field(default_factory=lambda: defaultdict(list))
    private: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    files: dict[str, list[tuple[str, bytes]]] = field(default_factory=lambda: defaultdict(list))
    archived: set[str] = field(default_factory=set)
    prompts: dict[str, list[ConsentPrompt]] = field(default_factory=lambda: defaultdict(list))

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def open_group_channel(self, request: GroupChannelRequest) -> str:
        with self._lock:
            self.channels.setdefault(request.name, set()).update(request.members, request.facilitators)
            self.archived.discard(request.name)
        return request.name

    def post(self, *, channel_id: str, message: Outgoing) -> Delivery:
        with self._lock:
            message_id = f"m{next(self._ids)}"
            self.messages[channel_id].append(
                LocalMessage(
                    channel_id,
                    message_id,
                    message.text,
                    message.kind.value,
                    tuple(o.label for o in message.consent_options),
                    message.key,
                )
            )
        if self.echo:
            heading = f"{message.title}: " if message.title and message.kind.value == "question" else ""
            self.echo(f"[#{channel_id}] bot: {heading}{message.text}")
        return Delivery(message_id, channel_id)

    def find_post(self, *, channel_id: str, key: str, message: Outgoing, since: dt.datetime) -> Delivery | None:
        with self._lock:
            for posted in self.messages.get(channel_id, []):
                if posted.key == key and posted.at >= since:
                    return Delivery(posted.message_id, channel_id)
        return None

    def tell(
        self,
        *,
        user_id: str,
        text: str,
        channel_id: str | None = None,
        consent_options: Sequence[ConsentOption] = (),
        breakout_id: int | None = None,
    ) -> None:
        with self._lock:
            self.private[user_id].append(text)

    def ask_consent(self, *, user_id: str, channel_id: str, prompt: ConsentPrompt) -> None:
        with self._lock:
            self.private[user_id].append(prompt.text)
            self.prompts[user_id].append(prompt)

    def send_file(
        self, *, user_id: str, filename: str, content: bytes, title: str, channel_id: str | None = None
    ) -> None:
        with self._lock:
            self.files[user_id].append((filename, content))

    def close_group_channel(self, *, channel_id: str, request: GroupChannelRequest, archive: bool) -> None:
        if archive:
            with self._lock:
                self.archived.add(channel_id)
