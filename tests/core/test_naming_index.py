"""The name index finds exactly what one regex over every form of every name finds, at a cost that does not
grow with the number of people: a workspace of thousands costs each quote no more than a breakout of five."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.consent import Level
from bot.domain.naming import AddressNames, Identity, Link, NameIndex, QuoteText, _words, assign_labels, name_forms


def all_forms_pattern(forms: list[str]) -> re.Pattern[str]:
    """The regex the summary used before the index: every form of every person, longest first."""
    return re.compile(r"(?<![\w#])(@?)(" + "|".join(map(re.escape, forms)) + r")(?![\w])", re.IGNORECASE)


def spans(pattern: re.Pattern[str] | None, text: str) -> list[tuple[int, int, str]]:
    return [] if pattern is None else [(m.start(), m.end(), m.group(2)) for m in pattern.finditer(text)]


# Letters with tricky case rules (Turkish i, German sharp s, Greek sigma, long s, the Kelvin sign),
# apostrophes, hyphens and dots inside names, and the markup characters that sit around names in chat.
LETTERS = "aAbBdDeEiIİıjJlLnNoOsSßẞſσςΣkKKéÉ'’-._@# 1"
names = st.lists(st.text(alphabet=LETTERS, min_size=1, max_size=12), min_size=1, max_size=8)


def forms_of(raw_names: list[str]) -> list[str]:
    forms: dict[str, None] = {}
    for name in raw_names:
        for form in name_forms(name):
            forms[form.casefold()] = None
    return sorted(forms, key=len, reverse=True)


@settings(max_examples=400, deadline=None)
@given(raw_names=names, data=st.data())
def test_the_index_finds_exactly_what_the_regex_over_every_name_finds(raw_names, data):
    forms = forms_of(raw_names)
    if not forms:
        return
    # Texts made of the names themselves (changed in case) and the same tricky letters around them.
    pieces = st.one_of(
        st.sampled_from(raw_names).map(lambda n: n.upper()),
        st.sampled_from(raw_names).map(lambda n: n.lower()),
        st.sampled_from(raw_names),
        st.text(alphabet=LETTERS, max_size=6),
    )
    text = "".join(data.draw(st.lists(pieces, max_size=8)))
    assert spans(NameIndex(forms).pattern_for(text), text) == spans(all_forms_pattern(forms), text)


def test_dotted_and_dotless_i_are_found_as_the_regex_finds_them():
    forms = forms_of(["Yildiz Ilkay", "Irmak İnan"])
    for text in ("YILDIZ", "Yıldız said", "İlkay", "ılkay and IRMAK", "inan"):
        assert spans(NameIndex(forms).pattern_for(text), text) == spans(all_forms_pattern(forms), text), text


@settings(max_examples=300, deadline=None)
@given(
    raw_names=st.lists(st.text(alphabet="abcdejnos", min_size=2, max_size=7), min_size=2, max_size=8),
    words=st.lists(st.text(alphabet="abcdejnos0", min_size=1, max_size=20), max_size=6),
)
def test_names_joined_inside_an_address_word_are_found_as_the_regex_finds_them(raw_names, words):
    forms = {" ".join(raw_names[i : i + 2]) for i in range(0, len(raw_names) - 1, 2)}
    addresses = AddressNames(forms)
    joined = sorted(addresses._joined, key=len, reverse=True)
    pattern = re.compile("|".join(map(re.escape, joined))) if joined else None
    for word in words:
        expected = [m.group(0) for m in pattern.finditer(word)] if pattern else []
        assert list(addresses._joined_in(word)) == expected


def workspace(n: int) -> list[Identity]:
    return [
        Identity(str(i), f"Firstname{i} Lastname{i}", f"Firstname{i}", Level.INITIALS, (f"U{i}",)) for i in range(n)
    ]


def test_a_workspace_of_thousands_names_as_a_breakout_of_five_does_and_each_quote_tries_only_its_own_words():
    quotes = [
        f"thanks firstname{i % 5}, as Firstname{i % 3} Lastname{i % 3} said <https://example.org/p/{i}|page>"
        for i in range(50)
    ]
    small, big = workspace(5), workspace(3000)
    small_text, big_text = QuoteText(small, assign_labels(small)), QuoteText(big, assign_labels(big))
    assert [big_text.render(q) for q in quotes] == [small_text.render(q) for q in quotes]
    assert "FL" in big_text.render(quotes[1])[0] and "irstname1" not in big_text.render(quotes[1])[0]
    index = NameIndex(forms_of([p.full_name for p in big]))
    pattern = index.pattern_for(quotes[1])
    assert pattern is not None and pattern.pattern.count("|") == 2  # firstname1 lastname1, firstname1, lastname1
    assert NameIndex(forms_of(["Dan Green", "Dan Brown"])).pattern_for("dan said").pattern.count("|") == 0
    assert index.pattern_for("nobody is named here") is None


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.characters(max_codepoint=127)) | st.text())
def test_the_words_of_a_text_are_the_runs_the_regex_sees(text):
    assert _words(text) == re.findall(r"\w+", text.translate({0x130: "i", 0x131: "i"}).casefold())


def test_someone_of_the_workspace_outside_the_breakout_is_still_covered_among_thousands():
    """Only the breakout's people get labels, but a quote can name anyone of the workspace: their name is
    still replaced, however many people the workspace has and whoever shares their first name."""
    breakout = workspace(5)
    outsiders = [
        *workspace(3000)[5:],
        Identity("x", "Yıldız Okonkwo", "Yıldız", Level.ANONYMOUS, ("UX",)),
        Identity("y", "Firstname2 Elsewhere", "Firstname2", Level.INITIALS, ("UY",)),
    ]
    texts = QuoteText(breakout + outsiders, assign_labels(breakout))
    out, _ = texts.render("ask YILDIZ okonkwo, or firstname2 elsewhere, or Lastname2999 about it")
    assert out == "ask another participant, or another participant, or another participant about it"


def test_a_turkish_name_is_covered_however_its_i_is_written():
    people = [Identity("1", "Yıldız Okonkwo", "Yıldız", Level.INITIALS, ("U1",))]
    texts = QuoteText(people, assign_labels(people))
    for written in ("Yıldız", "YILDIZ", "yildiz", "Yildiz Okonkwo"):
        assert texts.render(f"thanks {written}!")[0] == "thanks YO!", written
    assert texts.shown_link("https://example.org/people/yildiz-okonkwo") == Link("https://example.org", None)
