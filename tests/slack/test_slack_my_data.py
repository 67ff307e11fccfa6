"""/breakout my-data on Slack: the real bot (slack-bolt) against the sandbox hands a person, privately, a file
of everything stored about them, and nothing about anyone else."""

from __future__ import annotations

import json

import pytest

from tests.slack.test_slack_breakout import consent


@pytest.mark.parametrize("mode", ["socket", "http"])
def test_my_data_sends_the_person_their_quotes_and_choices_only(call_factory, mode: str) -> None:
    call = call_factory(mode=mode, people=4)
    sb = call.sb
    call.answer(call.breakout("start kindness-in-education groups=2"))
    matthew, felize, _saskia, paul = call.people
    consent(call, matthew, "first_name")
    consent(call, paul, "full_name")
    matthew.post(call.channel_of(matthew), "Students need one team that knows them.")
    paul.post(call.channel_of(paul), f"Agreed with <@{matthew.id}>: rank gets in the way.")
    felize.post(call.channel_of(felize), "Felize's own thought, nobody else's.")
    sb.wait_until(lambda: len(call.bot.core.summaries.build(1).questions[0].quotes) == 3, message="three quotes")

    answer = call.answer(call.breakout("my-data", user=matthew, channel=call.channel_of(matthew)))
    assert answer.startswith("Here is everything stored about you") and "direct messages" in answer, answer
    (sent,) = sb.wait_until(matthew.files, message="the file in Matthew's direct messages")
    assert sent.filename == "breakout-bot-my-data.json"
    assert paul.files() == [] and felize.files() == []  # privately: to Matthew alone
    data = json.loads(sent.text)
    held = data["held"]
    assert data["user_id"] == matthew.id
    assert [q["text"] for q in held["quotes"]] == ["Students need one team that knows them."]
    assert [c["level"] for c in held["consents"]] == ["first_name"]
    assert held["people"][0]["full_name"] == "Matthew Okafor"
    assert data["named_in_other_peoples_rows"] == {"quotes": 1}  # Paul's mention: counted, not copied
    for other in (paul, felize):
        assert other.id not in sent.text and other.name not in sent.text
    assert "rank gets in the way" not in sent.text and "Felize's own thought" not in sent.text
    assert "full_name" not in [c["level"] for c in held["consents"]]  # Paul's choice is not Matthew's

    bad = matthew.run_command(call.channel_of(matthew), "/breakout", "my-data please")
    assert "takes no arguments" in bad.ack_text and "my-data" in bad.ack_text
