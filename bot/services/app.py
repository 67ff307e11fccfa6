"""The core assembled: one database, one clock, the use cases. Adapters hold one of these.

An adapter translates a platform payload into one call here and shows the reply privately to the
person who asked. Everything that can go wrong for a person raises ``BreakoutError`` with a message.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.config import Settings
from bot.domain.summary import Summary
from bot.render.markdown import render_markdown
from bot.scheduling.clock import Clock
from bot.scheduling.leadership import Leadership
from bot.services.capture import Capture
from bot.services.commands import BREAKOUT_USAGE, BreakoutCommand, SummaryCommand
from bot.services.consent import Consents
from bot.services.context import Actor, Core, utcnow
from bot.services.curation import Curation
from bot.services.errors import BadArguments, Usage
from bot.services.lifecycle import Lifecycle, Progress
from bot.services.messages import MessageBook
from bot.services.pack import CallChat
from bot.services.plans import PlanLibrary
from bot.services.port import ChatPort, PersonInfo
from bot.services.recovery import Recovery
from bot.services.replay import HandledRequests
from bot.services.summarise import Summaries
from bot.store.database import Database

log = logging.getLogger(__name__)

ParticipantsLookup = Callable[[], tuple[Sequence[PersonInfo], Sequence[PersonInfo]]]


@dataclass(frozen=True)
class SummaryDelivery:
    breakout_id: int
    summary: Summary
    markdown: str
    filename: str
    format: str = "md"  # md | html | docx | pdf: what ``content`` holds
    content: bytes = b""
    mimetype: str = "text/markdown; charset=utf-8"


class BreakoutApp:
    def __init__(
        self,
        settings: Settings,
        port: ChatPort,
        *,
        now: Callable = utcnow,
        rng: random.Random | None = None,
        clock_name: str | None = None,
    ):
        self.settings = settings
        self.db = Database(settings.database_url, pool=settings.database_pool)
        self.core = Core(
            db=self.db,
            port=port,
            plans=PlanLibrary(settings.prompts_dir),
            messages=MessageBook(settings.prompts_dir),
            time_scale=settings.time_scale,
            fanout_concurrency=settings.fanout_concurrency,
            now=now,
            rng=rng or random.Random(),
        )
        # One job table per platform: a Slack and a Discord bot may share a database, and each
        # must fire only its own breakouts' steps.
        self.clock = Clock(self.db.engine, name=clock_name or port.platform, table=f"apscheduler_jobs_{port.platform}")
        self.lifecycle = Lifecycle(self.core, self.clock)
        self.capture = Capture(self.core)
        self.consents = Consents(self.core)
        self.summaries = Summaries(self.core)
        self.call_chat = CallChat(self.core)  # the video call's own chat: import, naming of its authors
        self.curation = Curation(self.core)  # highlights, and taking one's own message out
        self.handled = HandledRequests(self.core)  # requests already handled: a replay does nothing
        self._running = False

    @property
    def plans(self) -> PlanLibrary:
        return self.core.plans

    @property
    def messages(self) -> MessageBook:
        return self.core.messages

    def start(self) -> None:
        """Start the clock (steps that fell due while down fire now) and finish interrupted work."""
        self.clock.start(self.lifecycle.fire, on_lead=self._recover)
        self._running = True

    def _recover(self) -> None:
        """Runs in whichever process fires the clock, at its start and at each takeover."""
        recovered = Recovery(self.lifecycle).run()
        if recovered:
            log.info("resumed running breakouts %s", recovered)

    def hold(self, role: str, *, on_gain: Callable[[], None], on_loss: Callable[[], None]) -> Callable[[], None]:
        """Take a role that one process of the fleet may hold at a time (Discord's gateway session).

        On PostgreSQL it waits, as a standby, until the holder's database session ends; on SQLite the
        one process holds it at once. Returns the function that gives the role up.
        """
        if self.db.engine.dialect.name != "postgresql":
            on_gain()
            return lambda: None
        holder = Leadership(self.db.engine, scope=role, on_gain=on_gain, on_loss=on_loss, on_notify=lambda: None)
        holder.start()
        return holder.stop

    def shutdown(self) -> None:
        if self._running:
            self.clock.shutdown(wait=True)
            self._running = False
        self.db.dispose()

    def __enter__(self) -> BreakoutApp:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def run_breakout_command(
        self,
        actor: Actor,
        command: BreakoutCommand,
        *,
        channel_id: str,
        participants: ParticipantsLookup | None = None,
        progress: Progress | None = None,
        call_channel: str | None = None,
    ) -> str:
        """Carry out one /breakout subcommand; returns the private reply. ``call_channel``: the call's
        voice channel a start was typed from (Discord), kept with the breakout."""
        lc = self.lifecycle
        a = command.action
        if a == "help":
            return BREAKOUT_USAGE
        if a == "start":
            people, facilitators = participants() if participants else ((), ())
            result = lc.start(
                actor,
                home_channel=channel_id,
                plan_slug=command.plan or "",
                participants=people,
                facilitators=facilitators,
                groups=command.groups,
                size=command.size,
                minutes=command.minutes,
                include_facilitators=command.include_facilitators,
                progress=progress,
                call_channel=call_channel,
            )
            return result.describe()
        if a == "status":
            return lc.status(actor, channel_id=channel_id, breakout_id=command.breakout_id).describe()
        if a == "next":
            return lc.advance(actor, channel_id=channel_id, breakout_id=command.breakout_id)
        if a == "extend":
            return lc.extend(actor, minutes=command.minutes or 0, channel_id=channel_id)
        if a == "broadcast":
            return lc.broadcast(actor, text=command.text or "", channel_id=channel_id)
        if a == "pause":
            return lc.pause(actor, channel_id=channel_id, breakout_id=command.breakout_id)
        if a == "resume":
            return lc.resume(actor, channel_id=channel_id, breakout_id=command.breakout_id)
        if a == "stop":
            return lc.stop(actor, channel_id=channel_id, breakout_id=command.breakout_id)
        if a == "consent":
            assert command.level is not None
            return self.consents.choose(actor, level=command.level, via="command", channel_id=channel_id).confirmation
        if a == "name":
            return self.consents.set_name(actor, name=command.text or "")
        if a == "forget-me":
            return self.consents.forget(actor)
        if a == "my-data":
            return self.consents.send_my_data(actor)
        raise AssertionError(a)

    def summary_for(self, actor: Actor, command: SummaryCommand, *, channel_id: str | None) -> SummaryDelivery:
        summary = self.summaries.for_actor(
            actor,
            breakout_id=command.breakout_id,
            channel_id=channel_id,
            by=command.by,  # type: ignore[arg-type]
            highlights_only=command.highlights_only,
        )
        breakout_id = self.summaries.find(actor, breakout_id=command.breakout_id, channel_id=channel_id)
        templates = self.settings.prompts_dir / "templates"
        markdown = render_markdown(summary, templates=templates)
        fmt = getattr(command, "format", "md") or "md"
        if fmt == "md":
            return SummaryDelivery(
                breakout_id, summary, markdown, f"summary-breakout-{breakout_id}.md", content=markdown.encode("utf-8")
            )
        from bot.render.formats import render_summary
        from bot.render.pdf import PdfFailed, PdfUnavailable

        try:
            rendered = render_summary(summary, fmt, templates=templates)
        except (PdfUnavailable, PdfFailed) as exc:
            raise BadArguments(str(exc), hint=Usage("summary", "format", ("html", "docx", "md"))) from None
        except ValueError as exc:
            raise BadArguments(str(exc)) from None
        return SummaryDelivery(
            breakout_id,
            summary,
            markdown,
            f"summary-breakout-{breakout_id}{rendered.extension}",
            format=rendered.format,
            content=rendered.content,
            mimetype=rendered.mimetype,
        )
