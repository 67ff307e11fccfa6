"""Who people are (users.info) and what they may do (facilitators, organisers).

Facilitators and organisers come from the settings as Slack user ids (``U123``), user group
handles (``@facilitators``) or user group ids (``S123``). With nothing set, workspace admins and
owners are both. Lookups are cached for a short while: a breakout asks about the same dozen
people again and again, and Slack rate-limits ``users.info``. A channel with many people not in the
cache is read from one paged ``users.list`` (1,000 people a call) instead of a ``users.info`` each:
Slack allows about 100 ``users.info`` a minute, so 500 people would take five minutes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services.port import PersonInfo

SLACKBOT = "USLACKBOT"
#: More people than this missing from the cache are read with users.list rather than one by one.
LIST_EVERYONE_OVER = 20


def person_from(user: dict[str, Any]) -> PersonInfo:
    profile = user.get("profile") or {}
    full = (
        profile.get("real_name")
        or user.get("real_name")
        or profile.get("display_name")
        or user.get("name")
        or user["id"]
    )
    return PersonInfo(
        user_id=user["id"],
        full_name=full,
        first_name=profile.get("first_name") or None,
        display_name=profile.get("display_name") or None,
        is_bot=bool(user.get("is_bot")) or user["id"] == SLACKBOT,
    )


class _Cache:
    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        self.ttl, self.clock = ttl, clock
        self._values: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            hit = self._values.get(key)
            if hit and self.clock() - hit[0] < self.ttl:
                return hit[1]
            return None

    def put(self, key: str, value: Any) -> Any:
        with self._lock:
            self._values[key] = (self.clock(), value)
        return value


class Directory:
    """People and channel membership, from the Web API, cached."""

    def __init__(self, client: WebClient, *, ttl: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self._users = _Cache(ttl, clock)

    def user(self, user_id: str) -> dict[str, Any]:
        cached = self._users.get(user_id)
        if cached is not None:
            return cached
        user = self.client.users_info(user=user_id)["user"]
        return self._users.put(user_id, user)

    def person(self, user_id: str) -> PersonInfo:
        return person_from(self.user(user_id))

    def cached_person(self, user_id: str) -> PersonInfo | None:
        """The person if this process already has them, without asking Slack."""
        user = self._users.get(user_id)
        return person_from(user) if user else None

    def remember(self, person: PersonInfo) -> None:
        """Keep a person found elsewhere (the core's store) as if Slack had said so."""
        self._users.put(
            person.user_id,
            {
                "id": person.user_id,
                "is_bot": person.is_bot,
                "real_name": person.full_name,
                "profile": {
                    "real_name": person.full_name,
                    "first_name": person.first_name or "",
                    "display_name": person.display_name or "",
                },
            },
        )

    def load_everyone(self) -> int:
        """Cache every account in the workspace from paged ``users.list``; how many there were."""
        count, cursor = 0, None
        while True:
            page = self.client.users_list(limit=1000, cursor=cursor)
            for user in page["members"]:
                self._users.put(str(user["id"]), user)
                count += 1
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return count

    def forget(self, user_id: str) -> None:
        self._users.put(user_id, None)

    def channel_members(self, channel_id: str) -> list[str]:
        members: list[str] = []
        cursor = None
        while True:
            page = self.client.conversations_members(channel=channel_id, limit=200, cursor=cursor)
            members += page["members"]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return members

    def people_in(self, channel_id: str) -> list[PersonInfo]:
        """The people in a channel: bots, Slackbot and deactivated accounts left out."""
        out = []
        members = self.channel_members(channel_id)
        if sum(1 for uid in members if self._users.get(uid) is None) > LIST_EVERYONE_OVER:
            self.load_everyone()
        for uid in members:
            user = self.user(uid)
            if user.get("deleted"):
                continue
            person = person_from(user)
            if not person.is_bot:
                out.append(person)
        return out


class Roles:
    """Facilitators and organisers, resolved from the settings against the workspace."""

    def __init__(
        self,
        client: WebClient,
        directory: Directory,
        *,
        facilitators: Iterable[str] = (),
        organisers: Iterable[str] = (),
        ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.directory = directory
        self.facilitators = tuple(facilitators)
        self.organisers = tuple(organisers)
        self._groups = _Cache(ttl, clock)

    def is_admin(self, user_id: str) -> bool:
        user = self.directory.user(user_id)
        return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))

    def is_facilitator(self, user_id: str) -> bool:
        return self._allowed(user_id, self.facilitators)

    def is_organiser(self, user_id: str) -> bool:
        return self._allowed(user_id, self.organisers)

    def _allowed(self, user_id: str, entries: tuple[str, ...]) -> bool:
        if not entries:
            return self.is_admin(user_id)
        for entry in entries:
            if entry == user_id:
                return True
            if entry.lower() in ("admins", "@admins") and self.is_admin(user_id):
                return True
            if entry.startswith(("@", "S")) and user_id in self._group_members(entry):
                return True
        return False

    def _group_members(self, entry: str) -> set[str]:
        cached = self._groups.get(entry)
        if cached is not None:
            return cached
        group_id = entry if not entry.startswith("@") else self._group_id(entry[1:])
        members: set[str] = set()
        if group_id:
            try:
                members = set(self.client.usergroups_users_list(usergroup=group_id)["users"])
            except SlackApiError as exc:
                if exc.response.get("error") not in ("no_such_subteam", "subteam_not_found"):
                    raise
        return self._groups.put(entry, members)

    def _group_id(self, handle: str) -> str | None:
        for group in self.client.usergroups_list()["usergroups"]:
            if group.get("handle") == handle:
                return str(group["id"])
        return None
