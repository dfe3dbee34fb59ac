"""Reliability fixtures: the real bot against the fake Telegram, with a Union to talk to.

`make_any_bot` (`any_bot`) is `make_bot` (`bot`) once on SQLite and once on PostgreSQL, as
tests/e2e/conftest.py's `any_bot`: for the promises PostgreSQL keeps by its own code.
"""

from __future__ import annotations

import contextlib
import dataclasses
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


@contextlib.asynccontextmanager
async def _bot_factory(
    fake: FakeTelegram, clock: FakeClock, tmp_path: Path, database_url: str
) -> AsyncIterator[BotFactory]:
    started: list[BotUnderTest] = []
    fake.clock = clock

    async def factory(
        *, rate_limiter: bool = False, read_timeout: float = 20.0, concurrent_updates: int = 1
    ) -> BotUnderTest:
        harness = BotUnderTest(fake, clock, database_url, rate_limiter=rate_limiter)
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
async def make_bot(
    fake_telegram: FakeTelegram,  # noqa: F811
    clock: FakeClock,
    tmp_path: Path,
) -> AsyncIterator[BotFactory]:
    """Start the real bot on SQLite: `await make_bot(rate_limiter=True, read_timeout=0.5)`."""
    url = normalize_database_url(f"sqlite:///{tmp_path / 'bot.db'}")
    async with _bot_factory(fake_telegram, clock, tmp_path, url) as factory:
        yield factory


@pytest.fixture
async def make_any_bot(
    fake_telegram: FakeTelegram,  # noqa: F811
    clock: FakeClock,
    tmp_path: Path,
    database_url: str,
) -> AsyncIterator[BotFactory]:
    """`make_bot` on each backend (`[sqlite]`, `[postgres]`; tests/conftest.py's `database_url`)."""
    async with _bot_factory(fake_telegram, clock, tmp_path, database_url) as factory:
        yield factory


@pytest.fixture
async def bot(make_bot: BotFactory) -> BotUnderTest:
    return await make_bot()


@pytest.fixture
async def any_bot(make_any_bot: BotFactory) -> BotUnderTest:
    return await make_any_bot()
