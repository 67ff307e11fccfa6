"""A community call on the Discord sandbox, driven like a transcript, with the real bot connected.

    call = DiscordCall(sandbox, database_url, prompts)
    call.fiona.run_command(call.chat, "breakout start", plan="quick").wait(messages=1)
    call.wait_for_posts(lambda posts: ...)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from bot.adapters.discord.client import REQUIRED_PERMISSIONS
from bot.adapters.discord.runner import DiscordRuntime, build
from bot.config import Settings
from bot.sandbox.discord import Channel, ClientThread, DiscordSandbox, Message, SimMember
from bot.sandbox.discord.model import GUILD_TEXT
from tests.core.harness import QUICK_PLAN, SLOW_PLAN

VOICE_ROOMS = "channels:\n  voice: true\n"
QUICK = QUICK_PLAN + VOICE_ROOMS
SLOW = SLOW_PLAN + VOICE_ROOMS
SLOW_TEXT_ONLY = SLOW.replace("  voice: true\n", "  voice: false\n  archive_at_end: true\n")

NAMES = ["Matthew", "Felize", "Saskia", "Paul", "Bob", "Dana", "Devi", "Priya", "Sam", "Tanya", "Lena", "Kofi"]


class DiscordCall:
    def __init__(self, sandbox: DiscordSandbox, database_url: str, prompts: Path, *, people: int = 7,
                 time_scale: float = 0.02, in_voice: bool = True, extra: dict[str, str] | None = None) -> None:
        self.sb = sandbox
        # The bot gets exactly the permissions deploy/discord.md asks for: if it needs more, tests fail.
        self.guild = sandbox.add_guild("Community Calls", bot_permissions=REQUIRED_PERMISSIONS.value)
        self.facilitators_role = sandbox.add_role(self.guild, "Facilitators")
        self.organisers_role = sandbox.add_role(self.guild, "Organisers")
        self.fiona = sandbox.add_member(self.guild, "fiona", roles=[self.facilitators_role])  # facilitator by role
        self.olu = sandbox.add_member(self.guild, "olu", roles=[self.organisers_role])  # organiser by role
        self.ada = sandbox.add_member(self.guild, "ada", is_admin=True)  # a server admin: both, by default
        self.people = [sandbox.add_member(self.guild, NAMES[i].lower() if i < len(NAMES) else f"person{i}")
                       for i in range(people)]
        self.chat = sandbox.add_text_channel(self.guild, "call-chat")
        self.call = sandbox.add_voice_channel(self.guild, "Main call")
        if in_voice:
            self.fiona.join_voice(self.call)
            for person in self.people:
                person.join_voice(self.call)
        self.settings = Settings.from_mapping({
            "DATABASE_URL": database_url, "BREAKOUT_PROMPTS_DIR": str(prompts), "BREAKOUT_TIME_SCALE": str(time_scale),
            "DISCORD_TOKEN": sandbox.token, "DISCORD_API_URL": sandbox.rest_base,
            "DISCORD_FACILITATOR_ROLES": "Facilitators", "DISCORD_ORGANISER_ROLES": str(self.organisers_role.id),
            **(extra or {}),
        })
        self.clock_name = f"discord-test-{uuid.uuid4().hex}"
        self.runtime: DiscordRuntime | None = None
        self.bot_options: dict[str, object] = {}  # passed to BreakoutBot on each (re)start
        self.thread: ClientThread | None = None
        self.start_bot()
        assert self.thread is not None and self.runtime is not None
        self.thread.call(self.runtime.bot.tree.sync())  # the deliberate sync step, once

    # ----- the bot process

    def start_bot(self) -> None:
        self.runtime = build(self.settings, clock_name=self.clock_name, guild_ready_timeout=0.05, **self.bot_options)
        self.thread = ClientThread(self.runtime.bot, self.sb.token).start()
        self.sb.wait_until(lambda: self.runtime.bot.core_started, what="the core to start")

    def stop_bot(self) -> None:
        if self.thread is not None:
            self.thread.stop()
        if self.runtime is not None:
            self.runtime.app.shutdown()
        self.thread = None

    def restart(self) -> None:
        """The bot process dies and comes back: same database, same Discord server."""
        self.stop_bot()
        self.start_bot()

    def close(self) -> None:
        self.stop_bot()

    # ----- what is on the server

    def group_channels(self) -> list[Channel]:
        return [c for c in self.sb.channels_in(self.guild, type=GUILD_TEXT) if c.name.startswith("breakout-")]

    def bot_posts(self, channel: Channel) -> list[str]:
        return [m.content for m in self.sb.bot_messages(channel)]

    def member(self, name: str) -> SimMember:
        return next(p for p in [*self.people, self.fiona, self.olu, self.ada] if p.name == name)

    def members_of(self, channel: Channel) -> list[SimMember]:
        return [p for p in self.people if p.can_see(channel)]

    def wait_for(self, predicate: Callable[[], object], timeout: float = 15.0, what: str = "") -> object:
        return self.sb.wait_until(predicate, timeout, what=what)

    def welcome(self, channel: Channel) -> Message:
        return next(m for m in self.sb.bot_messages(channel) if m.custom_ids())
