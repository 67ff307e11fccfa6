"""The naming rules, and properties over random breakouts: nobody shown beyond their consent."""

from __future__ import annotations

import datetime as dt
import random
import string
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.consent import Level
from bot.domain.naming import (
    ANOTHER,
    FORGOTTEN,
    Identity,
    QuoteText,
    assign_labels,
    initials,
    name_words,
    scrub_person,
)

PEOPLE = [
    Identity("1", "Dana Goldberg", "Dana", Level.INITIALS, ("U1",)),
    Identity("2", "Devi Gupta (she/her) (NHS Fife)", "Devi", Level.INITIALS, ("U2",)),
    Identity("3", "Matthew Okafor", "Matthew", Level.FIRST_NAME, ("U3",)),
    Identity("4", "Matthew Hill", "Matthew", Level.FIRST_NAME, ("U4",)),
    Identity("5", "Priya Hallam", "Priya", Level.ANONYMOUS, ("U5",)),
    Identity("6", "Sam Ortiz", "Sam", Level.NOT_QUOTED, ("U6",)),
    Identity("7", "Dr Bob Kettering", "Bob", Level.FULL_NAME, ("U7",)),
    Identity("8", "Lena Novak", "Lena", Level.ANONYMOUS, ("U8",)),
]


def test_labels_follow_consent_and_are_unique():
    labels = assign_labels(PEOPLE)
    assert labels["1"] == "DG (1)" and labels["2"] == "DG (2)"  # two DGs are told apart, not by more name
    assert labels["3"] == "Matthew (1)" and labels["4"] == "Matthew (2)"
    assert labels["5"] == "Participant 1" and labels["8"] == "Participant 2"
    assert labels["6"] is None
    assert labels["7"] == "Bob Kettering"
    assert initials("Dr Mary-Jane O'Neil (she/her)") == "MJO"
    assert name_words("Prof. Ada Lovelace [Guest]") == ["Ada", "Lovelace"]


def test_chatham_house_names_nobody():
    labels = assign_labels(PEOPLE, chatham_house=True)
    assert all(label is None or label.startswith("Participant ") for label in labels.values())
    text = QuoteText(PEOPLE, labels, chatham_house=True)
    out, _ = text.render("As Bob Kettering and <@U3> said, Dana was right")
    assert "Bob" not in out and "Dana" not in out and "Matthew" not in out
    assert out == f"As {ANOTHER} and {ANOTHER} said, {ANOTHER} was right"


def test_mentions_and_names_inside_quotes_follow_the_mentioned_persons_consent():
    labels = assign_labels(PEOPLE)
    text = QuoteText(PEOPLE, labels)
    out, links = text.render("Thanks <@U7>, <@U5> and <@U1>! Ask Priya or Lena Novak. "
                             "<!channel> see <#C1|general> and <https://ex.org/a|this> &amp; https://ex.org/Priya")
    assert out.startswith(f"Thanks Bob Kettering, {ANOTHER} and DG (1)! Ask {ANOTHER} or {ANOTHER}.")
    # Priya is quoted anonymously, so an address with her name in it is shown by its site alone.
    assert "@channel see #general and this (https://ex.org/a) & ex.org link" in out
    assert [link.url for link in links] == ["https://ex.org/a", "https://ex.org"]
    out, _ = text.render("<@UNKNOWN> and Okafor agreed")
    assert out == f"{ANOTHER} and Matthew (1) agreed"  # a surname is shown only as the agreed first name


# ---- properties over random breakouts through the real services and database --------------------

FIRSTS = ["Ana", "Ben", "Cara", "Dan", "Dev", "Eli", "Fay", "Gus"]
LASTS = ["Green", "Gold", "Hill", "Ito", "Jones", "Khan"]


@st.composite
def breakouts(draw):
    n = draw(st.integers(min_value=2, max_value=8))
    people = []
    for i in range(n):
        people.append((draw(st.sampled_from(FIRSTS)), draw(st.sampled_from(LASTS)),
                       draw(st.sampled_from(list(Level) + [None]))))
    replies = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1),
                                      st.text(alphabet=string.ascii_lowercase + " ", min_size=3, max_size=20)),
                            min_size=1, max_size=12))
    chatham = draw(st.booleans())
    return people, replies, chatham


PLAN = """
title: Property session
questions:
  - text: Q?
    minutes: 120
groups:
  count: 2
naming:
  default: {default}
  chatham_house: {chatham}
"""


def plan_name(default: str, chatham: bool) -> str:
    return f"prop-{default.replace('_', '-')}-{'ch' if chatham else 'open'}"


@pytest.fixture(scope="module")
def shared_call(tmp_path_factory):
    from tests.conftest import PROMPTS
    from tests.core.harness import Call, prompts_copy

    tmp = tmp_path_factory.mktemp("naming")
    plans = {plan_name(d, c): PLAN.format(default=d, chatham=str(c).lower())
             for d in ("anonymous", "not_quoted") for c in (False, True)}
    call = Call(f"sqlite:///{tmp / 'prop.db'}", prompts_copy(tmp, PROMPTS, plans), time_scale=0.02, people=0)
    yield call
    call.close()


def allowed(label: str, full_name: str, effective: Level) -> bool:
    """Whether ``label`` shows the person by no more than ``effective`` allows."""
    first, last = full_name.split()
    base = label.split(" (")[0]
    if effective is Level.FULL_NAME:
        return base in (full_name, first + last[0], first) or base.startswith("Participant ")
    if effective is Level.FIRST_NAME:
        return base == first
    if effective is Level.INITIALS:
        return base == first[0] + last[0]
    return False


@settings(max_examples=40, deadline=None)
@given(data=breakouts())
def test_no_summary_shows_anyone_beyond_their_consent(shared_call, data):
    from bot.services.context import Actor
    from bot.services.port import PersonInfo
    from tests.core.harness import WORKSPACE

    call = shared_call
    people, replies, chatham = data
    default = random.Random(len(replies)).choice(["anonymous", "not_quoted"])
    run = uuid.uuid4().hex[:6]
    call.people = [PersonInfo(f"U{run}{i}", f"{f} {l}", f) for i, (f, l, _) in enumerate(people)]
    home = f"home-{run}"
    call.facilitator_types(f"start {plan_name(default, chatham)}", channel=home)
    breakout_id = call.app.summaries.find(call.organiser, channel_id=home)
    try:
        levels = {}
        for i, (_, _, level) in enumerate(people):
            if level is not None:
                call.app.consents.choose(Actor(WORKSPACE, call.people[i]), level=level, via="command",
                                         breakout_id=breakout_id)
            chosen = level or Level(default)
            levels[call.people[i].user_id] = Level.ANONYMOUS if chatham and chosen.names_the_person else chosen
        spoken = {}
        for k, (author, mentioned, words) in enumerate(replies):
            marker = f"w{k}x"
            person = call.people[author]
            channel = next(c for c, m in call.chat.channels.items() if person.user_id in m)
            call.app.capture.message_posted(workspace=WORKSPACE, channel_id=channel, message_id=f"{run}.{k}",
                                            author=person, text=f"{marker} {words} | <@{call.people[mentioned].user_id}>",
                                            sent_at=dt.datetime.now(dt.UTC))
            spoken[marker] = (person, call.people[mentioned])
        summary = call.app.summaries.build(breakout_id)
        quotes = [q for section in summary.questions for q in section.quotes]
        by_marker = {q.text.split(" ", 1)[0]: q for q in quotes}
        owners: dict[str, str] = {}
        for marker, (author, mentioned) in spoken.items():
            level = levels[author.user_id]
            if level is Level.NOT_QUOTED:
                assert marker not in by_marker  # not quoted: none of their words appear
                continue
            quote = by_marker[marker]
            if level is Level.ANONYMOUS:
                assert quote.label.startswith("Participant ")
            else:
                assert allowed(quote.label, author.full_name, level), (quote.label, author.full_name, level)
            assert owners.setdefault(quote.label, author.user_id) == author.user_id  # one label, one person
            rendered_mention = quote.text.rsplit(" | ", 1)[1]
            m_level = levels[mentioned.user_id]
            if m_level.names_the_person:
                assert rendered_mention == ANOTHER or allowed(rendered_mention, mentioned.full_name, m_level)
            else:
                assert rendered_mention == ANOTHER
        for quote in quotes:
            if chatham:
                assert not any(p.full_name.split()[1] in quote.text or p.full_name.split()[1] in quote.label
                               for p in call.people)
    finally:
        call.facilitator_types("stop", channel=home)


def test_names_in_any_case_with_at_signs_and_aliases_are_rewritten():
    people = [Identity("1", "Felize Marquez", "Felize", Level.ANONYMOUS, ("U1",), aliases=("Fliss",)),
              Identity("2", "Will Hope", "Will", Level.ANONYMOUS, ("U2",)),
              Identity("3", "Matthew Okafor", "Matthew", Level.FIRST_NAME, ("U3",))]
    text = QuoteText(people, assign_labels(people))
    out, _ = text.render("@Felize Marquez great point; thanks felize, FLISS and okafor. I will ask Will.")
    assert out == (f"{ANOTHER} great point; thanks {ANOTHER}, {ANOTHER} and Matthew. "
                   f"I will ask {ANOTHER}.")


def test_links_are_unescaped_and_email_addresses_never_shown():
    text = QuoteText(PEOPLE, assign_labels(PEOPLE))
    out, links = text.render("see <https://ex.org/a?x=1&amp;y=2|the list> and https://ex.org/b?p=1&amp;q=2 "
                             "or mail <mailto:dana.goldberg@ex.org|dana.goldberg@ex.org>")
    assert [l.url for l in links] == ["https://ex.org/a?x=1&y=2", "https://ex.org/b?p=1&q=2"]
    assert out == ("see the list (https://ex.org/a?x=1&y=2) and https://ex.org/b?p=1&q=2 "
                   "or mail an email address")


# ---- names inside addresses, and link text that disguises its target --------------------------------------

LINK_FIRSTS = ["Anouk", "Bertil", "Cosima", "Dagny", "Eskil", "Fenna", "Gunnar", "Hedda"]
LINK_LASTS = ["Quist", "Rydberg", "Sokolova", "Thorsen", "Ulvaeus", "Vandermeer", "Wikstrom", "Yilmaz"]
# Addresses built from a name the ways people's pages are addressed (already in the neutral markup: &amp;).
ADDRESS_SHAPES = [
    "https://example.org/profile/{f}-{l}",
    "https://example.org/people/{F}{L}",
    "https://{f}{l}.example.org/",
    "https://example.org/?user={f}+{l}&amp;ref=1",
    "https://example.org/team#{L}",
    "https://example.org/{f}.{l}/cv.pdf",
    "https://example.org/{FU}_{LU}",
    "https://example.org/u/{f}%20{l}",
    "https://example.org/{f}",
    "https://example.org/{l}",
    "https://example.org/in/{i}{l}99",
    "https://{f}.example.org/{l}",
    "https://example.org/{l}{f}",
    "https://www.{l}.com/about",
    "https://example.org/{L},{F}",
]
LABELS = ["", "my page", "{F}'s page", "{F} {L}", "https://nhs.uk/official"]


@st.composite
def people_with_links(draw):
    n = draw(st.integers(min_value=1, max_value=5))
    firsts = draw(st.permutations(LINK_FIRSTS))[:n]
    lasts = draw(st.permutations(LINK_LASTS))[:n]
    levels = [draw(st.sampled_from(list(Level))) for _ in range(n)]
    people = [Identity(str(i), f"{first} {last}", first, level, (f"U{i}",))
              for i, (first, last, level) in enumerate(zip(firsts, lasts, levels, strict=True))]
    pieces = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        person = draw(st.sampled_from(people))
        first, last = person.full_name.split()
        names = {"f": first.lower(), "l": last.lower(), "F": first, "L": last, "FU": first.upper(), "LU": last.upper(),
                 "i": first[0].lower()}
        url = draw(st.sampled_from(ADDRESS_SHAPES)).format(**names)
        label = draw(st.sampled_from(LABELS)).format(**names)
        pieces.append(draw(st.sampled_from([url, f"<{url}>", f"<{url}|{label}>" if label else f"<{url}>"])))
    return people, " see ".join(pieces), draw(st.booleans())


def beyond_consent(person: Identity, chatham_house: bool) -> set[str]:
    """The words of the person's name that nothing in the write-up may show."""
    first, last = person.full_name.split()
    level = Level.ANONYMOUS if chatham_house and person.level.names_the_person else person.level
    if level is Level.FULL_NAME:
        return set()
    if level is Level.FIRST_NAME:
        return {last}
    return {first, last}


@settings(max_examples=300, deadline=None)
@given(data=people_with_links())
def test_no_link_shows_a_name_beyond_its_owners_consent(data):
    people, quote, chatham = data
    texts = QuoteText(people, assign_labels(people, chatham_house=chatham), chatham_house=chatham)
    out, links = texts.render(quote)
    shown = " ".join([out, *(link.url for link in links), *(link.label or "" for link in links)])
    squashed = "".join(ch for ch in shown.casefold() if ch.isalnum())
    for person in people:
        for word in beyond_consent(person, chatham):
            assert word.casefold() not in squashed, (word, person.level, quote, out)
    assert "nhs.uk" not in shown  # link text that reads like an address never stands in for the real one


def test_a_link_naming_someone_is_shown_by_its_site_alone():
    people = [Identity("1", "Jane Doe", "Jane", Level.NOT_QUOTED, ("U1",)),
              Identity("2", "Dan Green", "Dan", Level.FIRST_NAME, ("U2",)),
              Identity("3", "Ada Lovelace", "Ada", Level.FULL_NAME, ("U3",))]
    texts = QuoteText(people, assign_labels(people))
    out, links = texts.render("Jane: https://example.org/profile/jane-doe and <https://janedoe.com/cv|her CV>")
    assert out == f"{ANOTHER}: example.org link and her CV (a link)"
    assert [(link.url, link.label) for link in links] == [("https://example.org", None)]
    # An everyday word in an address is a name only capitalised or beside another part of the name.
    out, _ = texts.render("https://example.org/green-spaces https://example.org/dan-green https://example.org/Green")
    assert out == "https://example.org/green-spaces example.org link example.org link"
    # What a label already shows may be in the address: first name for Dan, everything for Ada.
    out, _ = texts.render("https://example.org/dan https://example.org/ada-lovelace https://example.org/AdaLovelace")
    assert out == "https://example.org/dan https://example.org/ada-lovelace https://example.org/AdaLovelace"
    link = texts.shown_link("https://example.org/people/jdoe", "Jane's page")
    assert link is not None and (link.url, link.label) == ("https://example.org", None)
    assert texts.shown_link("https://jane-doe.com/", None) is None


def test_link_text_never_disguises_where_a_link_leads():
    texts = QuoteText(PEOPLE, assign_labels(PEOPLE))
    out, links = texts.render("Official advice: <https://evil.example/x|https://nhs.uk/official> "
                              "and <https://evil.example/y|nhs.uk> and <http://nhs.uk|nhs.uk> "
                              "and <https://evil.example/z|the guidance>")
    assert out == ("Official advice: https://evil.example/x and https://evil.example/y and http://nhs.uk "
                   "and the guidance (https://evil.example/z)")
    assert [(link.url, link.label) for link in links] == [("https://evil.example/x", None), ("https://evil.example/y", None),
                                                 ("http://nhs.uk", None), ("https://evil.example/z", "the guidance")]
    link = texts.shown_link("https://evil.example", "www.nhs.uk")
    assert link is not None and link.label is None


def test_scrubbing_a_forgotten_person_out_of_someone_elses_words():
    text = ("Thanks <@U1|jane>, <@U1>, <@!U1> and <@U2>! Jane Doe's page: <https://example.org/jane-doe|Jane's page> "
            "and https://example.org/u/U1 and https://example.org/green. Mail <mailto:x@example.org|x>.")
    out = scrub_person(text, names=["Jane Doe", "Janey"], user_ids=["U1"])
    assert out == (f"Thanks {ANOTHER}, {ANOTHER}, {ANOTHER} and <@U2>! {ANOTHER}'s page: "
                   f"{ANOTHER}'s page (example.org link) and https://example.org/u/{FORGOTTEN} and "
                   "https://example.org/green. Mail <mailto:x@example.org|x>.")
    # A Discord id (all digits) goes the same way, and never a longer id that merely starts with it.
    assert scrub_person("<@123> and <@!123> met <@1234>", names=[], user_ids=["123"]) == (
        f"{ANOTHER} and {ANOTHER} met <@1234>")
