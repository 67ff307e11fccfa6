"""The demo on the Discord sandbox: the real bot (discord.py) over real sockets, simulated people.

The same story as every platform's demo (``bot.demo.script``): Fiona starts the breakout from the
call's text chat, people choose how to be named with the buttons, talk in their group channels, one
edits and one deletes a reply, the clock runs the questions, and Olu pulls the write-up with /summary.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from bot.adapters.discord.runner import build
from bot.config import Settings
from bot.demo import script
from bot.sandbox.discord import ClientThread, DiscordSandbox, SimMember
from bot.sandbox.discord.model import GUILD_TEXT


def run_discord_demo(settings: Settings, *, out: Path, echo: Callable[[str], None] = print) -> str:
    with DiscordSandbox() as sb:
        previous = sb.point_discord_py()
        try:
            return _session(sb, settings, out, echo)
        finally:
            from bot.adapters.discord.endpoints import point_discord_py_at

            point_discord_py_at(*previous)


def _session(sb: DiscordSandbox, settings: Settings, out: Path, echo: Callable[[str], None]) -> str:
    guild = sb.add_guild("Community Calls")
    facilitators = sb.add_role(guild, "Facilitators")
    organisers = sb.add_role(guild, "Organisers")
    fiona = sb.add_member(guild, "fiona", roles=[facilitators], display_name=script.FACILITATOR[0])
    olu = sb.add_member(guild, "olu", roles=[organisers], display_name=script.ORGANISER[0])
    people: dict[str, SimMember] = {
        v.full_name: sb.add_member(guild, v.display_name.lower(), display_name=v.full_name) for v in script.VOICES
    }
    chat = sb.add_text_channel(guild, "community-call")
    call = sb.add_voice_channel(guild, "Community call")
    fiona.join_voice(call)
    for person in people.values():
        person.join_voice(call)
    echo(
        f"Discord sandbox at {sb.base_url}: {len(people)} people and {script.FACILITATOR[0]} in the voice channel "
        f"'{call.name}'."
    )

    settings = settings.replace(
        discord_token=sb.token,
        discord_api_url=sb.rest_base,
        discord_facilitator_roles=("Facilitators",),
        discord_organiser_roles=("Organisers",),
    )
    runtime = build(settings, clock_name=f"demo-discord-{time.time()}", guild_ready_timeout=0.1)
    thread = ClientThread(runtime.bot, sb.token).start()
    try:
        synced = thread.call(runtime.bot.tree.sync())
        echo(f"$ breakout-bot discord-sync   -> {', '.join('/' + c.name for c in synced)}")
        sb.wait_until(lambda: runtime.bot.core_started, 30, what="the bot's core to start")

        def say(text: str) -> str:
            return re.sub(r"<@\{([^}]+)\}>", lambda m: f"<@{people[m.group(1)].id}>", text)

        echo(f"$ /breakout start plan:{script.PLAN} groups:{script.GROUPS}   (typed by {script.FACILITATOR[0]})")
        reply = fiona.run_command(chat, "breakout start", plan=script.PLAN, groups=script.GROUPS).wait(
            timeout=60, messages=1
        )
        echo(f"  (only Fiona sees) {reply.text}")
        groups = [c for c in sb.channels_in(guild, type=GUILD_TEXT) if c.name.startswith("breakout-")]
        channel_of = {p.id: next(g for g in groups if p.can_see(g)) for p in people.values()}
        for voice in script.VOICES:
            if voice.level is None:
                continue
            person = people[voice.full_name]
            welcome = next(m for m in sb.bot_messages(channel_of[person.id]) if m.custom_ids())
            button = next(i for i in welcome.custom_ids() if i.endswith(":" + voice.level.value))
            answer = person.click(welcome, button).wait(timeout=30, messages=1)
            echo(f"  {voice.display_name} pressed a button: {answer.text.split('.')[0]}")
        sent = {}
        for question in (0, 1):
            if question == 1:
                sb.wait_until(
                    lambda: all(any("Question 2 of" in m.content for m in sb.bot_messages(g)) for g in groups),
                    120,
                    what="question 2",
                )
                echo("  (the clock posts question 2 in every group)")
            for voice in script.VOICES:
                if not voice.replies[question]:
                    continue
                person = people[voice.full_name]
                channel = channel_of[person.id]
                echo(f"[#{channel.name}] {voice.display_name}: {voice.replies[question]}")
                sent[(voice.full_name, question)] = person.say(channel, say(voice.replies[question]))
            if question == 0:
                name, q, text = script.EDIT
                people[name].edit(sent[(name, q)], text)
                echo(f"  ({people[name].member.user.global_name} edited their reply)")
        name, q = script.DELETE
        people[name].delete(sent[(name, q)])
        echo(f"  ({people[name].member.user.global_name} deleted a reply)")
        sb.wait_until(
            lambda: not [c for c in sb.channels_in(guild, type=GUILD_TEXT) if c.name.startswith("breakout-")],
            180,
            what="the breakout to end",
        )
        echo("  (time is up: the group channels are tidied away)")
        echo(f"$ /summary   (typed by {script.ORGANISER[0]})")
        summary = olu.run_command(chat, "summary").wait(timeout=60, messages=1)
        markdown = summary.files[0].text
        out.write_text(markdown, encoding="utf-8")
        echo(
            f"  (only Olu sees the write-up, attached as {summary.files[0].filename}; "
            f"{len(sb.rest_log)} REST calls, mentions disabled on every bot message: "
            f"{all(m.allowed_mentions == {'parse': []} for m in sb.all_messages() if m.author.id == sb.bot_user.id)})"
        )
        return markdown
    finally:
        thread.stop()
        runtime.app.shutdown()
