"""How often a rendered quote shows someone's name beyond their consent, over random sessions.

Usage: .venv/bin/python benchmarks/name_leaks.py [--sessions 150] [--seed 1]
Prints figures; asserts nothing. Each session has 4-12 people with random naming choices (some under the
Chatham House Rule); a third of the quotes share a link built from someone's name, the ways people's pages
are addressed (/profile/jane-doe, ?user=JaneDoe, janedoe.example.org, ...), some with link text.
A leak is one name word (first or last) of one person, beyond their consent, in one rendered quote.
"""

from __future__ import annotations

import argparse
import random
import time

from bot.domain.consent import Level
from bot.domain.naming import Identity, QuoteText, assign_labels

FIRSTS = "Anouk Bertil Cosima Dagny Eskil Fenna Gunnar Hedda Idris Jovana Kasimir Ludmila Marisol Nikolai".split()  # noqa: SIM905
LASTS = "Quist Rydberg Sokolova Thorsen Ulvaeus Vandermeer Wikstrom Yilmaz Zandvoort Achterberg Bergqvist Castellano".split()  # noqa: SIM905
SHAPES = [
    "https://example.org/profile/{f}-{l}",
    "https://example.org/people/{F}{L}",
    "https://{f}{l}.example.org/",
    "https://example.org/?user={f}+{l}",
    "https://example.org/team#{L}",
    "https://example.org/{f}.{l}/cv.pdf",
    "https://example.org/{FU}_{LU}",
    "https://example.org/u/{f}%20{l}",
    "https://example.org/{f}",
    "https://example.org/{l}",
    "https://example.org/in/{i}{l}99",
    "https://www.{l}.com/about",
]
WORDS = "kindness teams students listen care time learn support trust share".split()  # noqa: SIM905


def session(rng: random.Random) -> tuple[int, int]:
    """(quotes rendered, leaks) of one random session."""
    n = rng.randint(4, 12)
    chatham = rng.random() < 0.2
    people = [
        Identity(str(i), f"{first} {last}", first, rng.choice(list(Level)), (f"U{i}",))
        for i, (first, last) in enumerate(zip(rng.sample(FIRSTS, n), rng.sample(LASTS, n), strict=True))
    ]
    texts = QuoteText(people, assign_labels(people, chatham_house=chatham), chatham_house=chatham)
    quotes = leaks = 0
    for _ in range(rng.randint(10, 30)):
        words = " ".join(rng.choices(WORDS, k=6))
        if rng.random() < 1 / 3:
            owner = rng.choice(people)
            first, last = owner.full_name.split()
            url = rng.choice(SHAPES).format(
                f=first.lower(), l=last.lower(), F=first, L=last, FU=first.upper(), LU=last.upper(), i=first[0].lower()
            )
            words += " " + rng.choice([url, f"<{url}>", f"<{url}|my page>", f"<{url}|{first}'s page>"])
        out, links = texts.render(words)
        shown = "".join(ch for ch in " ".join([out, *(link.url for link in links)]).casefold() if ch.isalnum())
        quotes += 1
        for person in people:
            level = Level.ANONYMOUS if chatham and person.level.names_the_person else person.level
            first, last = person.full_name.split()
            hidden = set() if level is Level.FULL_NAME else {last} if level is Level.FIRST_NAME else {first, last}
            leaks += sum(1 for word in hidden if word.casefold() in shown)
    return quotes, leaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=150)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    started = time.perf_counter()
    results = [session(rng) for _ in range(args.sessions)]
    quotes, leaks = sum(q for q, _ in results), sum(n for _, n in results)
    print(f"{args.sessions} random sessions, {quotes} quotes rendered in {time.perf_counter() - started:.2f} s")
    print(f"names shown beyond consent: {leaks} (in {sum(1 for _, n in results if n)} sessions)")


if __name__ == "__main__":
    main()
