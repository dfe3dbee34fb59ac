"""The dashboard's fixtures: the real bot (with its web server on a free port of 127.0.0.1)
against the fake Bot API, on a seeded pair of Unions (tests/web/world.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.config import normalize_database_url
from bot.web import running
from tests.e2e.conftest import bot  # noqa: F401  (the bot without the dashboard)
from tests.e2e.harness import BotUnderTest
from tests.fakes.fixtures import fake_telegram  # noqa: F401
from tests.fakes.telegram_server import FakeTelegram
from tests.web.world import DashWorld, build, sign_init_data

WEBAPP_URL = "https://dashboard.test/"


@dataclass
class Dash:
    bot: BotUnderTest
    world: DashWorld
    base: str  # http://127.0.0.1:<port>

    @property
    def fake(self) -> FakeTelegram:
        return self.bot.fake

    def init_data(self, user_id: int, **kwargs: object) -> str:
        kwargs.setdefault("auth_date", self.bot.clock.now())
        return sign_init_data(self.fake.token, user_id=user_id, **kwargs)  # type: ignore[arg-type]

    def url(self, path: str) -> str:
        return self.base + path


async def start_dashboard(
    fake: FakeTelegram, clock: FakeClock, database_url: str
) -> tuple[BotUnderTest, str]:
    fake.clock = clock
    harness = BotUnderTest(fake, clock, database_url)
    harness.settings = dataclasses.replace(harness.settings, webapp_port=0, webapp_url=WEBAPP_URL)
    app = await harness.start()
    state = running(app)
    assert state is not None
    return harness, f"http://127.0.0.1:{state.port}"


@pytest.fixture
async def dash(
    fake_telegram: FakeTelegram,  # noqa: F811
    clock: FakeClock,
    tmp_path: Path,
) -> AsyncIterator[Dash]:
    url = normalize_database_url(f"sqlite:///{tmp_path / 'dash.db'}")
    harness, base = await start_dashboard(fake_telegram, clock, url)
    try:
        world = await build(harness.db, fake_telegram, clock.now())
        yield Dash(harness, world, base)
    finally:
        await harness.stop()


@pytest.fixture
async def any_dash(
    fake_telegram: FakeTelegram,  # noqa: F811
    clock: FakeClock,
    database_url: str,
) -> AsyncIterator[Dash]:
    """The same on each backend: `test_x[sqlite]` and `test_x[postgres]`."""
    harness, base = await start_dashboard(fake_telegram, clock, database_url)
    try:
        world = await build(harness.db, fake_telegram, clock.now())
        yield Dash(harness, world, base)
    finally:
        await harness.stop()
