"""PostgreSQL: a pooled connection is never handed out dead, and a busy pool pays no ping.

storage.db replaces SQLAlchemy's pool_pre_ping (three round trips per transaction with asyncpg)
by a free check of the socket plus a ping only after PING_IDLE_AFTER_S of idleness.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from storage import db as db_module
from storage.db import Database
from tests import pg_server

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """Our engine on the test's PostgreSQL database (no schema needed)."""
    db = Database(database_url)
    try:
        yield db
    finally:
        await db.dispose()


async def _backend_pid(database: Database) -> int:
    async with database.transaction() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


def _count_pings(monkeypatch: pytest.MonkeyPatch, database: Database) -> list[int]:
    pings: list[int] = []
    dialect = database.engine.dialect
    ping = dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(1)
        return ping(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    return pings


async def test_a_connection_the_server_closed_is_replaced(
    database_url: str, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = _count_pings(monkeypatch, database)
    first = await _backend_pid(database)
    await pg_server.terminate_backend(database_url, first)
    await asyncio.sleep(0.2)  # the server's goodbye reaches the idle pooled connection

    second = await _backend_pid(database)  # no error: a new connection took its place

    assert second != first
    assert pings == []  # known closed without asking the server


async def test_an_idle_connection_is_pinged_and_replaced_when_dead(
    database_url: str, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "PING_IDLE_AFTER_S", 0.0)
    pings = _count_pings(monkeypatch, database)
    first = await _backend_pid(database)
    await pg_server.terminate_backend(
        database_url, first
    )  # and at once, whatever asyncpg has noticed yet

    second = await _backend_pid(database)

    assert second != first
    assert len(pings) <= 1  # pinged unless the closed socket already said it


async def test_a_busy_pool_is_not_pinged(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = _count_pings(monkeypatch, database)
    for _ in range(20):
        await _backend_pid(database)
    assert pings == []

    monkeypatch.setattr(db_module, "PING_IDLE_AFTER_S", 0.0)  # now everything is "idle"
    for _ in range(3):
        await _backend_pid(database)
    assert len(pings) == 3
