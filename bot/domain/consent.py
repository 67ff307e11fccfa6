"""How a person agreed to be named in the write-up."""

from __future__ import annotations

from enum import Enum


class Level(str, Enum):
    """Naming levels, from most to least revealing."""

    FULL_NAME = "full_name"
    FIRST_NAME = "first_name"
    INITIALS = "initials"
    ANONYMOUS = "anonymous"
    NOT_QUOTED = "not_quoted"

    @property
    def names_the_person(self) -> bool:
        return self in (Level.FULL_NAME, Level.FIRST_NAME, Level.INITIALS)

    @property
    def rank(self) -> int:
        """Higher reveals more; used to check that nothing exceeds what was agreed."""
        return {
            Level.NOT_QUOTED: 0,
            Level.ANONYMOUS: 1,
            Level.INITIALS: 2,
            Level.FIRST_NAME: 3,
            Level.FULL_NAME: 4,
        }[self]

    @classmethod
    def parse(cls, text: str) -> Level:
        """Accept the words people actually type: 'full', 'first name', 'anon', 'none'..."""
        key = text.strip().lower().replace("-", "_").replace(" ", "_")
        if key in ALIASES:
            return ALIASES[key]
        raise ValueError(text)


ALIASES: dict[str, Level] = {
    "full_name": Level.FULL_NAME,
    "full": Level.FULL_NAME,
    "name": Level.FULL_NAME,
    "first_name": Level.FIRST_NAME,
    "first": Level.FIRST_NAME,
    "firstname": Level.FIRST_NAME,
    "initials": Level.INITIALS,
    "initial": Level.INITIALS,
    "anonymous": Level.ANONYMOUS,
    "anon": Level.ANONYMOUS,
    "anonymously": Level.ANONYMOUS,
    "not_quoted": Level.NOT_QUOTED,
    "none": Level.NOT_QUOTED,
    "no": Level.NOT_QUOTED,
    "dont_quote": Level.NOT_QUOTED,
    "do_not_quote": Level.NOT_QUOTED,
    "withdraw": Level.NOT_QUOTED,
}

# The longest name a person may choose for themselves (/breakout name), on every platform.
MAX_CHOSEN_NAME = 100

LEVEL_WORDS = ", ".join(level.value.replace("_", "-") for level in Level)
