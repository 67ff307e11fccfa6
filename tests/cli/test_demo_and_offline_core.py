"""The demo keeps its breakout where the README says, and the offline core never reaches a platform."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest

from bot.cli import main
from bot.cli.offline import OfflinePort
from bot.services.port import ChatError, ChatPort, ConsentPrompt, GroupChannelRequest, MessageKind, Outgoing


def test_demo_keeps_its_breakout_in_the_default_database_and_a_second_demo_adds_the_next(
    newcomer: Path, capsys, monkeypatch
) -> None:
    """As a new user: ``bash scripts/demo.sh`` (``run`` with no credentials), then ``summary 1 --format html``."""
    scratch = newcomer.parent / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))

    assert main(["run"]) == 0
    first = capsys.readouterr().out
    assert "The summary /summary returned:" in first and "(also written to breakout-summary.md)" in first
    assert first.rstrip().endswith(
        "The demo's breakout is number 1 in sqlite:///breakout-bot.db; "
        "read it again with: breakout-bot summary 1 --format html"
    )
    assert (newcomer / "breakout-bot.db").is_file() and (newcomer / "breakout-summary.md").is_file()

    assert main(["demo", "--platform", "local", "--time-scale", "0.002", "-o", "second.md"]) == 0
    second = capsys.readouterr().out
    assert second.rstrip().endswith("read it again with: breakout-bot summary 2 --format html")

    for number, written in ((1, "breakout-summary.md"), (2, "second.md")):
        assert main(["summary", str(number), "--format", "html"]) == 0
        page = capsys.readouterr().out
        assert page.startswith("<!DOCTYPE html>") and "Kindness in Education" in page
        assert "kindness feeds that will" in page and "rank gets in the way" not in page
        assert main(["summary", str(number)]) == 0
        assert capsys.readouterr().out == (newcomer / written).read_text(encoding="utf-8")
    assert list(scratch.iterdir()) == []  # no breakout-demo-* folders left behind


def test_demo_on_another_database_prints_the_command_that_reaches_it(newcomer: Path, tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'my demo.db'}"
    assert main(["--database", url, "demo", "--platform", "local", "--time-scale", "0.002"]) == 0
    assert (
        capsys.readouterr()
        .out.rstrip()
        .endswith(f"read it again with: breakout-bot --database '{url}' summary 1 --format html")
    )
    assert not (newcomer / "breakout-bot.db").exists()


def test_the_offline_port_is_a_chat_port_that_refuses_to_post() -> None:
    port: ChatPort = OfflinePort()
    assert isinstance(port, ChatPort) and port.platform == "offline"
    request = GroupChannelRequest(1, "Call", "plan", 1, "breakout-plan-1", ("U1",), (), "C1")
    prompt = ConsentPrompt("How may we name you?", (), breakout_id=1)
    attempts = {
        "open_group_channel": ("open a group channel", lambda: port.open_group_channel(request)),
        "post": (
            "post a message",
            lambda: port.post(channel_id="C1", message=Outgoing(MessageKind.BROADCAST, "hello")),
        ),
        "find_post": (
            "look for a post",
            lambda: port.find_post(
                channel_id="C1", key="1:1:q0:open", message=Outgoing(MessageKind.BROADCAST, "hello"), since=dt.datetime.now(dt.UTC)
            ),
        ),
        "tell": ("message a person", lambda: port.tell(user_id="U1", text="hello")),
        "ask_consent": (
            "ask a person how to name them",
            lambda: port.ask_consent(user_id="U1", channel_id="C1", prompt=prompt),
        ),
        "send_file": ("send a file", lambda: port.send_file(user_id="U1", filename="x.md", content=b"x", title="x")),
        "close_group_channel": (
            "close a group channel",
            lambda: port.close_group_channel(channel_id="C1", request=request, archive=False),
        ),
    }
    asked_of_a_platform = {n for n in vars(ChatPort) if not n.startswith("_") and callable(vars(ChatPort)[n])}
    assert set(attempts) == asked_of_a_platform  # a method added to the port is refused here too
    for what, attempt in attempts.values():
        with pytest.raises(ChatError, match=f"not connected to Slack or Discord, so it cannot {what}"):
            attempt()


def test_the_command_line_needs_no_type_ignores() -> None:
    """The offline core is typed: nothing in bot/cli/ hides from the type checker."""
    package = Path(__file__).resolve().parents[2] / "bot" / "cli"
    assert [p.name for p in package.glob("*.py") if "type: ignore" in p.read_text(encoding="utf-8")] == []
