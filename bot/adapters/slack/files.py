"""Slack's part of ``/summary import``: finding the call's Zoom chat export a person shared, and fetching it.

Slash commands carry no files, so the organiser shares the export (in the channel, or in their direct
messages with the bot) and then types the command; the bot takes that person's newest file there
(``files.list`` with ``user`` and ``channel``, scope files:read). The core's ``CallChat.import_chat`` does
the rest: it checks the size from the listing before it asks for a byte. The download sends the bot
token, and only to Slack's own hosts (or the host the Web API is configured at, e.g. the sandbox).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services.errors import BadArguments
from bot.services.pack import CallChatFile

SHARE_HOW = (
    "Share the Zoom chat file (the .txt Zoom saves) here or in your direct messages with me, "
    "then type /summary import again."
)
#: How far back a shared file still counts as "the one just shared".
LOOKBACK = 50


@dataclass(frozen=True)
class SharedFile:
    id: str
    name: str
    size: int
    url: str
    mimetype: str

    @classmethod
    def from_api(cls, f: dict[str, Any]) -> SharedFile:
        return cls(
            id=str(f["id"]),
            name=str(f.get("name") or f.get("title") or f["id"]),
            size=int(f.get("size") or 0),
            url=str(f.get("url_private_download") or f.get("url_private") or ""),
            mimetype=str(f.get("mimetype") or ""),
        )


def newest_file(client: WebClient, *, user_id: str, channel_id: str) -> SharedFile | None:
    """The newest file this person shared in this conversation that the bot can see, or None."""
    page = client.files_list(user=user_id, channel=channel_id, count=LOOKBACK)
    files = [
        f
        for f in page.get("files") or []
        if f.get("mode") not in ("tombstone", "external") and not f.get("is_external")
    ]
    if not files:
        return None
    return SharedFile.from_api(max(files, key=lambda f: (float(f.get("created") or f.get("timestamp") or 0), f["id"])))


def shared_chat_file(client: WebClient, *, user_id: str, channel_id: str, max_bytes: int) -> CallChatFile:
    """The chat export this person just shared here, not fetched yet; BadArguments saying how to share one."""
    try:
        shared = newest_file(client, user_id=user_id, channel_id=channel_id)
    except SlackApiError as exc:
        if exc.response.get("error") in ("channel_not_found", "not_in_channel"):
            raise BadArguments(f"I can't see the files in this channel. {SHARE_HOW}") from None
        raise
    if shared is None:
        raise BadArguments(f"I can't find a file you shared here. {SHARE_HOW}")
    return CallChatFile(shared.name, shared.size, lambda: download(client, shared, max_bytes=max_bytes))


def _trusted(url: str, api_url: str) -> bool:
    """Send the token only to Slack (files.slack.com) or to where the Web API itself lives."""
    host = (urlparse(url).hostname or "").lower()
    api_host = (urlparse(api_url).hostname or "").lower()
    return bool(host) and (host == api_host or host == "slack.com" or host.endswith(".slack.com"))


def download(client: WebClient, f: SharedFile, *, max_bytes: int, timeout: float = 30.0) -> bytes:
    """The file's bytes, fetched with the bot token; BadArguments with a sentence when Slack won't hand it over.

    Reads at most one byte past ``max_bytes``: enough for the core to tell the file is too big."""
    if not f.url or not _trusted(f.url, client.base_url):
        raise BadArguments(f"{f.name}: Slack gave no download link I can use. Nothing was imported.")
    request = urllib.request.Request(f.url, headers={"Authorization": f"Bearer {client.token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # a checked Slack URL
            ctype = response.headers.get("Content-Type", "")
            data = response.read(max_bytes + 1)
    except (urllib.error.URLError, OSError) as exc:
        raise BadArguments(
            f"{f.name}: Slack did not hand the file over ({exc}); please try again. Nothing was imported."
        ) from None
    if ctype.startswith("text/html") and not f.mimetype.startswith("text/html"):
        # What Slack answers a request it does not accept the token for: its sign-in page.
        raise BadArguments(
            f"{f.name}: Slack did not let the bot read the file (is the files:read permission "
            "granted? reinstall from deploy/slack-manifest.yaml). Nothing was imported."
        )
    return data
