"""A newcomer's mistakes on the command line: one sentence on stderr, a non-zero exit code, no traceback.

Each check runs before any work, so the mistake costs nothing: no database appears, no demo runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.cli.conftest import PROMPTS, breakout_bot
from tests.core.harness import QUICK_PLAN, Call, prompts_copy

CHAT = Path(__file__).resolve().parents[1] / "pack" / "fixtures" / "kindness_chat.txt"


def refused(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run main(argv), insist it refused with a sentence, and return that sentence."""
    code = main(argv)
    out, err = capsys.readouterr()
    assert code != 0, out
    assert "Traceback" not in err and err.strip(), err
    assert len(err.strip().splitlines()) == 1, err  # one sentence, not a log
    return err.strip()


@pytest.fixture
def breakout(newcomer: Path, tmp_path: Path) -> tuple[str, int]:
    """A stopped breakout with the Kindness call's chat imported: (database URL, breakout number)."""
    url = f"sqlite:///{tmp_path / 'call.db'}"
    call = Call(url, prompts_copy(tmp_path, PROMPTS, {"quick": QUICK_PLAN}), time_scale=1.0, people=6)
    try:
        call.facilitator_types("start quick")
        call.facilitator_types("stop")
        number = call.status().breakout_id
    finally:
        call.close()
    assert main(["--database", url, "import-chat", str(number), str(CHAT)]) == 0
    return url, number


def test_summary_to_a_missing_folder_is_refused_before_the_work(newcomer: Path, capsys) -> None:
    target = newcomer / "missing" / "dir" / "x.md"
    sentence = refused(capsys, ["summary", "1", "-o", str(target)])
    assert sentence.startswith(f"Cannot write {target}: the folder {target.parent} does not exist")
    assert "There is no breakout" not in sentence  # checked before the database was even opened
    assert not (newcomer / "breakout-bot.db").exists()


def test_summary_to_a_folder_says_to_give_a_file_name(newcomer: Path, capsys) -> None:
    sentence = refused(capsys, ["summary", "1", "-o", str(newcomer)])
    assert sentence.startswith(f"{newcomer} is a folder; give -o a file name")


def test_demo_to_a_missing_folder_is_refused_before_the_run(newcomer: Path, capsys) -> None:
    target = newcomer / "missing" / "x.md"
    sentence = refused(capsys, ["demo", "--platform", "local", "-o", str(target)])
    assert f"the folder {target.parent} does not exist" in sentence
    assert not (newcomer / "breakout-bot.db").exists()  # the demo never started


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("foo://bar", "foo:// is not a database breakout-bot can use"),
        ("not a url at all", "is not one SQLAlchemy can read"),
        ("sqlite:///{missing}/x.db", "The folder {missing} for the SQLite database x.db does not exist"),
        ("sqlite:///{work}", "is a folder; give a file inside it"),
    ],
)
@pytest.mark.parametrize("command", [["breakouts"], ["summary", "1"], ["chat", "1", "list"], ["db", "upgrade"]])
def test_a_database_url_that_cannot_work_gets_a_sentence(
    newcomer: Path, capsys, url: str, expected: str, command: list[str]
) -> None:
    missing = newcomer / "missing" / "dir"
    url, expected = (s.format(missing=missing, work=newcomer) for s in (url, expected))
    sentence = refused(capsys, ["--database", url, *command])
    assert expected in sentence
    assert not missing.exists()


def test_the_database_from_the_environment_is_checked_the_same_way(newcomer: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "foo://bar")
    assert "foo:// is not a database" in refused(capsys, ["breakouts"])


def test_demo_refuses_a_time_scale_that_never_moves_the_clock(newcomer: Path, capsys) -> None:
    for scale in ("0", "-1", "nan"):
        sentence = refused(capsys, ["demo", "--platform", "local", "--time-scale", scale])
        assert sentence.startswith(f"--time-scale {float(scale):g} would never move the clock: give a number above 0")
    assert not (newcomer / "breakout-summary.md").exists()


@pytest.mark.parametrize("platform", ["discord", "local"])
def test_demo_refuses_a_mode_on_a_platform_without_one(newcomer: Path, capsys, platform: str) -> None:
    sentence = refused(capsys, ["demo", "--platform", platform, "--mode", "http"])
    assert sentence == (
        f"--mode chooses how the Slack demo connects (socket or http); the {platform} demo has no mode, "
        "so leave --mode out."
    )


def test_import_chat_of_a_folder_names_the_export_inside_it(breakout: tuple[str, int], tmp_path: Path, capsys) -> None:
    url, number = breakout
    meeting = tmp_path / "Zoom" / "2024-01-18 Kindness"
    meeting.mkdir(parents=True)
    sentence = refused(capsys, ["--database", url, "import-chat", str(number), str(meeting)])
    assert sentence == (
        f"{meeting} is a folder, not a chat export. Pass the export file itself "
        "(Zoom saves it as meeting_saved_chat.txt in the meeting's folder)."
    )
    (meeting / "meeting_saved_chat.txt").write_text(CHAT.read_text(encoding="utf-8"), encoding="utf-8")
    sentence = refused(capsys, ["--database", url, "import-chat", str(number), str(meeting)])
    assert sentence.endswith(f"Pass the export file itself: {meeting / 'meeting_saved_chat.txt'}.")


def test_import_chat_of_a_missing_file_still_says_no_such_file(
    breakout: tuple[str, int], tmp_path: Path, capsys
) -> None:
    url, number = breakout
    missing = tmp_path / "nowhere.txt"
    assert refused(capsys, ["--database", url, "import-chat", str(number), str(missing)]).startswith(
        f"{missing}: no such file."
    )


def test_a_closed_pipe_ends_the_listing_quietly(breakout: tuple[str, int], newcomer: Path) -> None:
    """``chat 1 list | head -3``: the reader leaves early; no BrokenPipeError traceback, no 'Exception ignored'."""
    url, number = breakout
    listing = breakout_bot(["--database", url, "chat", str(number), "list"], cwd=newcomer)
    assert listing.stdout is not None
    listing.stdout.close()  # the reader is gone before the first line is written
    _, err = listing.communicate(timeout=60)
    assert listing.returncode == 1
    assert err == ""


def test_the_listing_itself_still_prints_every_line(breakout: tuple[str, int], newcomer: Path) -> None:
    url, number = breakout
    listing = breakout_bot(["--database", url, "chat", str(number), "list"], cwd=newcomer)
    out, err = listing.communicate(timeout=60)
    assert (listing.returncode, err) == (0, "")
    assert len(out.splitlines()) == 18


def test_run_slack_with_nothing_set_says_which_credentials_before_touching_the_database(newcomer: Path) -> None:
    run = breakout_bot(["run", "slack"], cwd=newcomer)
    out, err = run.communicate(timeout=60)
    assert run.returncode == 2 and out == ""
    assert err.startswith("To run on Slack, set SLACK_BOT_TOKEN")
    assert "SLACK_APP_TOKEN" in err and "Socket Mode" in err and "SLACK_SIGNING_SECRET with SLACK_MODE=http" in err
    assert "alembic" not in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert not (newcomer / "breakout-bot.db").exists()


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "Besides SLACK_BOT_TOKEN, Slack needs SLACK_APP_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_MODE": "http"}, "HTTP mode (SLACK_MODE=http) needs SLACK_SIGNING_SECRET"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_MODE": "socket", "SLACK_SIGNING_SECRET": "s"},
            "Socket Mode (SLACK_MODE=socket) needs SLACK_APP_TOKEN",
        ),
    ],
)
def test_run_slack_with_half_the_credentials_says_which_half(
    newcomer: Path, capsys, monkeypatch, settings: dict[str, str], expected: str
) -> None:
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    assert refused(capsys, ["run", "slack"]).startswith(expected)
    assert not (newcomer / "breakout-bot.db").exists()


@pytest.mark.parametrize("command", [["run", "discord"], ["discord-sync"]])
def test_discord_without_a_token_says_where_to_get_one(newcomer: Path, capsys, command: list[str]) -> None:
    assert refused(capsys, command).startswith("To run on Discord, set DISCORD_TOKEN")
    assert not (newcomer / "breakout-bot.db").exists()


def test_the_entry_points_reach_the_same_main(newcomer: Path) -> None:
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "breakout-bot"]
    assert script.value == "bot.cli:main" and script.load() is main
    plans = breakout_bot(["plans", "list"], cwd=newcomer)  # python -m bot
    out, err = plans.communicate(timeout=60)
    assert (plans.returncode, err) == (0, "")
    assert "kindness-in-education" in out
