"""How long the insights pack's pure steps take on big inputs. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/pack_bench.py
"""

from __future__ import annotations

import datetime as dt
import random
import time

from bot.domain.pack import collect_resources, pick_hellos, pick_reflections
from bot.domain.summary import ChatLine, QuestionSection, QuoteLine, Resource, Summary
from bot.domain.zoom_chat import DEFAULT_MAX_BYTES, parse_zoom_chat
from bot.render.docx import render_docx
from bot.render.html import render_html

WORDS = "kindness students care team listen learn together time patients culture role model assessment".split()


def big_chat(target_bytes: int, rng: random.Random) -> str:
    lines, size, n = [], 0, 0
    names = [f"Person {i} (they/them)" for i in range(400)]
    while size < target_bytes:
        n += 1
        t = dt.time((n // 3600) % 24, (n // 60) % 60, n % 60).strftime("%H:%M:%S")
        who = rng.choice(names)
        r = rng.random()
        if r < 0.15:
            body = [f'Reacted to "{" ".join(rng.choices(WORDS, k=3))}..." with 👍']  # most find no target
        elif r < 0.2:
            body = [f'Replying to "{" ".join(rng.choices(WORDS, k=3))}..."', "", " ".join(rng.choices(WORDS, k=12))]
        elif r < 0.22:
            lines.append(f"{t} From {who} to Someone(Direct Message):")
            lines.append("\tsecret")
            continue
        else:
            body = [" ".join(rng.choices(WORDS, k=rng.randint(3, 40)))]
            if rng.random() < 0.05:
                body[0] += f" https://example.org/{rng.randint(1, 300)}"
        block = [f"{t} From {who} to Everyone:", *("\t" + b for b in body)]
        lines.extend(block)
        size += sum(len(b) + 1 for b in block)
    return "\n".join(lines) + "\n"


def timed(label: str, fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn()
    print(f"{label:52} {time.perf_counter() - start:8.3f} s")
    return result


def main() -> None:
    rng = random.Random(7)
    text = big_chat(int(DEFAULT_MAX_BYTES * 0.9), rng)
    print(f"chat export: {len(text.encode()) / 1048576:.1f} MB, {text.count(chr(10))} lines")
    chat = timed("parse the largest accepted Zoom export", lambda: parse_zoom_chat(text))
    print(f"  {len(chat.messages)} messages, {chat.reactions} reactions, {chat.direct_messages_dropped} DMs dropped")
    label = lambda a: a.split(" (")[0]  # noqa: E731
    timed("hellos", lambda: pick_hellos(chat.messages, label))
    timed("reflections", lambda: pick_reflections(chat.messages, label))
    resources = timed("resources", lambda: collect_resources(chat.messages, label))
    quotes = tuple(QuoteLine(f"P{i}", " ".join(rng.choices(WORDS, k=40)), 1 + i % 20, 1 + i % 3) for i in range(600))
    summary = Summary(title="Benchmark", date=dt.date(2024, 1, 18), participant_count=200, group_count=20,
                      questions=tuple(QuestionSection(n, f"Question {n}?", tuple(q for q in quotes if q.question == n))
                                      for n in (1, 2, 3)),
                      chat=tuple(ChatLine(f"C{i}", " ".join(rng.choices(WORDS, k=50))) for i in range(200)),
                      resources=tuple(Resource(r.url, r.label, r.shared_by[:3], r.context) for r in resources))
    html = timed("HTML, 600 quotes + 200 chat lines", lambda: render_html(summary))
    docx = timed("DOCX, the same", lambda: render_docx(summary))
    print(f"  HTML {len(html) / 1024:.0f} KB, DOCX {len(docx) / 1024:.0f} KB")


if __name__ == "__main__":
    main()
