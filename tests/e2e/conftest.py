"""End-to-end fixtures: a fake Telegram, a shared fake clock, the real bot on SQLite.

`any_bot` is the same bot once on SQLite and once on PostgreSQL (the storage tests'
`database_url`: a fresh PostgreSQL database per test; skipped without a server, a failure with
REQUIRE_POSTGRES=1). Take it for the stories that go through PostgreSQL's own paths (the update
id riding with BEGIN, the votes' KEY SHARE lock, the owed edit's FOR UPDATE clear, the fixed
pool); everything else stays on `bot`, SQLite only.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.config import normalize_database_url
from tests.e2e.harness import BotUnderTest
from tests.fakes.fixtures import fake_telegram  # noqa: F401
from tests.fakes.telegram_server import FakeTelegram


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)


@contextlib.asynccontextmanager
async def _running_bot(
    fake: FakeTelegram, clock: FakeClock, database_url: str
) -> AsyncIterator[BotUnderTest]:
    fake.clock = clock
    harness = BotUnderTest(fake, clock, database_url)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


@pytest.fixture
async def bot(
    fake_telegram: FakeTelegram,  # noqa: F811
    clock: FakeClock,
    tmp_path: Path,
) -> AsyncIterator[BotUnderTest]:
    url = normalize_database_url(f"sqlite:///{tmp_path / 'bot.db'}")
    async with _running_bot(fake_telegram, clock, url) as harness:
        yield harness


@pytest.fixture
async def any_bot(
    fake_telegram: FakeTelegram,  # noqa: F811
    clock: FakeClock,
    database_url: str,
) -> AsyncIterator[BotUnderTest]:
    """The real bot on each backend: `test_x[sqlite]` and `test_x[postgres]`."""
    async with _running_bot(fake_telegram, clock, database_url) as harness:
        yield harness
