"""Slash commands, autocomplete, buttons and context menus: a real commands.Bot against the sandbox."""

from __future__ import annotations

import asyncio
import io

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot.sandbox.discord import ClientThread, DiscordSandbox, SandboxError, all_intents

PLANS = ["community-qa", "roadmap-review", "retro"]


class ConsentView(discord.ui.View):
    """Persistent: no timeout, fixed custom_ids, so it answers clicks after a restart."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Name me", custom_id="consent:named", style=discord.ButtonStyle.success)
    async def named(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_message(f"named:{interaction.user.name}", ephemeral=True)

    @discord.ui.button(label="Anonymous", custom_id="consent:anon")
    async def anon(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="thanks", view=None)


def make_bot(*, slow_summary: float = 0.0) -> commands.Bot:
    bot = commands.Bot(command_prefix=commands.when_mentioned, intents=all_intents(), guild_ready_timeout=0.05,
                       allowed_mentions=discord.AllowedMentions.none())
    breakout = app_commands.Group(name="breakout", description="Run a breakout")

    async def plan_names(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=p, value=p) for p in PLANS if current.lower() in p]

    @breakout.command(name="start", description="Start a breakout")
    @app_commands.autocomplete(plan=plan_names)
    async def start(interaction: discord.Interaction, plan: str, minutes: int = 10, facilitator: discord.Member | None = None) -> None:
        who = facilitator.name if facilitator else "-"
        await interaction.response.send_message(f"started {plan} for {minutes} min by {who}", view=ConsentView())

    @breakout.command(name="stop", description="Stop")
    async def stop(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("stopped", ephemeral=True)
        await interaction.followup.send("and a followup", ephemeral=True)

    @app_commands.command(name="summary", description="Summary")
    async def summary(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await asyncio.sleep(slow_summary)
        await interaction.followup.send("Here it is", file=discord.File(io.BytesIO(b"# Summary\n"), filename="summary.md"), ephemeral=True)

    @app_commands.context_menu(name="Quote this")
    async def quote_this(interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.send_message(f"quoted:{message.content}", ephemeral=True)

    bot.tree.add_command(breakout)
    bot.tree.add_command(summary)
    bot.tree.add_command(quote_this)

    async def setup_hook() -> None:
        bot.add_view(ConsentView())

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    return bot


@pytest.fixture
def world(sandbox: DiscordSandbox):
    guild = sandbox.add_guild("Community")
    alice = sandbox.add_member(guild, "alice", is_admin=True)
    bob = sandbox.add_member(guild, "bob")
    chat = sandbox.add_text_channel(guild, "call-chat")
    return sandbox, guild, alice, bob, chat


def test_commands_must_be_synced_before_use(world) -> None:
    sandbox, guild, alice, _, chat = world
    with ClientThread(make_bot(), sandbox.token):
        with pytest.raises(SandboxError, match="sync"):
            alice.run_command(chat, "breakout start", plan="retro")


def test_sync_registers_global_and_guild_commands(world) -> None:
    sandbox, guild, alice, _, chat = world
    bot = make_bot()
    with ClientThread(bot, sandbox.token) as runner:
        synced = runner.call(bot.tree.sync())
        assert {c.name for c in synced} == {"breakout", "summary", "Quote this"}
        assert sandbox.command_overwrites == 1
        bot.tree.copy_global_to(guild=discord.Object(guild.id))
        runner.call(bot.tree.sync(guild=discord.Object(guild.id)))
        assert {c["name"] for c in sandbox.commands(guild)} == {"breakout", "summary", "Quote this"}
        start = next(o for o in next(c for c in sandbox.commands() if c["name"] == "breakout")["options"] if o["name"] == "start")
        assert [o["name"] for o in start["options"]] == ["plan", "minutes", "facilitator"]
        # Re-syncing keeps command ids stable, as Discord does.
        ids = {c["name"]: c["id"] for c in sandbox.commands()}
        runner.call(bot.tree.sync())
        assert ids == {c["name"]: c["id"] for c in sandbox.commands()}


def test_slash_subcommand_with_options_is_answered(world) -> None:
    sandbox, guild, alice, bob, chat = world
    bot = make_bot()
    with ClientThread(bot, sandbox.token) as runner:
        runner.call(bot.tree.sync())
        reply = alice.run_command(chat, "breakout start", plan="retro", minutes=5, facilitator=bob).wait()
        assert reply.text == "started retro for 5 min by bob"
        assert not reply.ephemeral
        message = reply.original
        assert message.custom_ids() == ["consent:named", "consent:anon"]
        assert message.allowed_mentions == {"parse": []}
        # Non-ephemeral interaction responses are channel messages everyone sees.
        assert sandbox.messages(chat) == [message]
        with pytest.raises(SandboxError, match="needs"):
            alice.run_command(chat, "breakout start", minutes=5)
        with pytest.raises(SandboxError, match="no option"):
            alice.run_command(chat, "breakout start", plan="retro", colour="red")


def test_autocomplete_returns_the_bots_choices(world) -> None:
    sandbox, guild, alice, _, chat = world
    bot = make_bot()
    with ClientThread(bot, sandbox.token) as runner:
        runner.call(bot.tree.sync())
        choices = alice.autocomplete(chat, "breakout start", focused="plan", value="re").wait().choices
        assert [c["value"] for c in choices] == ["roadmap-review", "retro"]


def test_ephemeral_response_and_followup(world) -> None:
    sandbox, guild, alice, bob, chat = world
    bot = make_bot()
    with ClientThread(bot, sandbox.token) as runner:
        runner.call(bot.tree.sync())
        reply = alice.run_command(chat, "breakout stop").wait(messages=2)
        assert [m.content for m in reply.messages] == ["stopped", "and a followup"]
        assert reply.ephemeral
        assert sandbox.messages(chat) == []  # nobody else sees them
        assert [m.content for m in alice.visible_messages(chat)] == ["stopped", "and a followup"]
        assert bob.visible_messages(chat) == []


def test_deferred_summary_followup_carries_a_file(world) -> None:
    sandbox, guild, alice, _, chat = world
    bot = make_bot(slow_summary=0.2)
    with ClientThread(bot, sandbox.token) as runner:
        runner.call(bot.tree.sync())
        reply = alice.run_command(chat, "summary").wait(messages=1)
        assert reply.deferred and reply.ephemeral
        assert reply.text == "Here it is"
        assert [(f.filename, f.data) for f in reply.files] == [("summary.md", b"# Summary\n")]
        assert len(reply.messages) == 1  # the first followup replaced the "thinking" message
        callback = sandbox.calls("POST", "/interactions/{interaction_id}/{token}/callback")[0]
        assert callback.body == {"type": 5, "data": {"flags": 64}}


def test_persistent_buttons_still_work_after_a_restart(world) -> None:
    sandbox, guild, alice, bob, chat = world
    bot = make_bot()
    with ClientThread(bot, sandbox.token) as runner:
        runner.call(bot.tree.sync())
        message = alice.run_command(chat, "breakout start", plan="retro").wait().original
    # A new process: nothing in memory but the persistent view registered in setup_hook.
    with ClientThread(make_bot(), sandbox.token):
        click = bob.click(message, "consent:named").wait()
        assert click.text == "named:bob" and click.ephemeral
        update = bob.click(message, "consent:anon").wait()
        assert update.callback_type == 7
        assert message.content == "thanks" and message.components == []
        with pytest.raises(SandboxError):
            bob.click(message, "consent:anon")  # the buttons are gone
    assert sandbox.identifies == 2


def test_message_context_menu_command(world) -> None:
    sandbox, guild, alice, bob, chat = world
    bot = make_bot()
    with ClientThread(bot, sandbox.token) as runner:
        runner.call(bot.tree.sync())
        said = bob.say(chat, "Community is a verb")
        reply = alice.use_message_command(said, "Quote this").wait()
        assert reply.text == "quoted:Community is a verb"


def test_a_late_acknowledgement_is_refused_like_discord(world) -> None:
    sandbox, guild, alice, _, chat = world
    sandbox.interaction_ack_seconds = 0.05  # shrink Discord's 3 seconds
    bot = make_bot()

    @bot.tree.command(name="slow", description="answers too late")
    async def slow(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.2)
        await interaction.response.send_message("too late")

    errors: list[BaseException] = []

    async def on_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        errors.append(error)

    bot.tree.on_error = on_error  # type: ignore[method-assign]
    with ClientThread(bot, sandbox.token) as runner:
        runner.call(bot.tree.sync())
        record = alice.run_command(chat, "slow")
        sandbox.wait_until(lambda: errors)
        assert not record.acknowledged
        assert isinstance(errors[0].__cause__ or errors[0], discord.NotFound)
        assert sandbox.calls("POST", "/interactions/{interaction_id}/{token}/callback")[0].status == 404


class NoteModal(discord.ui.Modal, title="Add a note"):
    note = discord.ui.TextInput(label="Note", custom_id="note:text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"noted:{self.note.value}", ephemeral=True)


class Panel(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Refresh", custom_id="panel:refresh")
    async def refresh(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.defer()  # type 6: acknowledge, edit later
        await interaction.edit_original_response(content="refreshed", view=None)

    @discord.ui.button(label="Note", custom_id="panel:note")
    async def note(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_modal(NoteModal())  # type 9


def test_deferred_update_modal_and_a_file_in_the_first_response(world) -> None:
    sandbox, guild, alice, _, chat = world
    bot = make_bot()

    @bot.tree.command(name="panel", description="A panel with buttons and a file")
    async def panel(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("panel", view=Panel(), file=discord.File(io.BytesIO(b"a,b\n"), filename="data.csv"))

    with ClientThread(bot, sandbox.token) as runner:
        runner.call(bot.tree.sync())
        shown = alice.run_command(chat, "panel").wait(messages=1)
        assert [(f.filename, f.data) for f in shown.files] == [("data.csv", b"a,b\n")]  # multipart callback
        message = shown.original
        refresh = alice.click(message, "panel:refresh")
        sandbox.wait_until(lambda: message.content == "refreshed")
        assert refresh.callback_type == 6 and message.components == []
        shown = alice.run_command(chat, "panel").wait(messages=1)
        opened = alice.click(shown.original, "panel:note").wait()
        assert opened.callback_type == 9 and opened.modal["title"] == "Add a note"
        submitted = alice.submit_modal(opened, {"note:text": "remember the chairs"}).wait(messages=1)
        assert submitted.text == "noted:remember the chairs" and submitted.ephemeral
        with pytest.raises(SandboxError, match="no fields"):
            alice.submit_modal(opened, {"note:text": "x", "nope": "x"})
        with pytest.raises(SandboxError, match="required"):
            alice.submit_modal(opened, {})
