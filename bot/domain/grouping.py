"""Splitting participants into breakout groups."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Hashable, Iterable, Sequence
from typing import TypeVar

T = TypeVar("T", bound=Hashable)


class GroupingError(ValueError):
    pass


def group_sizes(people: int, *, size: int | None = None, count: int | None = None) -> list[int]:
    """Sizes that differ by at most one and add up to ``people``.

    By size, the number of groups is the one that keeps every group closest to ``size``
    (7 people at size 4 make 4+3, not 4+2+1).
    """
    if people < 1:
        raise GroupingError("there is nobody to split into groups")
    if (size is None) == (count is None):
        raise GroupingError("give either a group size or a number of groups")
    if size is not None:
        if size < 1:
            raise GroupingError("a group size must be at least 1")
        count = max(1, round(people / size)) if people >= size else 1
        # round() can leave groups larger than asked by more than half a person; prefer more groups then.
        if math.ceil(people / count) > size + 1:
            count = math.ceil(people / size)
    assert count is not None
    if count < 1:
        raise GroupingError("the number of groups must be at least 1")
    count = min(count, people)
    base, extra = divmod(people, count)
    return [base + 1 if i < extra else base for i in range(count)]


def split(
    people: Sequence[T],
    *,
    size: int | None = None,
    count: int | None = None,
    rng: random.Random | None = None,
    met_before: Iterable[tuple[T, T]] = (),
    tries: int = 200,
) -> list[list[T]]:
    """Shuffle people into groups; with ``met_before`` pairs, keep the arrangement with fewest reunions."""
    rng = rng or random.Random()
    unique = list(dict.fromkeys(people))
    sizes = group_sizes(len(unique), size=size, count=count)
    pairs = {frozenset(p) for p in met_before if p[0] != p[1]}

    def arrange() -> list[list[T]]:
        shuffled = unique[:]
        rng.shuffle(shuffled)
        out, start = [], 0
        for n in sizes:
            out.append(shuffled[start : start + n])
            start += n
        return out

    def reunions(groups: list[list[T]]) -> int:
        return sum(1 for g in groups for a, b in itertools.combinations(g, 2) if frozenset((a, b)) in pairs)

    best = arrange()
    if not pairs:
        return best
    best_score = reunions(best)
    for _ in range(tries):
        if best_score == 0:
            break
        candidate = arrange()
        score = reunions(candidate)
        if score < best_score:
            best, best_score = candidate, score
    return best
