"""The people the core already keeps, for adapters that would otherwise ask the platform again.

In a fleet every process meets a message's author for the first time on its own; asking Slack's
``users.info`` once per process and person runs into its rate tier during a call's burst. The names
one process stored when it captured someone's words serve every other process.
"""

from __future__ import annotations

from bot.services.context import Core
from bot.services.port import PersonInfo
from bot.store import repository as repo


class People:
    def __init__(self, core: Core) -> None:
        self.core = core

    def known(self, *, workspace: str, user_id: str) -> PersonInfo | None:
        """The person as last seen on the platform (not the name they chose for the write-up), or None."""
        with self.core.db.transaction() as s:
            person = repo.find_person(s, workspace=workspace, user_id=user_id)
            if person is None:
                return None
            return PersonInfo(
                user_id=person.user_id,
                full_name=person.full_name,
                first_name=person.first_name,
                display_name=person.display_name,
                is_bot=person.is_bot,
            )
