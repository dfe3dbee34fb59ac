"""Reliability fixtures: the real bot against the fake Telegram, with a Union to talk to."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.config import normalize_database_url
from tests.e2e.harness import BotUnderTest
from tests.fakes.fixtures import fake_telegram  # noqa: F401
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegram

BotFactory = Callable[..., Awaitable[BotUnderTest]]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/reliability/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.reliability)


@pytest.fixture(autouse=True)
def no_token_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every reliability run, faults included, at DEBUG: no log line carries the bot token."""
    caplog.set_level(logging.DEBUG)
    yield
    for record in caplog.get_records("setup") + caplog.get_records("call"):
        text = record.getMessage() + str(record.exc_info or "") + str(record.exc_text or "")
        assert DEFAULT_TOKEN not in text, record
        assert DEFAULT_TOKEN.split(":")[1] not in text, record


@pytest.fixture
async def make_bot(
    fake_telegram: FakeTelegram,  # noqa: F811
    clock: FakeClock,
    tmp_path: Path,
) -> AsyncIterator[BotFactory]:
    """Start the real bot on SQLite: `await make_bot(rate_limiter=True, read_timeout=0.5)`."""
    started: list[BotUnderTest] = []
    fake_telegram.clock = clock

    async def factory(
        *, rate_limiter: bool = False, read_timeout: float = 20.0, concurrent_updates: int = 1
    ) -> BotUnderTest:
        import dataclasses

        harness = BotUnderTest(
            fake_telegram,
            clock,
            normalize_database_url(f"sqlite:///{tmp_path / 'bot.db'}"),
            rate_limiter=rate_limiter,
        )
        harness.settings = dataclasses.replace(
            harness.settings,
            request_read_timeout=read_timeout,
            concurrent_updates=concurrent_updates,
            health_file=str(tmp_path / "health.json"),
        )
        await harness.start()
        started.append(harness)
        return harness

    try:
        yield factory
    finally:
        for harness in started:
            await harness.stop()


@pytest.fixture
async def bot(make_bot: BotFactory) -> BotUnderTest:
    return await make_bot()
