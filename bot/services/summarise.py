"""Building the write-up: the questions, then the quotes, each under the name its author agreed to.

Consent is applied here, at build time, and never stored pre-applied.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from bot.domain.consent import Level
from bot.domain.naming import Identity, QuoteText, assign_labels
from bot.domain.pack import call_attendance, call_chat_sections, merge_resources
from bot.domain.summary import Arrangement, GroupSection, QuestionSection, QuoteLine, Resource, Summary
from bot.services.access import require_organiser
from bot.services.context import Actor, Core
from bot.services.errors import BadArguments, NotFound
from bot.services.locator import Purpose, locate_breakout_id
from bot.store import call_chat
from bot.store import repository as repo
from bot.store.models import Group, Person, Quote


def identity_of(person: Person, level: Level) -> Identity:
    full = person.preferred_name or person.full_name
    first = person.preferred_name.split(" ")[0] if person.preferred_name else (person.first_name or person.display_name)
    # The names a quote may use for them besides the one shown: a chosen name hides the real one,
    # and the platform's display name is a name too.
    aliases = tuple(
        n for n in (person.full_name, person.first_name, person.display_name) if n and n not in (full, first)
    )
    return Identity(
        key=str(person.id),
        full_name=full,
        first_name=first,
        level=level,
        platform_ids=(person.user_id,),
        aliases=aliases,
    )


class Summaries:
    def __init__(self, core: Core):
        self.core = core

    def find(self, actor: Actor, *, breakout_id: int | None = None, channel_id: str | None = None) -> int:
        """The breakout meant: by id, else this channel's, else the newest here (``bot.services.locator``)."""
        return locate_breakout_id(
            self.core, actor, purpose=Purpose.SUMMARY, breakout_id=breakout_id, channel_id=channel_id
        )

    def for_actor(
        self,
        actor: Actor,
        *,
        breakout_id: int | None = None,
        channel_id: str | None = None,
        by: Arrangement = "question",
        highlights_only: bool = False,
    ) -> Summary:
        require_organiser(actor, "pull the write-up")
        return self.build(
            self.find(actor, breakout_id=breakout_id, channel_id=channel_id), by=by, highlights_only=highlights_only
        )

    def build(self, breakout_id: int, *, by: Arrangement = "question", highlights_only: bool = False) -> Summary:
        if by not in ("question", "group"):
            raise BadArguments("Arrange the summary by=question or by=group.")
        with self.core.db.transaction() as s:
            loaded = repo.breakout_with_plan(s, breakout_id)
            if loaded is None:
                raise NotFound(f"There is no breakout {breakout_id}.")
            breakout, plan = loaded
            groups = {g.id: g for g in s.scalars(select(Group).where(Group.breakout_id == breakout_id))}
            # Plain rows, not objects: a year of sessions is tens of thousands of quotes, read once.
            query = select(Quote.person_id, Quote.text, Quote.group_id, Quote.question_index, Quote.highlighted).where(
                Quote.breakout_id == breakout_id, Quote.excluded.is_(False)
            )
            if highlights_only:
                query = query.where(Quote.highlighted.is_(True))
            quotes = list(s.execute(query.order_by(Quote.sent_at, Quote.id)))
            people_in = repo.members(s, breakout_id=breakout_id)
            consents = repo.latest_consents(s, breakout_id=breakout_id)
            persons: dict[int, Person] = {p.id: p for _, p in people_in}
            for q in quotes:
                if q.person_id not in persons:
                    persons[q.person_id] = s.get(Person, q.person_id)  # type: ignore[assignment]
            # Everyone of this workspace is a possible mention, named only by their own consent here.
            speakers = list(persons)
            for p in s.scalars(select(Person).where(Person.workspace == breakout.workspace)):
                persons.setdefault(p.id, p)
            participants = sum(1 for m, _ in people_in if m.role == "participant")
            default = plan.naming.default
            # The call's own chat (imported from Zoom): its authors are people too, named by consent.
            has_chat = call_chat.has_call_chat(s, breakout_id=breakout_id)
            chat_rows = call_chat.rows_in_write_up(s, breakout_id=breakout_id) if has_chat else []
            for row in chat_rows:
                if row.person_id not in persons:
                    persons[row.person_id] = s.get(Person, row.person_id)  # type: ignore[assignment]
            speakers += [row.person_id for row in chat_rows]
            attendance = breakout.attendance
            if attendance is None and has_chat:
                attendance = call_attendance(
                    [p.id for _, p in people_in], sorted(call_chat.authors(s, breakout_id=breakout_id))
                )

        def level_of(person_id: int) -> Level:
            record = consents.get(person_id)
            return Level(record.level) if record else default

        # Labels (and anonymous numbers) go to the people of this breakout, in order of first words;
        # anyone else can only be mentioned, and is then named by their own consent here (none).
        order = list(dict.fromkeys([q.person_id for q in quotes] + speakers))
        identities = [identity_of(persons[pid], level_of(pid)) for pid in order]
        labels = assign_labels(identities, chatham_house=plan.naming.chatham_house)
        speaking = set(order)
        identities += [identity_of(p, level_of(pid)) for pid, p in persons.items() if pid not in speaking]
        texts = QuoteText(identities, labels, chatham_house=plan.naming.chatham_house)

        lines: list[QuoteLine] = []
        shared: dict[str, dict] = {}
        label_of = {pid: labels.get(str(pid)) for pid in order}
        group_number = {gid: g.number for gid, g in groups.items()}
        for q in quotes:
            label = label_of[q.person_id]
            if label is None:
                continue  # not quoted: their words do not appear at all
            text, links = texts.render(q.text)
            line = QuoteLine(
                label=label,
                text=text,
                group=group_number[q.group_id],
                question=None if q.question_index is None else q.question_index + 1,
                highlight=q.highlighted,
            )
            lines.append(line)
            for link in links:
                entry = shared.setdefault(link.url, {"label": link.label, "by": [], "context": text})
                entry["label"] = entry["label"] or link.label
                if label not in entry["by"]:
                    entry["by"].append(label)

        by_question: dict[int, list[QuoteLine]] = defaultdict(list)
        for line in lines:
            by_question[line.question or 1].append(line)
        sections = tuple(
            QuestionSection(i + 1, q.text, tuple(by_question.get(i + 1, ()))) for i, q in enumerate(plan.questions)
        )
        group_sections: tuple[GroupSection, ...] = ()
        if by == "group":
            by_group: dict[int, list[QuoteLine]] = defaultdict(list)
            for line in lines:
                by_group[line.group].append(line)
            group_sections = tuple(
                GroupSection(g.number, tuple(by_group.get(g.number, ())))
                for g in sorted(groups.values(), key=lambda g: g.number)
            )
        resources = tuple(Resource(url, e["label"], tuple(e["by"]), e["context"]) for url, e in shared.items())
        pack = call_chat_sections(chat_rows, labels, texts, highlights_only=highlights_only)
        # Listed as the write-up may show them: by the site alone when an address names someone beyond
        # their consent, and never under link text that reads like another address.
        shown = ((r, texts.shown_link(r.url, r.label)) for r in merge_resources(resources, pack.resources))
        resources = merge_resources([Resource(k.url, k.label, r.shared_by, r.context) for r, k in shown if k], ())
        return Summary(
            title=plan.title,
            date=plan.date or breakout.started_at.date(),
            participant_count=participants,
            group_count=len(groups),
            questions=sections,
            arrangement=by,
            groups=group_sections,
            series=plan.series,
            speaker=plan.speaker,
            chatham_house=plan.naming.chatham_house,
            resources=resources,
            attendance=attendance,
            highlights_only=highlights_only,
            chat=pack.chat,
            hellos=pack.hellos,
        )
