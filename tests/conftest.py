"""Shared fixtures: databases (SQLite always, PostgreSQL when it can run), clock, settings."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.config import normalize_database_url
from storage import migrate
from storage.db import Database
from tests import pg_server

REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
# PTB 22 warns on every RetryAfter unless opted in to timedelta values (as the bot does).
os.environ.setdefault("PTB_TIMEDELTA", "1")


@pytest.fixture(scope="session")
def pg() -> Iterator[pg_server.PgServer | None]:
    reason = pg_server.unavailable_reason()
    if reason is not None:
        yield None
        return
    server = pg_server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, pg: pg_server.PgServer | None
) -> str:
    """A fresh, empty database URL (async driver), once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return normalize_database_url(f"sqlite:///{tmp_path / 'test.db'}")
    if pg is None:
        message = f"PostgreSQL not available: {pg_server.unavailable_reason()}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    return await pg_server.create_database(pg.admin_url)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A migrated database on each backend."""
    database = Database(database_url)
    await migrate.upgrade(database)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated SQLite database, for tests that need not run on both backends."""
    database = Database(normalize_database_url(f"sqlite:///{tmp_path / 'test.db'}"))
    await migrate.upgrade(database)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    # A Tuesday morning in Rome, outside any daylight-saving change.
    return FakeClock(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
