"""Who wrote in the call's chat, as people of the bot.

Each chat author becomes a Person: the breakout member of the same name when exactly one matches (their
own naming choice then covers their chat messages too), else a chat-only person who gets the plan's
default naming until the organiser records their choice (members choose only for themselves), and who
is deleted, with their choices, once no imported chat holds a message of theirs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy.orm import Session

from bot.domain.naming import clean_name
from bot.store import repository as repo
from bot.store.models import Breakout, Person

#: Chat-only people live in their own workspace beside the breakout's: "slack:T1/zoom".
CHAT_SUFFIX = "/zoom"
#: ``ConsentRecord.via`` of a naming choice an organiser recorded for a chat author.
ORGANISER_VIA = "organiser"
WORKSPACE_LENGTH = 64  # people.workspace is String(64)


def chat_workspace(workspace: str) -> str:
    return (workspace + CHAT_SUFFIX)[:WORKSPACE_LENGTH]


def is_chat_only(person: Person) -> bool:
    return person.workspace.endswith(CHAT_SUFFIX)


def name_key(name: str) -> str:
    """Two spellings of one author ("Ana Ruiz (she/her)", "ana  ruiz") are one person."""
    return " ".join(clean_name(name).split()).casefold() or " ".join(name.split()).casefold()


def chat_user_id(key: str) -> str:
    return "zoom:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def authors_as_people(s: Session, breakout: Breakout, authors: Sequence[str]) -> tuple[dict[str, int], set[int]]:
    """Each distinct author's person id (by ``name_key``); and which of them are members of the breakout."""
    by_name: dict[str, list[Person]] = {}
    for _, person in repo.members(s, breakout_id=breakout.id):
        for name in {person.preferred_name, person.full_name}:
            if name and name_key(name):
                owners = by_name.setdefault(name_key(name), [])
                if person not in owners:
                    owners.append(person)
    people: dict[str, int] = {}
    members: set[int] = set()
    for author in authors:
        key = name_key(author)
        if key in people:
            continue
        owners = by_name.get(key, [])
        if len(owners) == 1:  # two members of one name: never guess which one wrote it
            people[key] = owners[0].id
            members.add(owners[0].id)
            continue
        name = clean_name(author) or author.strip()
        person = repo.upsert_person(
            s,
            workspace=chat_workspace(breakout.workspace),
            user_id=chat_user_id(key),
            full_name=name[:200],
            first_name=name.split()[0] if name.split() else None,
            display_name=author.strip()[:100],
        )
        people[key] = person.id
    return people, members
