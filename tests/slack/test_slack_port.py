"""The chat port on its own against the sandbox: where private messages and files go, and refusals."""

from __future__ import annotations

import pytest

from bot.adapters.slack.port import SlackPort
from bot.sandbox.slack import SlackSandbox
from bot.services.port import ChatError, GroupChannelRequest, MessageKind, Outgoing


def request(name: str, members: tuple[str, ...]) -> GroupChannelRequest:
    return GroupChannelRequest(breakout_id=1, breakout_title="T", plan_slug="p", number=1, name=name,
                               members=members, facilitators=(), home_channel="C0")


def test_tell_falls_back_to_a_direct_message(sb: SlackSandbox, client) -> None:
    ada, bob = sb.add_user("Ada Lovelace"), sb.add_user("Bob Marley")
    channel = sb.add_channel("general", [ada])
    chat = SlackPort(client)
    chat.tell(user_id=ada.id, channel_id=channel.id, text="only you <b>")
    chat.tell(user_id=bob.id, channel_id=channel.id, text="Bob is not in #general")
    assert [e["text"] for e in ada.ephemerals()] == ["only you &lt;b&gt;"]
    assert bob.ephemerals() == [] and [m["text"] for m in bob.dms()] == ["Bob is not in #general"]


def test_refusals_become_sentences_for_the_facilitator(sb: SlackSandbox, client) -> None:
    chat = SlackPort(client)
    with pytest.raises(ChatError, match="Slack says the channel does not exist"):
        chat.post(channel_id="C404", message=Outgoing(MessageKind.BROADCAST, "hi"))
    with pytest.raises(ChatError, match=r"#Bad Name: .*invalid_name_specials"):
        chat.open_group_channel(request("Bad Name", ()))
    ada = sb.add_user("Ada Lovelace")
    channel_id = chat.open_group_channel(request("breakout-p-1", (ada.id, ada.id)))
    assert sb.channel(channel_id).members == [sb.bot.id, ada.id]
    assert chat.open_group_channel(request("breakout-p-1", (ada.id,))) == channel_id  # reused, nobody re-invited
    assert len(sb.calls("conversations.invite")) == 1


def test_a_very_long_message_is_split_not_refused(sb: SlackSandbox, client) -> None:
    channel = sb.add_channel("general", [])
    chat = SlackPort(client)
    delivery = chat.post(channel_id=channel.id, message=Outgoing(MessageKind.QUESTION, "word " * 9000, title="Q"))
    posted = sb.bot_messages(channel)
    assert len(posted) >= 3 and delivery.message_id == posted[0]["ts"]
    assert all(len(m["blocks"]) <= 50 for m in posted)
