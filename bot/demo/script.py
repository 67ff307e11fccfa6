"""Who says what in the demo session: made-up people, replies modelled on the reference pack.

Shared by every platform's demo so they tell the same story.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.consent import Level

PLAN = "kindness-in-education"
GROUPS = 3
FACILITATOR = ("Fiona Mensah", "Fiona")
ORGANISER = ("Olu Adeyemi", "Olu")


@dataclass(frozen=True)
class Voice:
    full_name: str
    display_name: str
    level: Level | None  # None: never chooses, so the plan's default applies
    replies: tuple[str, str]  # to question 1 and question 2; "" says nothing


VOICES: tuple[Voice, ...] = (
    Voice(
        "Matthew Okafor",
        "Matthew",
        Level.FIRST_NAME,
        (
            "We spend a lot of time ensuring medical students get a breadth of clinical experience, but they never "
            "get to spend any time with one team. They remain 'outsiders' without role models.",
            "Give students one team that knows their name.",
        ),
    ),
    Voice(
        "Felize Marquez",
        "Felize",
        Level.FIRST_NAME,
        (
            "Incorporating professional patients has really improved things in the US.",
            "Ask students how they are, and wait for the answer.",
        ),
    ),
    Voice(
        "Saskia Lindqvist",
        "Saskie",
        Level.FIRST_NAME,
        (
            "Clinical education encourages competitiveness rather than collaboration, but the latter is crucial "
            "in the work that we do.",
            "",
        ),
    ),
    Voice(
        "Paul Brennan",
        "Paul",
        Level.FIRST_NAME,
        (
            "Measuring only empathy is too limited. Learning doesn't occur without a will to learn.",
            "Curiosity instead of punishment when students miss sessions.",
        ),
    ),
    Voice(
        "Bob Kettering",
        "Bob",
        Level.FULL_NAME,
        (
            "Contrary to common belief, we can measure kindness. It is about whether we choose to do so.",
            "Share this: https://example.org/kind-care-reform as a starting point.",
        ),
    ),
    Voice(
        "Dana Goldberg",
        "Dana",
        Level.INITIALS,
        (
            "Using the word explicitly is important: it sets shared expectations and group norms.",
            "Juniors hear 'kindness' with suspicion when it is used to silence concerns.",
        ),
    ),
    Voice(
        "Devi Gupta",
        "Devi",
        Level.INITIALS,
        (
            "Our students said the cost of living is what stops them attending.",
            "Reflective spaces like Schwartz rounds help.",
        ),
    ),
    Voice(
        "Priya Hallam",
        "Priya",
        Level.ANONYMOUS,
        (
            "The competitive nature of medical education doesn't encourage kindness.",
            "Collaboration is frowned upon in education, which is more of an individual pursuit.",
        ),
    ),
    Voice(
        "Sam Ortiz",
        "Sam",
        Level.NOT_QUOTED,
        (
            "Please don't quote me, but I think rank gets in the way of calling out unkindness.",
            "We must be brave enough to call out un-kindness.",
        ),
    ),
    Voice(
        "Tanya Boateng",
        "Tanya",
        None,
        (
            "Hello from a very snowy Boston! Role modelling starts with the consultants.",
            "Use the humanities in the curriculum.",
        ),
    ),
    Voice(
        "Lena Novak",
        "Lena",
        Level.FIRST_NAME,
        (
            "Placements where nobody greets you teach you more than any lecture on kindness.",
            "Mentors who were students here not long ago.",
        ),
    ),
    Voice(
        "Kofi Asante",
        "Kofi",
        Level.FULL_NAME,
        (
            "Kindness to each other as members of staff is what students copy.",
            "Ask <@{Matthew Okafor}> about the one-team idea, it works.",
        ),
    ),
)

EDIT = (
    "Paul Brennan",
    0,
    "Measuring only empathy is too limited. Learning doesn't occur without a will to learn, "
    "and kindness feeds that will.",
)
DELETE = ("Devi Gupta", 1)  # Devi deletes her second reply
