"""End-to-end fixtures: a fake Telegram, a shared fake clock, the real bot on SQLite."""

from __future__ import annotations

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


@pytest.fixture
async def bot(
    fake_telegram: FakeTelegram,  # noqa: F811
    clock: FakeClock,
    tmp_path: Path,
) -> AsyncIterator[BotUnderTest]:
    fake_telegram.clock = clock
    harness = BotUnderTest(
        fake_telegram, clock, normalize_database_url(f"sqlite:///{tmp_path / 'bot.db'}")
    )
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()
