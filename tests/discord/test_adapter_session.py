"""The breakout on a Discord server, end to end: the real bot (discord.py) against the sandbox."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

from bot.sandbox.discord import DiscordSandbox
from bot.sandbox.discord.model import GUILD_CATEGORY, GUILD_VOICE
from bot.services.port import ChatError, MessageKind, Outgoing
from tests.conftest import PROMPTS
from tests.core.harness import prompts_copy

from .harness import QUICK, SLOW, SLOW_TEXT_ONLY, DiscordCall


def unescape(markdown: str) -> str:
    """The write-up escapes Markdown punctuation in quotes; compare with what people typed."""
    return re.sub(r"\\([\\`*_{}\[\]()#+\-.!<>|~])", r"\1", markdown)


@pytest.fixture
def prompts(tmp_path):
    return prompts_copy(tmp_path, PROMPTS, {"quick": QUICK, "slow": SLOW, "slow-text": SLOW_TEXT_ONLY})


@pytest.fixture
def call(sandbox: DiscordSandbox, database_url: str, prompts) -> Iterator[DiscordCall]:
    c = DiscordCall(sandbox, database_url, prompts)
    yield c
    c.close()


def test_whole_session_from_start_to_summary_with_voice_moves(call: DiscordCall) -> None:
    sb = call.sb
    reply = call.fiona.run_command(call.chat, "breakout start", plan="quick").wait(messages=1, timeout=15)
    assert reply.ephemeral
    assert "Started Quick check-in" in reply.text and "2 groups" in reply.text
    assert "voice channel Main call" in reply.text

    # A category with one private text channel and one voice room per group.
    category = next(c for c in sb.channels_in(call.guild, type=GUILD_CATEGORY))
    assert category.name == "Breakout · Quick check-in"
    groups = call.group_channels()
    assert [g.name for g in groups] == ["breakout-quick-1", "breakout-quick-2"]
    rooms = sb.channels_in(call.guild, type=GUILD_VOICE, category=category)
    assert [r.name for r in rooms] == ["Group 1", "Group 2"]
    members = [call.members_of(g) for g in groups]
    assert sorted(len(m) for m in members) == [3, 4]
    assert {p.id for m in members for p in m} == {p.id for p in call.people}  # everyone in exactly one group
    assert not set(p.id for p in members[0]) & set(p.id for p in members[1])
    assert all(call.fiona.can_see(g) for g in groups)  # the facilitator sees every group
    assert not call.olu.can_see(groups[0])  # an organiser who is not in the call does not
    # Everyone in the main call went to their group's voice room; the facilitator stayed.
    for room, people in zip(rooms, members):
        assert {p.id for p in sb.members_in_voice(room)} == {p.id for p in people}
    assert sb.voice_channel_of(call.fiona).id == call.call.id

    # Welcome with consent buttons, then the first question, then people talk.
    for g in groups:
        posts = call.bot_posts(g)
        assert "Welcome to group" in posts[0] and "What went well?" in posts[1]
        assert len(call.welcome(g).custom_ids()) == 5
    speaker = members[0][0]
    first = speaker.say(groups[0], "We shipped on time & nobody < burned out")
    other = members[1][0]
    other.say(groups[1], "The demo *really* worked")
    typo = other.say(groups[1], "Retros are usefull")
    other.edit(typo, "Retros are useful")
    oops = members[1][1].say(groups[1], "delete me")
    members[1][1].delete(oops)
    speaker.click(call.welcome(groups[0]), next(i for i in call.welcome(groups[0]).custom_ids() if i.endswith("first_name"))).wait(messages=1)

    # The clock runs the timeline: warning, question 2, warning, close; channels go, people come back.
    call.wait_for(lambda: any("What would you change?" in p for p in call.bot_posts(groups[0])), what="question 2")
    members[0][1].say(groups[0], "More pairing next time")
    call.wait_for(lambda: not call.group_channels(), timeout=20, what="the channels to be cleaned up")
    assert all(sb.voice_channel_of(p).id == call.call.id for p in call.people)  # back in the main call
    call.wait_for(lambda: not sb.channels_in(call.guild, type=GUILD_CATEGORY), what="the category to go")
    assert not sb.channels_in(call.guild, type=GUILD_VOICE, category=category)
    for g in groups:
        texts = [m.content for m in sb.messages(g, include_deleted=True) if m.author.id == sb.bot_user.id]
        assert any("left for this question" in t for t in texts)
        assert any("Time is up" in t for t in texts)

    summary = call.olu.run_command(call.chat, "summary").wait(messages=1, timeout=15)
    assert summary.ephemeral
    [file] = summary.files
    assert file.filename.endswith(".md")
    markdown = unescape(file.text)
    assert "We shipped on time & nobody < burned out" in markdown
    assert "The demo *really* worked" in markdown
    assert "Retros are useful" in markdown and "usefull" not in markdown
    assert "delete me" not in markdown
    assert "More pairing next time" in markdown
    assert f"**{speaker.name}:**" in markdown  # chose first name with the button
    assert other.name not in markdown  # never chose: the plan's default, anonymous
    # Every message the bot ever sent had mentions disabled.
    assert all(m.allowed_mentions == {"parse": []} for m in sb.all_messages() if m.author.id == sb.bot_user.id)


def test_non_facilitator_is_refused_and_nothing_happens(call: DiscordCall) -> None:
    bob = call.people[0]
    reply = bob.run_command(call.chat, "breakout start", plan="slow").wait(messages=1)
    assert reply.ephemeral and "Only facilitators can start a breakout" in reply.text
    assert call.group_channels() == []
    summary = bob.run_command(call.chat, "summary").wait(messages=1)
    assert "Only organisers" in summary.text and summary.files == []
    # An administrator is a facilitator by default, without any role.
    ok = call.ada.run_command(call.chat, "breakout start", plan="slow-text").wait(messages=1, timeout=15)
    assert "Started" in ok.text


def test_everyone_quote_pings_nobody(call: DiscordCall) -> None:
    sb = call.sb
    call.fiona.run_command(call.chat, "breakout start", plan="slow").wait(messages=1, timeout=15)
    group = call.group_channels()[0]
    speaker = call.members_of(group)[0]
    loud = speaker.say(group, f"@everyone @here <@&{call.organisers_role.id}> listen to this")
    assert loud.pings["everyone"]  # the person's own message does ping: that is Discord, not us
    call.wait_for(lambda: speaker.dms(), what="the consent prompt")
    call.fiona.run_command(call.chat, "breakout broadcast", text="@everyone wrap up <@&%d>" % call.organisers_role.id).wait(messages=1)
    call.wait_for(lambda: any("wrap up" in p for p in call.bot_posts(group)))
    call.fiona.run_command(call.chat, "breakout stop").wait(messages=1, timeout=15)
    summary = call.olu.run_command(call.chat, "summary").wait(messages=1)
    assert "listen to this" in summary.files[0].text
    bot_messages = [m for m in sb.all_messages() if m.author.id == sb.bot_user.id]
    assert len(bot_messages) > 5
    for m in bot_messages:
        assert m.allowed_mentions == {"parse": []}, m.content
        assert m.pings == {"everyone": False, "users": [], "roles": []}, m.content
    broadcast = next(m for m in bot_messages if "wrap up" in m.content)
    assert "@everyone" not in broadcast.content  # escaped for display as well (a zero-width space)


def test_a_429_during_the_fanout_still_gives_every_group_every_question(sandbox: DiscordSandbox, database_url, prompts) -> None:
    call = DiscordCall(sandbox, database_url, prompts, people=12)
    try:
        sandbox.inject_429("POST", "/channels/{channel_id}/messages", times=3, retry_after=0.05)
        sandbox.inject_429("POST", "/guilds/{guild_id}/channels", times=2, retry_after=0.05)
        # And one post whose reply is lost after Discord made the message: discord.py retries it.
        sandbox.inject_server_error("POST", "/channels/{channel_id}/messages", after_commit=True)
        reply = call.fiona.run_command(call.chat, "breakout start", plan="quick").wait(messages=1, timeout=20)
        assert "4 groups" in reply.text and "all 4 groups done" in reply.text
        statuses = [c.status for c in sandbox.calls("POST", "/channels/{channel_id}/messages")]
        assert statuses.count(429) == 3 and statuses.count(500) == 1
        groups = call.group_channels()
        call.wait_for(lambda: all(any("What would you change?" in p for p in call.bot_posts(g)) for g in groups),
                      what="question 2 everywhere")
        for g in groups:
            posts = call.bot_posts(g)
            assert sum("What went well?" in p for p in posts) == 1  # once each: retried, not duplicated
            assert sum("What would you change?" in p for p in posts) == 1
            assert sum("Welcome to group" in p for p in posts) == 1
        # Let the timeline finish before the bot stops (see the report: Clock.shutdown(wait=True)
        # can deadlock with a step that is re-scheduling at that moment).
        call.wait_for(lambda: not call.group_channels(), timeout=20, what="the end of the breakout")
    finally:
        call.close()


def test_gateway_disconnect_mid_breakout_loses_no_quote(call: DiscordCall) -> None:
    sb = call.sb
    call.fiona.run_command(call.chat, "breakout start", plan="slow").wait(messages=1, timeout=15)
    group = call.group_channels()[0]
    speakers = call.members_of(group)
    speakers[0].say(group, "before the drop")
    sb.drop_gateway()
    for i, person in enumerate(speakers):
        person.say(group, f"while disconnected {i}")
    call.wait_for(lambda: sb.resumes == 1, what="the RESUME")
    speakers[0].say(group, "after the resume")
    status = call.fiona.run_command(call.chat, "breakout status").wait(messages=1)
    call.wait_for(lambda: "quotes so far" in status.text)
    expected = 2 + len(speakers)
    for _ in range(50):
        status = call.fiona.run_command(call.chat, "breakout status").wait(messages=1)
        if f"{expected} quotes so far" in status.text:
            break
    assert f"{expected} quotes so far" in status.text
    assert sb.identifies == 1  # resumed, not a new session


def test_consent_buttons_still_work_after_a_bot_restart(call: DiscordCall) -> None:
    call.fiona.run_command(call.chat, "breakout start", plan="slow").wait(messages=1, timeout=15)
    group = call.group_channels()[0]
    speaker = call.members_of(group)[0]
    welcome = call.welcome(group)
    speaker.say(group, "Something worth quoting")
    call.wait_for(lambda: speaker.dms(), what="the quote to be captured (the consent prompt follows it)")
    call.restart()
    assert call.sb.identifies == 2
    button = next(i for i in welcome.custom_ids() if i.endswith(":full_name"))
    click = speaker.click(welcome, button).wait(messages=1)
    assert click.ephemeral and "Use my full name" in click.text
    call.fiona.run_command(call.chat, "breakout stop").wait(messages=1, timeout=15)
    summary = call.olu.run_command(call.chat, "summary").wait(messages=1)
    assert f"**{speaker.name}:**" in summary.files[0].text


def test_participants_from_a_role_and_from_the_text_channel(sandbox: DiscordSandbox, database_url, prompts) -> None:
    call = DiscordCall(sandbox, database_url, prompts, in_voice=False)
    try:
        team = sandbox.add_role(call.guild, "Cohort A")
        for person in call.people[:4]:
            sandbox.give_role(person, team)
        reply = call.fiona.run_command(call.chat, "breakout start", plan="slow-text", role=team).wait(messages=1, timeout=15)
        assert "the members of the role Cohort A" in reply.text and "(4 people)" in reply.text
        group = call.group_channels()[0]
        assert {p.id for p in call.members_of(group)} == {p.id for p in call.people[:4]}
        stop = call.fiona.run_command(call.chat, "breakout stop").wait(messages=1, timeout=15)
        assert "Stopped" in stop.text
        # archive_at_end: the channel stays, read-only for the group.
        assert call.group_channels() == [group]
        assert not sandbox.can(call.people[0], group, 1 << 11)
        assert call.people[0].can_see(group)
        elsewhere = sandbox.add_text_channel(call.guild, "cohort-chat")
        reply = call.fiona.run_command(elsewhere, "breakout start", plan="slow-text").wait(messages=1, timeout=15)
        assert "the members of #cohort-chat" in reply.text
        assert "(3, 3, 3 people)" in reply.text or "3 groups" in reply.text
    finally:
        call.close()


def test_forget_me_and_consent_command(call: DiscordCall) -> None:
    call.fiona.run_command(call.chat, "breakout start", plan="slow").wait(messages=1, timeout=15)
    group = call.group_channels()[0]
    speaker = call.members_of(group)[0]
    speaker.say(group, "Please remember this")
    choose = speaker.run_command(group, "breakout consent", level="initials").wait(messages=1)
    assert "Initials only" in choose.text and choose.ephemeral
    gone = speaker.run_command(group, "breakout forget-me").wait(messages=1)
    assert "1 quote(s)" in gone.text
    call.fiona.run_command(call.chat, "breakout stop").wait(messages=1, timeout=15)
    summary = call.olu.run_command(call.chat, "summary").wait(messages=1)
    assert "Please remember this" not in summary.files[0].text


def test_plan_autocomplete_lists_the_plans(call: DiscordCall) -> None:
    choices = call.fiona.autocomplete(call.chat, "breakout start", focused="plan", value="slow").wait().choices
    assert sorted(c["value"] for c in choices) == ["slow", "slow-text"]
    everything = call.fiona.autocomplete(call.chat, "breakout start", focused="plan", value="").wait().choices
    assert {"quick", "kindness-in-education"} <= {c["value"] for c in everything}


def test_what_was_said_while_the_bot_was_down_is_read_back(call: DiscordCall) -> None:
    call.fiona.run_command(call.chat, "breakout start", plan="slow").wait(messages=1, timeout=15)
    group = call.group_channels()[0]
    speakers = call.members_of(group)
    speakers[0].say(group, "said while the bot was up")
    call.wait_for(lambda: speakers[0].dms(), what="the first quote")
    call.stop_bot()
    speakers[1].say(group, "said while the bot was down")
    edited = speakers[0].say(group, "typo while down: recieve")
    speakers[0].edit(edited, "typo while down: receive")
    call.start_bot()
    call.wait_for(lambda: call.runtime.bot.catching_up is not None and call.runtime.bot.catching_up.done())
    assert call.runtime.bot.catching_up.result() >= 3
    call.fiona.run_command(call.chat, "breakout stop").wait(messages=1, timeout=15)
    summary = unescape(call.olu.run_command(call.chat, "summary").wait(messages=1).files[0].text)
    assert "said while the bot was up" in summary
    assert "said while the bot was down" in summary
    assert "typo while down: receive" in summary and "recieve" not in summary
    assert summary.count("said while the bot was up") == 1  # read back, not captured twice


def test_deploy_doc_invite_carries_exactly_the_required_permissions() -> None:
    from bot.adapters.discord.client import REQUIRED_PERMISSIONS, breakout_intents, invite_url

    doc = (PROMPTS.parent / "deploy" / "discord.md").read_text(encoding="utf-8")
    assert f"permissions={REQUIRED_PERMISSIONS.value}" in doc
    assert f"permissions={REQUIRED_PERMISSIONS.value}" in invite_url(1)
    assert not REQUIRED_PERMISSIONS.administrator
    intents = breakout_intents()
    assert intents.members and intents.message_content and not intents.presences


def test_consent_prompt_by_dm_and_its_buttons_work_there(call: DiscordCall) -> None:
    call.fiona.run_command(call.chat, "breakout start", plan="slow").wait(messages=1, timeout=15)
    group = call.group_channels()[0]
    first, second = call.members_of(group)[:2]
    first.say(group, "First words from someone who never chose")
    [prompt] = call.wait_for(lambda: first.dms(), what="the consent prompt by DM")  # type: ignore[misc]
    assert "How may we name you" in prompt.content and len(prompt.custom_ids()) == 5
    click = first.click(prompt, next(i for i in prompt.custom_ids() if i.endswith(":initials"))).wait(messages=1)
    assert click.ephemeral and "Initials only" in click.text
    # Someone whose DMs are closed is asked in the group channel instead, without a ping.
    second.close_dms()
    second.say(group, "I keep my DMs closed")
    asked = call.wait_for(lambda: [m for m in call.sb.bot_messages(group) if m.content.startswith(f"<@{second.id}>")],
                          what="the consent prompt in the channel")
    assert asked[0].pings["users"] == [] and len(asked[0].custom_ids()) == 5  # type: ignore[index]
    call.fiona.run_command(call.chat, "breakout stop").wait(messages=1, timeout=15)
    text = call.olu.run_command(call.chat, "summary").wait(messages=1).files[0].text
    assert f"**{first.name[0].upper()}:**\n\nFirst words from someone who never chose" in text
    assert first.name not in text


def test_a_big_call_spills_into_a_second_category(sandbox: DiscordSandbox, database_url, prompts) -> None:
    call = DiscordCall(sandbox, database_url, prompts, people=52)
    try:
        reply = call.fiona.run_command(call.chat, "breakout start", plan="slow", size=2).wait(messages=1, timeout=60)
        assert "26 groups" in reply.text and "all 26 groups done" in reply.text
        categories = sandbox.channels_in(call.guild, type=GUILD_CATEGORY)
        assert [c.name for c in categories] == ["Breakout · Quick check-in", "Breakout · Quick check-in (2)"]
        assert [len(sandbox.channels_in(call.guild, category=c)) for c in categories] == [50, 2]
        rooms = [sandbox.voice_channel_of(p) for p in call.people]
        assert all(r is not None and r.name.startswith("Group ") for r in rooms)
        stop = call.fiona.run_command(call.chat, "breakout stop").wait(messages=1, timeout=60)
        assert "Stopped" in stop.text
        call.wait_for(lambda: not sandbox.channels_in(call.guild, type=GUILD_CATEGORY), what="both categories to go")
        assert all(sandbox.voice_channel_of(p).id == call.call.id for p in call.people)
    finally:
        call.close()


def test_steering_commands_answer_privately_and_reach_every_group(call: DiscordCall) -> None:
    fiona, chat = call.fiona, call.chat
    fiona.run_command(chat, "breakout start", plan="slow", groups=2).wait(messages=1, timeout=15)
    groups = call.group_channels()

    def says(command: str, **options: object) -> str:
        reply = fiona.run_command(chat, command, **options).wait(messages=1, timeout=15)
        assert reply.ephemeral, command
        return reply.text

    assert "now has" in says("breakout extend", minutes=5)
    assert all(any("added 5 minutes" in p for p in call.bot_posts(g)) for g in groups)
    assert "Paused" in says("breakout pause")
    assert "(paused)" in says("breakout status")
    assert "already paused" in says("breakout pause")  # a clear refusal, nothing changes
    assert "Resumed" in says("breakout resume")
    assert "Sent to 2 of 2 groups" in says("breakout broadcast", text="Five minutes, then we regroup")
    assert all(any("Five minutes, then we regroup" in p for p in call.bot_posts(g)) for g in groups)
    assert "Moved to question 2 of 2" in says("breakout next")
    assert all(any("What would you change?" in p for p in call.bot_posts(g)) for g in groups)
    assert "has ended" in says("breakout next")
    call.wait_for(lambda: not call.group_channels(), what="the channels to go")
    assert "has already ended" in says("breakout extend", minutes=1) or "No breakout" in says("breakout extend", minutes=1)
    help_text = fiona.run_command(chat, "breakout help").wait(messages=1).text
    assert "/breakout start" in help_text


def test_the_port_from_a_worker_thread_and_never_from_the_loop(call: DiscordCall) -> None:
    assert call.runtime is not None and call.thread is not None
    port, person = call.runtime.port, call.people[0]
    port.send_file(user_id=str(person.id), filename="summary.md", content=b"# Hi\n", title="Your summary")
    [dm] = person.dms()
    assert dm.content == "Your summary" and dm.attachments[0].data == b"# Hi\n"
    port.tell(user_id=str(person.id), text="*not* bold, @everyone")
    said = person.dms()[-1]
    assert said.content == "\\*not\\* bold, @\u200beveryone" and said.pings["everyone"] is False

    async def on_the_loop() -> None:
        port.tell(user_id=str(person.id), text="deadlock?")

    try:
        call.thread.call(on_the_loop())
    except RuntimeError as exc:
        assert "event loop" in str(exc)
    else:
        raise AssertionError("calling the port on the bot's loop must raise, not deadlock")
    try:
        port.post(channel_id="1", message=Outgoing(MessageKind.BROADCAST, "x"))
    except ChatError as exc:
        assert "no longer exists" in str(exc) or "could not" in str(exc)
    else:
        raise AssertionError("posting to a channel that does not exist should be a ChatError")


def test_starting_makes_only_the_requests_it_must(sandbox: DiscordSandbox, database_url, prompts) -> None:
    """Discord rate-limits per route; the start costs one request per thing it makes, no lookups."""
    call = DiscordCall(sandbox, database_url, prompts, people=12)
    try:
        before = len(sandbox.rest_log)
        call.fiona.run_command(call.chat, "breakout start", plan="slow").wait(messages=1, timeout=20)
        calls = [f"{c.method} {c.route}" for c in sandbox.rest_log[before:]]
        groups = len(call.group_channels())
        assert groups == 4
        assert calls.count("POST /guilds/{guild_id}/channels") == 1 + 2 * groups  # category, text + voice each
        assert calls.count("POST /channels/{channel_id}/messages") == 2 * groups  # welcome, question 1
        assert calls.count("PATCH /guilds/{guild_id}/members/{user_id}") == 12  # one move per person in the call
        assert not [c for c in calls if c.startswith("GET ")]  # everything else comes from the gateway cache
        assert len(calls) == (1 + 2 * groups) + 2 * groups + 12 + 2  # + the interaction's callback and followup
    finally:
        call.close()


def test_under_real_rate_limits_the_start_gets_no_429(database_url, prompts) -> None:
    """Discord-like buckets (shrunk in time): the bot, through discord.py, never trips one."""
    limits = {"POST /channels/{channel_id}/messages": (5, 0.5), "POST /guilds/{guild_id}/channels": (50, 0.3),
              "PATCH /guilds/{guild_id}/members/{user_id}": (5, 0.3)}
    with DiscordSandbox(rate_limits=limits) as sb:
        previous = sb.point_discord_py()
        call = DiscordCall(sb, database_url, prompts, people=18)
        try:
            reply = call.fiona.run_command(call.chat, "breakout start", plan="slow").wait(messages=1, timeout=30)
            assert "all 6 groups done" in reply.text
            assert len(sb.calls("PATCH", "/guilds/{guild_id}/members/{user_id}")) == 18  # every move once, no retries
            broadcast = call.fiona.run_command(call.chat, "breakout broadcast", text="Halfway").wait(messages=1, timeout=30)
            assert "Sent to 6 of 6 groups" in broadcast.text
            assert sb.unexpected_429s == []
            assert all(sum("Halfway" in p for p in call.bot_posts(g)) == 1 for g in call.group_channels())
        finally:
            call.close()
            from bot.sandbox.discord import point_discord_py_at

            point_discord_py_at(*previous)


def test_after_a_restart_people_still_go_back_to_the_main_call(call: DiscordCall) -> None:
    sb = call.sb
    call.fiona.run_command(call.chat, "breakout start", plan="slow").wait(messages=1, timeout=15)
    assert all(sb.voice_channel_of(p).name.startswith("Group ") for p in call.people)
    call.restart()  # the bot forgets which voice channel the call was in...
    stop = call.fiona.run_command(call.chat, "breakout stop").wait(messages=1, timeout=15)
    assert "Stopped" in stop.text
    call.wait_for(lambda: not call.group_channels(), what="the channels to go")
    # ...but the database keeps it with the breakout, so everyone is back where they started.
    assert all(sb.voice_channel_of(p).id == call.call.id for p in call.people)


def test_people_in_other_voice_channels_are_left_alone(sandbox: DiscordSandbox, database_url, prompts) -> None:
    call = DiscordCall(sandbox, database_url, prompts, in_voice=False)
    try:
        elsewhere = sandbox.add_voice_channel(call.guild, "Another meeting")
        call.people[0].join_voice(elsewhere)
        reply = call.fiona.run_command(call.chat, "breakout start", plan="slow").wait(messages=1, timeout=15)
        assert "the members of #call-chat" in reply.text  # Fiona is not in voice: the text channel decides
        assert sandbox.voice_channel_of(call.people[0]).id == elsewhere.id
        call.fiona.run_command(call.chat, "breakout stop").wait(messages=1, timeout=15)
    finally:
        call.close()


def test_a_reply_to_an_earlier_question_counts_for_that_question(call: DiscordCall) -> None:
    call.fiona.run_command(call.chat, "breakout start", plan="slow").wait(messages=1, timeout=15)
    group = call.group_channels()[0]
    speaker = call.members_of(group)[0]
    question_1 = next(m for m in call.sb.bot_messages(group) if "What went well?" in m.content)
    assert "Moved to question 2" in call.fiona.run_command(call.chat, "breakout next").wait(messages=1).text
    speaker.say(group, "An answer to the second question")
    speaker.say(group, "A late thought on the first one", reply_to=question_1)
    call.wait_for(lambda: speaker.dms(), what="capture")
    call.fiona.run_command(call.chat, "breakout stop").wait(messages=1, timeout=15)
    text = call.olu.run_command(call.chat, "summary").wait(messages=1).files[0].text
    sections = text.split("### ")
    q1 = next(s for s in sections if s.startswith("1. What went well?"))
    q2 = next(s for s in sections if s.startswith("2. What would you change?"))
    assert "A late thought on the first one" in q1 and "A late thought" not in q2
    assert "An answer to the second question" in q2


def test_replies_in_a_questions_thread_are_quoted_under_that_question(call: DiscordCall) -> None:
    call.fiona.run_command(call.chat, "breakout start", plan="slow").wait(messages=1, timeout=15)
    group = call.group_channels()[0]
    speaker, other = call.members_of(group)[:2]
    question_1 = next(m for m in call.sb.bot_messages(group) if "What went well?" in m.content)
    thread = speaker.start_thread(question_1, "Went well")
    assert thread.id == question_1.id and not call.olu.can_see(thread)  # private like its channel
    call.fiona.run_command(call.chat, "breakout next").wait(messages=1)
    speaker.say(thread, "In the thread, about question one")
    said = other.say(thread, "Me too, with a typo: recieve")
    other.edit(said, "Me too: receive")
    call.wait_for(lambda: other.dms(), what="capture in the thread")
    call.fiona.run_command(call.chat, "breakout stop").wait(messages=1, timeout=15)
    text = unescape(call.olu.run_command(call.chat, "summary").wait(messages=1).files[0].text)
    q1 = next(s for s in text.split("### ") if s.startswith("1. What went well?"))
    assert "In the thread, about question one" in q1 and "Me too: receive" in q1 and "recieve" not in text


def wait_for_quotes(call: DiscordCall, count: int) -> None:
    """Until the core has ``count`` quotes (the bot's status says so)."""
    def enough() -> bool:
        status = call.fiona.run_command(call.chat, "breakout status").wait(messages=1)
        return f"{count} quotes so far" in status.text
    call.wait_for(enough, what=f"{count} quotes")


def caught_up(call: DiscordCall) -> int:
    bot = call.runtime.bot
    call.wait_for(lambda: bot.catching_up is not None and bot.catching_up.done(), what="the read-back")
    return bot.catching_up.result()


def test_deleted_and_edited_while_the_bot_was_down(call: DiscordCall) -> None:
    call.fiona.run_command(call.chat, "breakout start", plan="slow").wait(messages=1, timeout=15)
    group = call.group_channels()[0]
    first, second = call.members_of(group)[:2]
    question_1 = next(m for m in call.sb.bot_messages(group) if "What went well?" in m.content)
    thread = first.start_thread(question_1, "Went well")
    first.say(group, "This one stays")
    regret = second.say(group, "Something I regret saying")
    typo = first.say(group, "A typo here: recieve")
    first.say(thread, "In the thread, and it stays")
    regret_in_thread = second.say(thread, "Regretted in the thread too")
    wait_for_quotes(call, 5)
    call.stop_bot()
    second.delete(regret)
    second.delete(regret_in_thread)
    first.edit(typo, "A typo here: receive")
    call.start_bot()
    assert caught_up(call) >= 4
    call.fiona.run_command(call.chat, "breakout stop").wait(messages=1, timeout=15)
    summary = unescape(call.olu.run_command(call.chat, "summary").wait(messages=1).files[0].text)
    assert "Something I regret saying" not in summary and "Regretted in the thread" not in summary
    assert "A typo here: receive" in summary and "recieve" not in summary
    assert "This one stays" in summary
    assert "In the thread, and it stays" in summary  # a thread's messages are read too, not taken for deleted


def test_a_busy_channel_is_read_back_page_by_page_and_loses_nothing(call: DiscordCall) -> None:
    call.bot_options = {"catch_up_page": 3}  # instead of posting more than a page of 100
    call.restart()
    call.fiona.run_command(call.chat, "breakout start", plan="slow").wait(messages=1, timeout=15)
    group = call.group_channels()[0]
    speakers = call.members_of(group)
    live = [speakers[i % len(speakers)].say(group, f"live message {i}") for i in range(7)]
    wait_for_quotes(call, 7)
    call.stop_bot()
    for i in range(10):
        speakers[i % len(speakers)].say(group, f"while down {i}")
    speakers[0].delete(live[0])
    call.start_bot()
    assert caught_up(call) >= 16  # everything in the window, over several pages
    call.fiona.run_command(call.chat, "breakout stop").wait(messages=1, timeout=15)
    summary = unescape(call.olu.run_command(call.chat, "summary").wait(messages=1).files[0].text)
    assert "live message 0" not in summary
    assert all(f"live message {i}" in summary for i in range(1, 7))  # stored ones on later pages are kept
    assert all(f"while down {i}" in summary for i in range(10))
    assert all(summary.count(f"while down {i}") == 1 for i in range(10))


def test_reading_back_stops_at_the_bound_says_so_and_then_deletes_nothing(call: DiscordCall, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="bot.adapters.discord.events")
    call.bot_options = {"catch_up_page": 2, "catch_up_bound": 4}
    call.restart()
    call.fiona.run_command(call.chat, "breakout start", plan="slow").wait(messages=1, timeout=15)
    group = call.group_channels()[0]
    speaker = call.members_of(group)[0]
    for i in range(6):
        speaker.say(group, f"said live {i}")
    wait_for_quotes(call, 6)
    call.restart()
    caught_up(call)
    assert any("#" + group.name in r.getMessage() and "stopped after 4 messages" in r.getMessage()
               for r in caplog.records)
    call.fiona.run_command(call.chat, "breakout stop").wait(messages=1, timeout=15)
    summary = unescape(call.olu.run_command(call.chat, "summary").wait(messages=1).files[0].text)
    assert all(f"said live {i}" in summary for i in range(6))  # not read back is not taken for deleted
