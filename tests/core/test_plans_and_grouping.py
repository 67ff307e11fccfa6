"""Plans: shipped ones load, broken ones list every problem with its line; grouping is fair."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.grouping import group_sizes, split
from bot.domain.plan import PlanInvalid, load_plan
from bot.domain.timeline import StepKind, plan_timeline
from bot.services.plans import PlanLibrary
from tests.conftest import PROMPTS, REPO


def test_shipped_plans_load():
    entries = PlanLibrary(PROMPTS).entries()
    assert {e.slug for e in entries} >= {"kindness-in-education", "team-retro-chatham-house"}
    assert all(e.plan is not None for e in entries), [e.problems for e in entries]
    kindness = PlanLibrary(PROMPTS).get("kindness-in-education")
    assert [q.text[:20] for q in kindness.questions] == ["How could we better ", "How do we encourage "]
    assert kindness.series == "Conversations for Kindness" and kindness.speaker == "Dr Sanjiv Ahluwalia"


BROKEN = """title: Broken
questions:
  - text: First?
    minutes: ten
  - minutes: 5
warnings: [7]
groups:
  size: 4
  count: 3
naming:
  default: first_name
colour: blue
"""


def test_a_broken_plan_lists_every_problem_with_its_line():
    with pytest.raises(PlanInvalid) as caught:
        load_plan(BROKEN, slug="broken")
    found = [(p.line, p.message) for p in caught.value.problems]

    def at(line: int, words: str) -> bool:
        return any(n == line and words in m for n, m in found)

    assert at(4, "minutes as a positive number"), found
    assert at(5, "no text"), found
    assert at(6, "comes before the shortest question"), found
    assert at(7, "both size and count"), found
    assert at(11, "would name people who never agreed"), found
    assert at(12, "unknown key 'colour'"), found
    assert all(p.hint for p in caught.value.problems)


def test_yaml_syntax_errors_point_at_the_line():
    with pytest.raises(PlanInvalid) as caught:
        load_plan("title: x\nquestions:\n  - text: [unclosed\n", slug="x")
    assert caught.value.problems[0].line in (3, 4)
    assert "YAML" in caught.value.problems[0].message


def test_plans_check_and_list_on_the_command_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BROKEN)
    run = subprocess.run([sys.executable, "-m", "bot", "plans", "check", str(bad)], capture_output=True, text=True,
                         cwd=REPO)
    assert run.returncode == 1
    assert "line 4:" in run.stdout and "hint:" in run.stdout
    ok = subprocess.run([sys.executable, "-m", "bot", "plans", "check", "kindness-in-education"], capture_output=True,
                        text=True, cwd=REPO)
    assert ok.returncode == 0 and "OK: Kindness in Education" in ok.stdout
    listed = subprocess.run([sys.executable, "-m", "bot", "plans", "list"], capture_output=True, text=True, cwd=REPO)
    assert "kindness-in-education" in listed.stdout and "team-retro-chatham-house" in listed.stdout


def test_plans_list_and_check_survive_broken_files(tmp_path):
    """One broken file (an empty value, an alias bomb, deep nesting) is listed as broken; the rest still list."""
    import os

    from tests.core.harness import prompts_copy
    from tests.core.test_bad_input import NASTY

    prompts = prompts_copy(tmp_path, PROMPTS, {
        "empty-value": NASTY["empty value"], "bomb": NASTY["alias bomb"], "deep": NASTY["deep nesting"],
        "negative": NASTY["minutes -5"],
    })
    env = {**os.environ, "BREAKOUT_PROMPTS_DIR": str(prompts)}
    listed = subprocess.run([sys.executable, "-m", "bot", "plans", "list"], capture_output=True, text=True,
                            cwd=REPO, env=env, timeout=60)
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()}
    assert "BROKEN" in lines["bomb"] and "BROKEN" in lines["deep"] and "BROKEN" in lines["negative"]
    assert "BROKEN" not in lines["empty-value"] and "BROKEN" not in lines["kindness-in-education"]
    checked = subprocess.run([sys.executable, "-m", "bot", "plans", "check", "bomb", "deep", "negative"],
                             capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
    assert checked.returncode == 1 and "Traceback" not in checked.stderr, checked.stderr
    assert "more than 2000 values" in checked.stdout and "nested more than 16 deep" in checked.stdout
    assert "line 4: question 1 needs minutes as a positive number (got -5)" in checked.stdout


def test_timeline_is_computed_from_the_plan():
    plan = PlanLibrary(PROMPTS).get("kindness-in-education")
    steps = plan_timeline(plan)
    assert [(t, s.key) for t, s in steps] == [(0, "q0:open"), (480, "q0:warn2:r0"), (600, "q1:open"),
                                              (1080, "q1:warn2:r0"), (1200, "close")]
    assert plan_timeline(plan, time_scale=0.01)[-1][0] == pytest.approx(12)
    assert steps[-1][1].kind is StepKind.CLOSE


@given(people=st.integers(1, 200), size=st.integers(2, 12))
def test_group_sizes_by_size_differ_by_at_most_one(people, size):
    sizes = group_sizes(people, size=size)
    assert sum(sizes) == people and max(sizes) - min(sizes) <= 1
    assert max(sizes) <= size + 1 or len(sizes) == 1


@given(people=st.integers(1, 200), count=st.integers(1, 20))
def test_group_sizes_by_count(people, count):
    sizes = group_sizes(people, count=count)
    assert sum(sizes) == people and max(sizes) - min(sizes) <= 1 and len(sizes) == min(count, people)


def test_split_keeps_everyone_and_avoids_reunions():
    people = list(range(13))
    groups = split(people, size=4, rng=random.Random(1))
    assert (sorted(p for g in groups for p in g) == people and [len(g) for g in groups] == [5, 4, 4]) or \
        sorted(len(g) for g in groups) == [4, 4, 5]
    last_time = split(people, count=3, rng=random.Random(2))
    met = {(a, b) for g in last_time for a in g for b in g if a < b}
    again = split(people, count=3, rng=random.Random(3), met_before=met)
    reunions = sum(1 for g in again for a in g for b in g if a < b and (a, b) in met)
    naive = sum(1 for g in split(people, count=3, rng=random.Random(3)) for a in g for b in g if a < b and (a, b) in met)
    assert reunions < naive


def test_lifecycle_keeps_the_series_apart(tmp_path, sqlite_url):
    """avoid_repeats: a second session of the series reunites fewer pairs than chance would."""
    from tests.core.harness import Call, prompts_copy

    plan = ("title: S\nseries: Monthly\nquestions:\n  - text: Q?\n    minutes: 120\ngroups:\n  size: 3\n"
            "  avoid_repeats: true\nnaming:\n  default: anonymous\n")
    call = Call(sqlite_url, prompts_copy(tmp_path, PROMPTS, {"monthly": plan}), people=12)
    try:
        call.facilitator_types("start monthly")
        first = {frozenset(m) for m in call.chat.channels.values()}
        call.facilitator_types("stop")
        call.chat.channels.clear()
        call.facilitator_types("start monthly")
        second = [m - {"UFAC"} for m in call.chat.channels.values()]
        met = {frozenset((a, b)) for g in first for a in g for b in g if a != b}
        reunions = sum(1 for g in second for a in g for b in g if a < b and frozenset((a, b)) in met)
        assert reunions == 0
    finally:
        call.close()
