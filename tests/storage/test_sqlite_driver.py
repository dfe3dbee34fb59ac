"""The SQLite driver (storage/sqlite_driver.py): same results as SQLAlchemy's aiosqlite adapter,
a transaction's statements run on the event loop with no hand-off to aiosqlite's thread, a busy
lock waited for without blocking the loop, and a connection returned inside a transaction still
rolled back (SQLite's write lock released)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite.core
import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from storage import sqlite_driver
from storage.db import Database
from storage.models import Person, ProcessedUpdate, Union
from storage.sqlite_driver import OneHopConnection

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts the calls queued to aiosqlite's thread."""
    count = [0]
    original = aiosqlite.core.Connection._execute

    async def counted(self: aiosqlite.core.Connection, fn: object, *args: object, **kw: object):  # type: ignore[no-untyped-def]
        count[0] += 1
        return await original(self, fn, *args, **kw)

    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counted)
    yield count


async def test_engine_uses_the_one_hop_driver_and_keeps_its_names(sqlite_db: Database) -> None:
    assert sqlite_db.engine.dialect.name == "sqlite"
    assert sqlite_db.engine.dialect.driver == "aiosqlite"
    async with sqlite_db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.dbapi_connection, OneHopConnection)


async def test_results_rowcount_lastrowid_and_errors(sqlite_db: Database) -> None:
    async with sqlite_db.transaction() as s:
        union = Union(name="Unione Bassa", created_at=NOW)
        s.add(union)
        await s.flush()  # the primary key comes from lastrowid
        assert union.id is not None and union.id > 0
        # executemany: several rows in one statement
        await s.execute(
            insert(ProcessedUpdate),
            [{"update_id": n, "handled_at": NOW} for n in (1, 2, 3)],
        )
        result = await s.execute(
            update(ProcessedUpdate).where(ProcessedUpdate.update_id >= 2).values(handled_at=NOW)
        )
        assert result.rowcount == 2  # type: ignore[attr-defined]
        rows = (
            await s.execute(select(ProcessedUpdate.update_id).order_by(ProcessedUpdate.update_id))
        ).all()
        assert [r.update_id for r in rows] == [1, 2, 3]
        assert (await s.execute(select(func.count()).select_from(Union))).scalar_one() == 1
        assert (await s.execute(text("SELECT 1 WHERE 0"))).first() is None
    with pytest.raises(IntegrityError):
        async with sqlite_db.transaction() as s:
            s.add(ProcessedUpdate(update_id=1, handled_at=NOW))
    async with sqlite_db.transaction() as s:  # the failed transaction left nothing behind
        assert (
            await s.execute(select(func.count()).select_from(ProcessedUpdate))
        ).scalar_one() == 3


async def test_a_transaction_makes_no_hop_to_the_thread(
    sqlite_db: Database, hops: list[int]
) -> None:
    async with sqlite_db.transaction() as s:  # warm the pool and the statement cache
        await s.execute(select(Person.id).where(Person.telegram_user_id == 1))
    hops[0] = 0
    async with sqlite_db.transaction() as s:
        await s.execute(select(Person.id).where(Person.telegram_user_id == 1))
        await s.execute(insert(ProcessedUpdate).values(update_id=7, handled_at=NOW))
        await s.execute(
            insert(ProcessedUpdate), [{"update_id": n, "handled_at": NOW} for n in (8, 9)]
        )
    # BEGIN IMMEDIATE, the SELECT, the INSERTs and COMMIT on the loop; the pool's reset skipped
    assert hops[0] == 0
    with pytest.raises(IntegrityError):  # a ROLLBACK too
        async with sqlite_db.transaction() as s:
            await s.execute(insert(ProcessedUpdate).values(update_id=7, handled_at=NOW))
    assert hops[0] == 0
    async with sqlite_db.transaction():  # no statement: nothing opened, nothing to end
        pass
    assert hops[0] == 0


def _database_path(db: Database) -> str:
    database = db.engine.url.database
    assert database is not None and database != ":memory:"
    return database


async def test_the_first_statement_takes_the_write_lock(sqlite_db: Database) -> None:
    """BEGIN IMMEDIATE rides with the first statement: from then on, even after a mere read,
    nobody else may write, so what the transaction read stays true until it commits."""
    async with sqlite_db.transaction():
        pass  # warm the pool
    outsider = sqlite3.connect(_database_path(sqlite_db), timeout=0, isolation_level=None)
    try:
        async with sqlite_db.transaction() as s:
            outsider.execute("BEGIN IMMEDIATE")  # nothing sent yet: the lock is free
            outsider.execute("ROLLBACK")
            await s.execute(select(Person.id).where(Person.telegram_user_id == 1))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                outsider.execute("BEGIN IMMEDIATE")
        outsider.execute("BEGIN IMMEDIATE")  # committed: free again
        outsider.execute("ROLLBACK")
    finally:
        outsider.close()


async def test_the_first_statement_waits_for_another_writer(sqlite_db: Database) -> None:
    """Another process writing: the first statement waits for its lock, then runs inside the
    transaction. The wait does not block the event loop: the other writer's COMMIT is itself
    a callback on the loop (blocked, the transaction would time out instead)."""
    async with sqlite_db.transaction():
        pass
    outsider = sqlite3.connect(
        _database_path(sqlite_db), timeout=0, isolation_level=None, check_same_thread=False
    )
    try:
        outsider.execute("BEGIN IMMEDIATE")
        outsider.execute(
            "INSERT INTO processed_update (update_id, handled_at) VALUES (1, '2026-12-01 09:00:00.000000')"
        )
        release = asyncio.get_running_loop().call_later(0.3, outsider.execute, "COMMIT")
        async with asyncio.timeout(10), sqlite_db.transaction() as s:
            ids = (await s.execute(select(ProcessedUpdate.update_id))).scalars().all()
            assert ids == [1]  # read after the other writer committed
            await s.execute(insert(ProcessedUpdate).values(update_id=2, handled_at=NOW))
        release.cancel()
    finally:
        outsider.close()
    async with sqlite_db.transaction() as s:
        ids = (await s.execute(select(ProcessedUpdate.update_id))).scalars().all()
    assert sorted(ids) == [1, 2]


async def test_two_transactions_of_ours_wait_for_each_other_without_blocking_the_loop(
    sqlite_db: Database,
) -> None:
    """A transaction that awaits while it holds the write lock (a transaction should not, but
    one might) keeps the others waiting, never the loop: the holder gets to its COMMIT."""
    async with sqlite_db.transaction():
        pass
    holding = asyncio.Event()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def holder() -> None:
        async with sqlite_db.transaction() as s:
            await s.execute(insert(ProcessedUpdate).values(update_id=1, handled_at=NOW))
            holding.set()
            await asyncio.sleep(0.3)  # the write lock is held meanwhile

    async def waiter() -> None:
        await holding.wait()
        async with sqlite_db.transaction() as s:
            ids = (await s.execute(select(ProcessedUpdate.update_id))).scalars().all()
            assert ids == [1]  # it began once the holder had committed
            await s.execute(insert(ProcessedUpdate).values(update_id=2, handled_at=NOW))

    ticking = asyncio.create_task(ticker())
    try:
        async with asyncio.timeout(10):
            await asyncio.gather(holder(), waiter())
    finally:
        ticking.cancel()
    assert ticks >= 10  # the loop kept running during the 0.3 s wait
    async with sqlite_db.transaction() as s:
        ids = (await s.execute(select(ProcessedUpdate.update_id))).scalars().all()
    assert sorted(ids) == [1, 2]


async def test_a_lock_held_too_long_fails_the_transaction_cleanly(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past BUSY_TIMEOUT_S the first statement fails with "database is locked", as the busy
    timeout did, and nothing of the transaction is written."""
    monkeypatch.setattr(sqlite_driver, "BUSY_TIMEOUT_S", 0.2)
    async with sqlite_db.transaction():
        pass
    outsider = sqlite3.connect(_database_path(sqlite_db), timeout=0, isolation_level=None)
    try:
        outsider.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="locked"):
            async with asyncio.timeout(5), sqlite_db.transaction() as s:
                await s.execute(insert(ProcessedUpdate).values(update_id=3, handled_at=NOW))
        outsider.execute("ROLLBACK")
    finally:
        outsider.close()
    async with sqlite_db.transaction() as s:  # the connection is fine afterwards
        assert (await s.execute(select(ProcessedUpdate.update_id))).scalars().all() == []


async def test_a_connection_returned_inside_a_transaction_is_rolled_back(
    sqlite_db: Database,
) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with sqlite_db.transaction() as s:
            s.add(ProcessedUpdate(update_id=5, handled_at=NOW))
            await s.flush()  # written, write lock held
            raise Boom
    # Another connection takes the write lock at once: the rollback released it (held, its
    # BEGIN IMMEDIATE would wait out BUSY_TIMEOUT_S).
    other = Database(sqlite_db.url)
    try:
        async with asyncio.timeout(5), other.transaction() as s:
            s.add(ProcessedUpdate(update_id=6, handled_at=NOW))
        async with other.transaction() as s:
            ids = (await s.execute(select(ProcessedUpdate.update_id))).scalars().all()
        assert ids == [6]
    finally:
        await other.dispose()


async def test_the_wal_is_checkpointed_on_a_worker_thread(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every CHECKPOINT_EVERY_COMMITS commits of a connection, a passive checkpoint of the
    database file runs off the loop (SQLite's own, inside a COMMIT, would run on it)."""
    monkeypatch.setattr(sqlite_driver, "CHECKPOINT_EVERY_COMMITS", 3)
    ran: list[tuple[str, int]] = []
    loop, two_ran = asyncio.get_running_loop(), asyncio.Event()

    def recorded(database: str) -> None:
        ran.append((database, threading.get_ident()))
        if len(ran) == 2:
            loop.call_soon_threadsafe(two_ran.set)

    monkeypatch.setattr(sqlite_driver, "_checkpoint", recorded)
    for update_id in range(6):
        async with sqlite_db.transaction() as s:
            await s.execute(insert(ProcessedUpdate).values(update_id=update_id, handled_at=NOW))
    async with asyncio.timeout(5):
        await two_ran.wait()
    assert len(ran) == 2  # after the 3rd and the 6th commit
    assert {database for database, _ in ran} == {_database_path(sqlite_db)}
    assert threading.get_ident() not in {thread for _, thread in ran}


async def test_a_checkpoint_copies_the_wal_into_the_database(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_driver, "CHECKPOINT_EVERY_COMMITS", 10**9)
    database = Path(_database_path(sqlite_db))
    async with sqlite_db.transaction() as s:
        await s.execute(
            insert(ProcessedUpdate), [{"update_id": n, "handled_at": NOW} for n in range(50)]
        )
    before = await asyncio.to_thread(database.read_bytes)  # the rows are in the WAL only
    await asyncio.to_thread(sqlite_driver._checkpoint, str(database))
    assert await asyncio.to_thread(database.read_bytes) != before
    reader = sqlite3.connect(database)
    try:
        assert reader.execute("SELECT count(*) FROM processed_update").fetchone() == (50,)
    finally:
        reader.close()


async def test_back_to_back_transactions_let_the_loop_run_in_between(sqlite_db: Database) -> None:
    """Nothing inside a transaction suspends; each one still gives the loop a turn before it
    takes the lock, so a tick running one transaction per Union does not hold up a button
    press for all of them."""
    async with sqlite_db.transaction():
        pass  # warm the pool: no hop left to suspend on
    order: list[str] = []
    asyncio.get_running_loop().call_soon(order.append, "a press meanwhile")
    for update_id in range(3):
        async with sqlite_db.transaction() as s:
            await s.execute(insert(ProcessedUpdate).values(update_id=update_id, handled_at=NOW))
        order.append(f"transaction {update_id}")
    assert order[0] == "a press meanwhile"


async def test_a_checkpoint_does_not_create_a_removed_database(tmp_path: Path) -> None:
    missing = tmp_path / "gone.db"
    with pytest.raises(sqlite3.OperationalError):
        await asyncio.to_thread(sqlite_driver._checkpoint, str(missing))
    assert not await asyncio.to_thread(missing.exists)
