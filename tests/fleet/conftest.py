"""The fleet tests run real processes on PostgreSQL, each test in a scratch schema of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import _postgres_schema_url, _postgres_url


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from _postgres_schema_url(_postgres_url())  # type: ignore[arg-type]
