"""PostgreSQL: an update's transaction begins with its update id in one round trip
(storage.pg_driver), and stays an ordinary transaction for SQLAlchemy."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database, connection_of
from storage.models import ProcessedUpdate
from storage.repositories import core as core_repo
from tests import pg_server

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

NOW = datetime(2026, 12, 1, 8, 0, 0, 123456, tzinfo=UTC)


async def _marks(db: Database) -> dict[int, datetime]:
    async with db.transaction() as session:
        rows = await session.execute(select(ProcessedUpdate.update_id, ProcessedUpdate.handled_at))
        return {update_id: handled_at for update_id, handled_at in rows}


async def _backend_pid(session: AsyncSession) -> int:
    return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _person(session: AsyncSession, telegram_user_id: int, name: str) -> None:
    """The update's own change, next to its update id."""
    await core_repo.upsert_person(
        session,
        telegram_user_id=telegram_user_id,
        display_name=name,
        username=None,
        telegram_language=None,
        now=NOW,
    )


class _Recording:
    """asyncpg's connection, with the simple-protocol queries it is asked for written down."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.sent: list[str] = []

    async def execute(self, query: str, *args: object, **kwargs: object) -> str:
        self.sent.append(query)
        return str(await self.connection.execute(query, *args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)


async def test_the_begin_carries_the_update_id_in_one_round_trip(db: Database) -> None:
    async with db.transaction() as session:
        conn = await connection_of(session)
        adapted = (await conn.get_raw_connection()).dbapi_connection
        recording = _Recording(adapted._connection)
        adapted._connection = recording
        try:
            assert await core_repo.mark_update_processed(session, update_id=41, now=NOW)
            assert recording.connection.is_in_transaction()
            assert recording.sent == [
                "BEGIN; INSERT INTO processed_update (update_id, handled_at) VALUES "
                "(41, '2026-12-01T08:00:00.123456+00:00') ON CONFLICT (update_id) DO NOTHING"
            ]
        finally:
            adapted._connection = recording.connection
    assert await _marks(db) == {41: NOW}  # kept to the microsecond, in UTC


async def test_a_redelivered_update_id_is_refused(db: Database) -> None:
    async with db.transaction() as session:
        assert await core_repo.mark_update_processed(session, update_id=7, now=NOW)
    async with db.transaction() as session:
        assert not await core_repo.mark_update_processed(session, update_id=7, now=NOW)
    assert list(await _marks(db)) == [7]


async def test_the_mark_commits_and_rolls_back_with_the_updates_change(
    db: Database,
) -> None:
    async with db.transaction() as session:
        assert await core_repo.mark_update_processed(session, update_id=1, now=NOW)
        await _person(session, 501, "Anna")
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            assert await core_repo.mark_update_processed(session, update_id=2, now=NOW)
            await _person(session, 502, "Bruno")
            raise RuntimeError("the handler failed")
    assert list(await _marks(db)) == [1]  # update 2 can be handled again
    async with db.transaction() as session:
        assert await core_repo.person_by_telegram_id(session, 501) is not None
        assert await core_repo.person_by_telegram_id(session, 502) is None


async def test_a_failed_statement_after_the_mark_leaves_a_clean_connection(
    db: Database,
) -> None:
    with pytest.raises(Exception, match="division by zero"):
        async with db.transaction() as session:
            assert await core_repo.mark_update_processed(session, update_id=3, now=NOW)
            await session.execute(text("SELECT 1 / 0"))
    # The same pooled connection, rolled back: the next update's transaction works on it.
    async with db.transaction() as session:
        assert await core_repo.mark_update_processed(session, update_id=3, now=NOW)
        count = await session.execute(select(func.count()).select_from(ProcessedUpdate))
        assert count.scalar_one() == 1
    assert list(await _marks(db)) == [3]


async def test_a_connection_the_server_ended_is_replaced(db: Database, database_url: str) -> None:
    async with db.transaction() as session:
        pid = await _backend_pid(session)
    await pg_server.terminate_backend(database_url, pid)
    await asyncio.sleep(0.2)  # the server's goodbye reaches the idle pooled connection
    async with db.transaction() as session:
        assert await core_repo.mark_update_processed(session, update_id=5, now=NOW)
        assert await _backend_pid(session) != pid
    assert list(await _marks(db)) == [5]


class _DyingUnderTheBegin(_Recording):
    """The server goes away while the BEGIN is on its way."""

    async def execute(self, query: str, *args: object, **kwargs: object) -> str:
        self.connection.terminate()
        raise asyncpg.ConnectionDoesNotExistError(
            "connection was closed in the middle of operation"
        )


async def test_a_connection_that_dies_under_the_begin_fails_the_update_cleanly(
    db: Database,
) -> None:
    async with db.transaction() as session:
        pid = await _backend_pid(session)
    with pytest.raises(DBAPIError) as failed:
        async with db.transaction() as session:
            conn = await connection_of(session)
            adapted = (await conn.get_raw_connection()).dbapi_connection
            adapted._connection = _DyingUnderTheBegin(adapted._connection)
            await core_repo.mark_update_processed(session, update_id=6, now=NOW)
    assert failed.value.connection_invalidated
    async with db.transaction() as session:  # a new connection; update 6 not recorded
        assert await _backend_pid(session) != pid
        assert await core_repo.mark_update_processed(session, update_id=6, now=NOW)
    assert list(await _marks(db)) == [6]


async def test_a_transaction_already_begun_records_the_id_with_a_statement(
    db: Database,
) -> None:
    async with db.transaction() as session:
        await _backend_pid(session)  # the adapter's own BEGIN went first
        assert await core_repo.mark_update_processed(session, update_id=9, now=NOW)
        assert not await core_repo.mark_update_processed(session, update_id=9, now=NOW)
    assert list(await _marks(db)) == [9]
