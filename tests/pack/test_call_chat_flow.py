"""The one import flow every door uses: who may import, which breakout, the size, then the bytes.

The platform's part (finding the shared file, fetching it) is a plain function here that writes down
when it is asked; the flow must ask for a file only after the permission check, and for the bytes only
after the size check.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import func, select

from bot.domain.zoom_chat import ZoomChatError, parse_zoom_chat, size_text
from bot.services.errors import BadArguments, NotAllowed, NotFound
from bot.services.pack import CallChatFile
from bot.store.models import ChatEntry, ChatImport
from tests.conftest import PROMPTS
from tests.core.harness import Call, prompts_copy

from .samples import ZOOM_CHAT


@pytest.fixture
def call(database_url, tmp_path):
    c = Call(database_url, prompts_copy(tmp_path, PROMPTS), time_scale=1.0, people=4)
    c.facilitator_types("start kindness-in-education groups=1")
    yield c
    c.close()


class SharedFile:
    """A file as a platform hands it over, writing down what the flow asked of it."""

    def __init__(self, name: str, data: bytes, *, listed_size: int | None = None):
        self.name, self.data = name, data
        self.listed_size = len(data) if listed_size is None else listed_size
        self.asked: list[str] = []

    def find(self) -> CallChatFile:
        self.asked.append("find")
        return CallChatFile(self.name, self.listed_size, self.fetch)

    def fetch(self) -> bytes:
        self.asked.append("fetch")
        return self.data


def stored(call) -> tuple[int, int]:
    with call.app.db.transaction() as s:
        return (
            s.scalar(select(func.count()).select_from(ChatImport)) or 0,
            s.scalar(select(func.count()).select_from(ChatEntry)) or 0,
        )


def test_the_file_is_found_once_and_fetched_once_and_the_reply_says_what_it_means(call) -> None:
    shared = SharedFile("meeting_saved_chat.txt", ZOOM_CHAT)
    imported = call.app.call_chat.import_chat(call.organiser, find_file=shared.find, channel_id="main")
    assert shared.asked == ["find", "fetch"]
    assert imported.breakout_id == call.status().breakout_id and imported.messages == 3
    assert imported.describe(in_chat=True) == imported.describe() + " /summary now includes the chat."
    assert stored(call) == (1, 3)


def test_someone_who_is_not_an_organiser_costs_the_platform_nothing(call) -> None:
    shared = SharedFile("chat.txt", ZOOM_CHAT)
    with pytest.raises(NotAllowed, match="Only organisers can import the call's chat"):
        call.app.call_chat.import_chat(call.actor("Paul"), find_file=shared.find, channel_id="main")
    assert shared.asked == [] and stored(call) == (0, 0)


def test_no_such_breakout_is_said_before_any_file_is_looked_for(call) -> None:
    shared = SharedFile("chat.txt", ZOOM_CHAT)
    with pytest.raises(NotFound, match="no breakout 99"):
        call.app.call_chat.import_chat(call.organiser, find_file=shared.find, breakout_id=99)
    assert shared.asked == []


def test_a_file_listed_as_too_big_is_never_fetched(call) -> None:
    chat = call.app.call_chat
    chat.max_bytes = 1024
    shared = SharedFile("big.txt", ZOOM_CHAT + b"x" * 2000)
    with pytest.raises(BadArguments) as refused:
        chat.import_chat(call.organiser, find_file=shared.find, channel_id="main")
    assert str(refused.value) == (
        f"big.txt: the file is {size_text(len(shared.data))}, larger than the 1 KB limit for a chat export. "
        "Nothing was imported."
    )
    assert shared.asked == ["find"] and stored(call) == (0, 0)


def test_a_file_bigger_than_its_listing_said_is_refused_after_the_fetch(call) -> None:
    chat = call.app.call_chat
    chat.max_bytes = 1024
    shared = SharedFile("liar.txt", ZOOM_CHAT + b"x" * 2000, listed_size=100)
    with pytest.raises(
        BadArguments, match=r"^liar\.txt: the file is larger than the 1 KB limit .* Nothing was imported"
    ):
        chat.import_chat(call.organiser, find_file=shared.find, channel_id="main")
    assert shared.asked == ["find", "fetch"] and stored(call) == (0, 0)


def test_a_platform_that_cannot_find_a_file_says_so_in_its_own_words(call) -> None:
    def nothing_shared() -> CallChatFile:
        raise BadArguments("I can't find a file you shared here.")

    with pytest.raises(BadArguments, match="can't find a file"):
        call.app.call_chat.import_chat(call.organiser, find_file=nothing_shared, channel_id="main")
    assert stored(call) == (0, 0)


def test_the_command_line_import_goes_through_the_same_size_check(call, tmp_path, capsys) -> None:
    from bot.cli import main

    big = tmp_path / "meeting_saved_chat.txt"
    big.write_bytes(ZOOM_CHAT + b"x" * (6 * 1024 * 1024))
    db = ["--database", call.settings.database_url]
    assert main([*db, "import-chat", str(call.status().breakout_id), str(big)]) == 1
    err = capsys.readouterr().err
    assert "meeting_saved_chat.txt: the file is 6.0 MB, larger than the 5.0 MB limit" in err, err
    assert stored(call) == (0, 0)


@pytest.mark.parametrize(
    ("size", "words"),
    [(1, "1 KB"), (700, "1 KB"), (1024, "1 KB"), (2000, "2 KB"), (1024 * 1024, "1.0 MB"), (5 * 1024 * 1024, "5.0 MB")],
)
def test_one_way_of_wording_a_size(size: int, words: str) -> None:
    assert size_text(size) == words


def test_the_parser_words_its_limit_the_same_way() -> None:
    with pytest.raises(ZoomChatError, match="the file is 2 KB, larger than the 1 KB limit"):
        parse_zoom_chat(b"x" * 2000, max_bytes=1024)


def test_the_write_up_does_not_pull_in_the_import_service() -> None:
    """The summary builder reads the call chat from the store and the domain: no import cycle with the pack."""
    code = "import sys, bot.services.summarise; print('bot.services.pack' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
