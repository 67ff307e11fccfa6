"""Replies become quotes; edits, deletions, duplicates; consent changes and 'forget me'."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from bot.domain.consent import Level
from bot.services.errors import BadArguments, NotAllowed
from tests.conftest import PROMPTS
from tests.core.harness import WORKSPACE, Call, prompts_copy

SLOW = """
title: Slow session
questions:
  - text: First question?
    minutes: 120
  - text: Second question?
    minutes: 120
groups:
  count: 2
naming:
  default: anonymous
"""


@pytest.fixture
def call(database_url, tmp_path):
    c = Call(database_url, prompts_copy(tmp_path, PROMPTS, {"slow": SLOW}), time_scale=0.02, people=6)
    c.facilitator_types("start slow")
    yield c
    c.close()


def consent(call, first, level):
    return call.app.consents.choose(call.actor(first), level=level, via="command", channel_id=call.channel_of(first))


def test_replies_edits_deletions_and_duplicates(call):
    consent(call, "Matthew", Level.FIRST_NAME)
    mid, result = call.says("Matthew", "Students need one team.")
    assert result.quote_id and not result.duplicate and result.ask_consent is False
    again = call.app.capture.message_posted(workspace=WORKSPACE, channel_id=call.channel_of("Matthew"), message_id=mid,
                                            author=call.person("Matthew"), text="Students need one team.",
                                            sent_at=dt.datetime.now(dt.UTC))
    assert again.duplicate and again.quote_id == result.quote_id
    _, first_words = call.says("Paul", "Measure kindness.")
    assert first_words.ask_consent  # Paul never chose: the adapter asks him privately
    assert call.says("Paul", "And again.")[1].ask_consent is False  # only the first time

    assert call.app.capture.message_edited(workspace=WORKSPACE, channel_id=call.channel_of("Matthew"), message_id=mid,
                                           text="Students need one team that knows them.")
    text = call.summary()
    assert "one team that knows them" in text and "Students need one team.\n" not in text
    assert call.app.capture.message_deleted(workspace=WORKSPACE, channel_id=call.channel_of("Matthew"), message_id=mid)
    assert "one team" not in call.summary()
    assert call.status().quotes == 2


def test_not_quotes_bots_joins_commands_and_other_channels(call):
    capture = call.app.capture
    now = dt.datetime.now(dt.UTC)
    bot = call.person("Matthew").__class__("UBOT", "Helper Bot", is_bot=True)
    channel = call.channel_of("Matthew")
    assert capture.message_posted(workspace=WORKSPACE, channel_id=channel, message_id="b1", author=bot, text="hi",
                                  sent_at=now).quote_id is None
    assert capture.message_posted(workspace=WORKSPACE, channel_id=channel, message_id="c1", author=call.person("Matthew"),
                                  text="/breakout status", sent_at=now).quote_id is None
    assert capture.message_posted(workspace=WORKSPACE, channel_id="random", message_id="r1", author=call.person("Matthew"),
                                  text="elsewhere", sent_at=now).quote_id is None
    assert capture.message_posted(workspace=WORKSPACE, channel_id="main", message_id="m1", author=call.person("Matthew"),
                                  text="in the main channel", sent_at=now).quote_id is None
    assert call.status().quotes == 0


def test_thread_replies_belong_to_their_question(call):
    consent(call, "Matthew", Level.FULL_NAME)
    channel = call.channel_of("Matthew")
    q1_message = call.posts_in(channel, "question")[0].message_id
    call.facilitator_types("next")
    call.says("Matthew", "Top level, while question 2 is open.")
    call.says("Matthew", "Late answer in question 1's thread.", thread=q1_message)
    first, second = call.summary().split("### 2.")
    assert "Late answer in question 1's thread." in first
    assert "Top level, while question 2 is open." in second


def test_consent_changes_apply_to_the_next_summary_and_forget_me_removes_everything(call):
    call.says("Matthew", "I was here first.")
    assert "Participant 1" in call.summary()  # the plan's default: anonymous
    consent(call, "Matthew", Level.FULL_NAME)
    assert "**Matthew Okafor:**" in call.summary()
    consent(call, "Matthew", Level.INITIALS)
    text = call.summary()
    assert "**MO:**" in text and "Matthew" not in text
    consent(call, "Matthew", Level.NOT_QUOTED)
    assert "I was here first." not in call.summary()

    with call.app.db.transaction() as s:
        records = s.execute(sa.text("select level, wording, given_at from consents")).all()
    assert [r.level for r in records] == ["full_name", "initials", "not_quoted"]
    assert all("How may we name you" in r.wording and r.given_at for r in records)

    reply = call.app.consents.forget(call.actor("Matthew"))
    assert "1 quote(s)" in reply and "3 naming choice(s)" in reply
    with call.app.db.transaction() as s:
        for table, column in (("people", "user_id"),):
            assert s.execute(sa.text(f"select count(*) from {table} where {column} = 'U000'")).scalar() == 0
        person_tables = ["quotes", "consents", "memberships"]
        remaining = {t: s.execute(sa.text(f"select count(*) from {t} join people on people.id = {t}.person_id "
                                          "where people.user_id = 'U000'")).scalar() for t in person_tables}
        assert remaining == {"quotes": 0, "consents": 0, "memberships": 0}
        assert s.execute(sa.text("select count(*) from quotes")).scalar() == 0


def test_consent_command_parsing_and_permission_for_summary(call):
    with pytest.raises(BadArguments, match="not a naming choice"):
        call.types(call.actor("Paul"), "consent maybe", channel=call.channel_of("Paul"))
    assert "First name only" in call.types(call.actor("Paul"), "consent first name", channel=call.channel_of("Paul"))
    from bot.services.commands import SummaryCommand

    with pytest.raises(NotAllowed, match="Only organisers"):
        call.app.summary_for(call.actor("Paul"), SummaryCommand(), channel_id="main")


def test_chosen_name_is_used_within_the_level(call):
    consent(call, "Felize", Level.FULL_NAME)
    call.app.consents.set_name(call.actor("Felize"), name="Fé Marquez-Luna")
    call.says("Felize", "Professional patients help.")
    assert "**Fé Marquez-Luna:**" in call.summary()
    consent(call, "Felize", Level.FIRST_NAME)
    assert "**Fé:**" in call.summary()


def test_summary_by_group_and_resources(call):
    consent(call, "Matthew", Level.FIRST_NAME)
    consent(call, "Paul", Level.FIRST_NAME)
    call.says("Matthew", "Read <https://example.org/reform|the reform article> please")
    call.says("Paul", "Also https://example.org/video.")
    text = call.summary(by="group")
    assert "### Group 1" in text and "### Group 2" in text
    # The real address is shown, not hidden behind its link text.
    assert "the reform article: <https://example.org/reform>, shared by Matthew" in text
    assert "<https://example.org/video>, shared by Paul" in text


def test_forget_me_sticks_and_takes_the_name_out_of_others_words(call):
    for first in ("Matthew", "Paul"):
        consent(call, first, Level.FULL_NAME)
    mid, _ = call.says("Matthew", "Students need one team.")
    call.says("Paul", "I agree with Matthew Okafor, and <@U000|matthew> said it best.")
    call.app.consents.forget(call.actor("Matthew"))
    # The same message delivered again (a retry, a restart reading history back) is not kept.
    again = call.app.capture.message_posted(workspace=WORKSPACE, channel_id=call.channel_of("Paul"), message_id=mid,
                                            author=call.person("Matthew"), text="Students need one team.",
                                            sent_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5))
    assert again.quote_id is None and "forgotten" in again.reason
    text = call.summary()
    assert "Students need one team." not in text
    assert "Matthew" not in text and "Okafor" not in text and "matthew" not in text
    assert "I agree with another participant, and another participant said it best." in text
    with call.app.db.transaction() as s:
        stored = s.execute(sa.text("select text from quotes")).scalars().all()
    # Not even the id a mention carried is left (it used to stay as <@U000>).
    assert stored == ["I agree with another participant, and another participant said it best."]
    # Speaking again later is a new choice to take part, under the plan's default naming.
    later = call.app.capture.message_posted(workspace=WORKSPACE, channel_id=call.channel_of("Paul"), message_id="new.1",
                                            author=call.person("Matthew"), text="Back again.",
                                            sent_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
    assert later.quote_id is not None


def test_a_deletion_that_overtakes_its_message_is_honoured_across_a_restart(call):
    channel = call.channel_of("Paul")
    assert not call.app.capture.message_deleted(workspace=WORKSPACE, channel_id=channel, message_id="late.1")
    call.restart()  # the in-memory state of any adapter is gone; the database remembers
    mid, result = call.says("Paul", "I said this, then deleted it.", message_id="late.1")
    assert result.quote_id is None and "deleted" in result.reason
    # Deletions elsewhere (not a group channel of a running breakout) leave nothing behind.
    call.app.capture.message_deleted(workspace=WORKSPACE, channel_id="random", message_id="x.1")
    with call.app.db.transaction() as s:
        assert s.execute(sa.text("select count(*) from deleted_messages")).scalar() == 1
