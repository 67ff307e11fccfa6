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
from bot.domain.naming import ANOTHER, Identity, QuoteText, assign_labels, initials, name_words

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
    assert [l.url for l in links] == ["https://ex.org/a", "https://ex.org"]
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
