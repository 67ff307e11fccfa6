"""Hellos, reflections, resources and attendance, picked from a chat with consent passed in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.pack import (
    collect_resources,
    distinct_people,
    is_greeting,
    pick_hellos,
    pick_reflections,
    tidy_url,
    url_key,
)
from bot.domain.zoom_chat import parse_zoom_chat


@dataclass(frozen=True)
class Msg:
    author: str
    text: str
    sent_at: dt.time = dt.time(18, 0)


def at(minute: int, author: str, text: str) -> Msg:
    return Msg(author, text, dt.time(18 + minute // 60, minute % 60))


LABELS = {"Mira Okafor": "MO", "Tomas Lindqvist (he/him)": "TL", "Jun Park": "JP", "Ana Ruiz": None, "Kit Moss": "KM"}


def label(author: str) -> str | None:
    return LABELS.get(author, "Participant 1")


CALL = [
    at(0, "Mira Okafor", "Hello everyone, joining from Lagos!"),
    at(1, "Tomas Lindqvist (he/him)", "Hi all - dialling in from a snowy Uppsala, lovely to see you"),
    at(1, "Mira Okafor", "Hi again, also from Lagos"),  # same person: one hello each
    at(2, "Ana Ruiz", "Hello from Quito!"),  # not to be quoted: never picked
    at(3, "Kit Moss", "hi"),
    at(4, "Jun Park", "Greetings from Busan, my first meeting"),
    at(45, "Kit Moss", "Hello, joining late from Perth"),  # not the start of the call
    at(50, "Jun Park", "Here is the article https://example.org/kindness-review?utm_source=zoom worth a read"),
    at(51, "Kit Moss", "Same link again: https://www.example.org/kindness-review/ and https://example.net/video."),
    at(52, "Ana Ruiz", "My own write-up: https://example.com/ana (and the review https://example.org/kindness-review)"),
    at(55, "Tomas Lindqvist (he/him)", "I have been involved in both undergraduate and postgraduate education and my experience is "
        "that the competitive nature of medical education does not encourage kindness at all."),
]


def test_greetings_are_recognised():
    for text in ("Hi my first meeting from Snowy Island", "Dialling in from Dorset", "Hi, Kit here from a very snowy Boston!",
                 "Good evening all", "Joining from Leeds", "Bonjour de Paris", "Greetings!"):
        assert is_greeting(text), text
    for text in ("This is a thoughtful point", "History matters", "Which link?"):
        assert not is_greeting(text), text


def test_hellos_come_from_the_start_one_per_person_by_consent_preferring_places():
    hellos = pick_hellos(CALL, label, limit=3)
    assert [h.text for h in hellos] == [
        "Hello everyone, joining from Lagos!",
        "Hi all - dialling in from a snowy Uppsala, lovely to see you",
        "Greetings from Busan, my first meeting",
    ]
    assert [h.label for h in hellos] == ["MO", "TL", "JP"]
    assert all("Quito" not in h.text and "Perth" not in h.text for h in hellos)


def test_hellos_text_is_rewritten_for_consent():
    hellos = pick_hellos(CALL, label, limit=3, rewrite=lambda t: t.replace("Lagos", "[place]"))
    assert hellos[0].text == "Hello everyone, joining from [place]!"


def test_hellos_across_midnight():
    late = [at(0, "Kit Moss", "hello"), Msg("Jun Park", "Hi from Busan", dt.time(0, 5))]
    late[0] = Msg("Kit Moss", "hello from Perth", dt.time(23, 58))
    assert len(pick_hellos(late, label)) == 2


def test_resources_each_link_once_with_sharers_and_words_around():
    resources = collect_resources(CALL, label)
    assert [r.url for r in resources] == [
        "https://example.org/kindness-review",
        "https://example.net/video",
    ]  # Ana's own link (example.com/ana) is not listed: she is not to be quoted, so nothing of hers is
    review, video = resources
    assert review.shared_by == ("JP", "KM")  # Ana shared it too but is not to be quoted
    assert review.context == "Here is the article worth a read"
    assert video.shared_by == ("KM",)
    assert video.context == "Same link again: and"


def test_url_tidying():
    assert tidy_url("www.example.org/a?utm_source=x&id=3") == "https://www.example.org/a?id=3"
    assert url_key("http://www.Example.org/a/") == url_key("https://example.org/a?utm_medium=chat")


def test_reflections_are_the_longer_messages_by_consent():
    reflections = pick_reflections(CALL, label, min_words=15)
    assert [(r.label, r.text[:23]) for r in reflections] == [("TL", "I have been involved in")]


def test_attendance_counts_distinct_people():
    names = [m.author for m in CALL] + ["tomas lindqvist", "Jun Park (JP Consulting)"]
    assert distinct_people(names) == 5


def test_from_a_real_shaped_export():
    chat = parse_zoom_chat(
        "18:00:05 From Mira Okafor to Everyone:\n\tHello, dialling in from Lagos\n"
        "18:00:09 From Mira Okafor to Jun Park(Direct Message):\n\thello from my kitchen, secretly\n"
    )
    assert [h.text for h in pick_hellos(chat.messages, label)] == ["Hello, dialling in from Lagos"]


def test_a_message_shaped_like_the_packs_list_gives_the_link_its_title():
    msgs = [
        Msg("Jun Park", "Kind care in practice - a short film by a made-up clinic https://example.org/film"),
        Msg("Jun Park", "https://example.org/podcast – Whose Shoes: an interview"),
        Msg("Jun Park", "see https://example.org/mid - and more"),  # link in the middle: no title
    ]
    film, podcast, mid = collect_resources(msgs, label)
    assert (film.label, film.context) == ("Kind care in practice", "a short film by a made-up clinic")
    assert (podcast.label, podcast.context) == (None, "Whose Shoes: an interview")
    assert mid.label is None and mid.context == "see and more"


def test_messages_sharing_links_are_resources_not_reflections():
    long_with_link = Msg("Jun Park", " ".join(["word"] * 30) + " https://example.org/x")
    assert pick_reflections([long_with_link], label) == ()


texts = st.lists(st.sampled_from(list("abc XYZ:/.-–") + ["https://example.org/", "www.example.net/", "hi ", "from "]),
                 max_size=30).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list(LABELS)), texts), max_size=12))
def test_resources_never_repeat_and_never_name_the_unquoted(pairs):
    msgs = [Msg(a, t) for a, t in pairs]
    resources = collect_resources(msgs, label)
    keys = [url_key(r.url) for r in resources]
    assert len(keys) == len(set(keys))
    for r in resources:
        assert None not in r.shared_by
        assert all(by in {"MO", "TL", "JP", "KM"} for by in r.shared_by)
    for h in pick_hellos([Msg(a, t, dt.time(18, 0)) for a, t in pairs], label):
        assert h.label is not None
