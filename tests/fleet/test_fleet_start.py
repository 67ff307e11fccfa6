"""Processes of a fleet starting at the same moment on a fresh PostgreSQL database all come up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import _postgres_url

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not _postgres_url(), reason="a fleet needs PostgreSQL (BREAKOUT_TEST_DATABASE_URL)")


def test_four_processes_migrating_one_fresh_database_at_once_all_succeed(pg_url: str) -> None:
    code = f"from bot.store.database import Database; Database({pg_url!r}).dispose(); print('migrated')"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err[-400:] for _, err in results]
    assert all(out.strip() == "migrated" for out, _ in results)
