"""/breakout my-data on Discord: the real bot (discord.py) against the sandbox answers privately with a file of
everything stored about the person who asked, and nothing about anyone else."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.sandbox.discord import DiscordSandbox
from tests.conftest import PROMPTS
from tests.core.harness import prompts_copy

from .harness import SLOW, DiscordCall


@pytest.fixture
def call(sandbox: DiscordSandbox, database_url: str, tmp_path) -> Iterator[DiscordCall]:
    c = DiscordCall(sandbox, database_url, prompts_copy(tmp_path, PROMPTS, {"slow": SLOW}), people=4)
    yield c
    c.close()


def test_my_data_answers_privately_with_the_persons_quotes_and_choices_only(call: DiscordCall) -> None:
    call.fiona.run_command(call.chat, "breakout start", plan="slow").wait(messages=1, timeout=15)
    group = call.group_channels()[0]
    speaker, other = call.members_of(group)[:2]
    speaker.run_command(group, "breakout consent", level="first_name").wait(messages=1)
    other.run_command(group, "breakout consent", level="full_name").wait(messages=1)
    speaker.say(group, "Kindness is a team sport.")
    other.say(group, f"I agree with <@{speaker.id}>, and I say more.")
    call.wait_for(lambda: len(call.runtime.app.summaries.build(1).questions[0].quotes) == 2, what="both quotes")

    asked = speaker.run_command(group, "breakout my-data").wait(messages=1, timeout=15)
    assert asked.ephemeral and "everything stored about you" in asked.text
    [file] = asked.files
    assert file.filename == "breakout-bot-my-data.json"
    data = json.loads(file.text)
    held = data["held"]
    assert data["user_id"] == str(speaker.id)
    assert [q["text"] for q in held["quotes"]] == ["Kindness is a team sport."]
    assert [c["level"] for c in held["consents"]] == ["first_name"]
    assert data["named_in_other_peoples_rows"] == {"quotes": 1}  # the other's mention: counted, not copied
    assert str(other.id) not in file.text and other.name not in file.text
    assert "I say more" not in file.text
    assert call.sb.bot_messages(group)[-1].content != file.text  # nothing posted in the channel

    # After forget-me there is nothing left to hand over.
    speaker.run_command(group, "breakout forget-me").wait(messages=1)
    with call.runtime.app.db.transaction() as s:
        left = s.execute(sa.text("select text from quotes")).scalars().all()
    assert left == ["I agree with another participant, and I say more."]  # not even the id of the mention
    empty = speaker.run_command(group, "breakout my-data").wait(messages=1)
    assert empty.ephemeral and empty.text == "Nothing is stored about you." and empty.files == []
