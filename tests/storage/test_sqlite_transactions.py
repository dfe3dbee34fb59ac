"""SQLite transactions on SQLAlchemy's stock aiosqlite dialect (storage/db.py, docs/DESIGN.md
"SQLite"): every transaction takes the write lock with BEGIN IMMEDIATE before its first
statement, another writer's lock is waited for without blocking the event loop, statements run
on aiosqlite's thread, and a connection returned inside a transaction is rolled back while one
returned after its COMMIT is not rolled back again."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from random import Random

import aiosqlite
import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.exc import IntegrityError, OperationalError

from storage import db as db_module
from storage.db import Database
from storage.models import Person, ProcessedUpdate, Union

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def rollbacks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts the ROLLBACKs sent to aiosqlite (its public `Connection.rollback`)."""
    count = [0]
    original = aiosqlite.Connection.rollback

    async def counted(self: aiosqlite.Connection) -> None:
        count[0] += 1
        await original(self)

    monkeypatch.setattr(aiosqlite.Connection, "rollback", counted)
    yield count


def _database_path(db: Database) -> str:
    database = db.engine.url.database
    assert database is not None and database != ":memory:"
    return database


async def test_the_engine_is_sqlalchemys_own_aiosqlite_dialect(sqlite_db: Database) -> None:
    assert type(sqlite_db.engine.dialect) is SQLiteDialect_aiosqlite
    async with sqlite_db.transaction() as s:
        pragmas = [
            (await s.execute(text(f"PRAGMA {name}"))).scalar_one()
            for name in ("journal_mode", "foreign_keys", "synchronous")
        ]
    assert pragmas == ["wal", 1, 1]  # WAL, foreign keys on, synchronous=NORMAL


async def test_results_rowcount_lastrowid_and_errors(sqlite_db: Database) -> None:
    async with sqlite_db.transaction() as s:
        union = Union(name="Unione Bassa", created_at=NOW)
        s.add(union)
        await s.flush()
        assert union.id is not None and union.id > 0
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
    with pytest.raises(IntegrityError):
        async with sqlite_db.transaction() as s:
            s.add(ProcessedUpdate(update_id=1, handled_at=NOW))
    async with sqlite_db.transaction() as s:  # the failed transaction left nothing behind
        assert (
            await s.execute(select(func.count()).select_from(ProcessedUpdate))
        ).scalar_one() == 3


async def test_the_first_statement_takes_the_write_lock(sqlite_db: Database) -> None:
    """BEGIN IMMEDIATE comes before the first statement: from then on, even after a mere read,
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
    """Another process writing: the transaction waits for its lock, then runs. The wait does
    not block the event loop: the other writer's COMMIT is itself a callback on the loop
    (blocked, the transaction would time out instead)."""
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


async def test_a_slow_statement_does_not_hold_the_loop(sqlite_db: Database) -> None:
    """Statements run on aiosqlite's thread: a query that takes SQLite a while leaves the loop
    free for everything else meanwhile."""
    async with sqlite_db.transaction():
        pass
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    slow = text(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) "
        "SELECT count(*) FROM n"
    )
    ticking = asyncio.create_task(ticker())
    try:
        async with sqlite_db.transaction() as s:
            started = asyncio.get_running_loop().time()
            assert (await s.execute(slow)).scalar_one() == 3_000_000
            took = asyncio.get_running_loop().time() - started
    finally:
        ticking.cancel()
    assert took > 0.05, "the query must be slow enough to measure"
    assert ticks >= took / 0.005 / 4  # the loop ticked through most of it


async def test_a_lock_held_too_long_fails_the_transaction_cleanly(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past SQLITE_BUSY_TIMEOUT_S the transaction fails with "database is locked" (SQLAlchemy's
    OperationalError, as for a statement's error), and nothing of it is written."""
    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    impatient = Database(sqlite_db.url)
    outsider = sqlite3.connect(_database_path(sqlite_db), timeout=0, isolation_level=None)
    try:
        outsider.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="locked"):
            async with asyncio.timeout(5), impatient.transaction() as s:
                await s.execute(insert(ProcessedUpdate).values(update_id=3, handled_at=NOW))
        outsider.execute("ROLLBACK")
        async with impatient.transaction() as s:  # the connection is fine afterwards
            assert (await s.execute(select(ProcessedUpdate.update_id))).scalars().all() == []
    finally:
        outsider.close()
        await impatient.dispose()


async def test_a_connection_returned_inside_a_transaction_is_rolled_back(
    sqlite_db: Database, rollbacks: list[int]
) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with sqlite_db.transaction() as s:
            s.add(ProcessedUpdate(update_id=5, handled_at=NOW))
            await s.flush()  # written, write lock held
            raise Boom
    assert rollbacks[0] >= 1
    # Another connection takes the write lock at once: the rollback released it (held, its
    # BEGIN IMMEDIATE would wait out SQLITE_BUSY_TIMEOUT_S).
    other = Database(sqlite_db.url)
    try:
        async with asyncio.timeout(5), other.transaction() as s:
            s.add(ProcessedUpdate(update_id=6, handled_at=NOW))
        async with other.transaction() as s:
            ids = (await s.execute(select(ProcessedUpdate.update_id))).scalars().all()
        assert ids == [6]
    finally:
        await other.dispose()


async def test_the_pool_rolls_back_a_transaction_it_did_not_see_end(
    sqlite_db: Database, rollbacks: list[int]
) -> None:
    """The pool's own reset is off; its "reset" event still rolls back a connection that comes
    back inside a transaction SQLAlchemy did not end (here one begun on the driver behind its
    back), so the write lock is never kept by an idle pooled connection."""
    async with sqlite_db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        await raw.driver_connection.execute("BEGIN IMMEDIATE")
        assert raw.driver_connection.in_transaction
    assert rollbacks[0] == 1
    outsider = sqlite3.connect(_database_path(sqlite_db), timeout=0, isolation_level=None)
    try:
        outsider.execute("BEGIN IMMEDIATE")  # the lock is free
        outsider.execute("ROLLBACK")
    finally:
        outsider.close()


async def test_a_committed_connection_is_not_rolled_back_again(
    sqlite_db: Database, rollbacks: list[int]
) -> None:
    """SQLAlchemy's pool rolls back every connection it takes back, also after a COMMIT: one
    more hand-off to aiosqlite's thread per transaction for nothing. The "reset" event
    (storage.db) rolls back only a connection still inside a transaction."""
    for update_id in range(3):
        async with sqlite_db.transaction() as s:
            await s.execute(insert(ProcessedUpdate).values(update_id=update_id, handled_at=NOW))
    async with sqlite_db.transaction():
        pass  # no statement: no transaction was begun
    assert rollbacks[0] == 0
    async with sqlite_db.transaction() as s:
        assert len((await s.execute(select(ProcessedUpdate.update_id))).all()) == 3


async def test_back_to_back_transactions_let_the_loop_run_in_between(sqlite_db: Database) -> None:
    """A tick running one transaction per Union does not hold up a button press for all of
    them: the loop runs other work while each transaction waits for aiosqlite's thread."""
    async with sqlite_db.transaction():
        pass
    order: list[str] = []
    asyncio.get_running_loop().call_soon(order.append, "a press meanwhile")
    for update_id in range(3):
        async with sqlite_db.transaction() as s:
            await s.execute(insert(ProcessedUpdate).values(update_id=update_id, handled_at=NOW))
        order.append(f"transaction {update_id}")
    assert order[0] == "a press meanwhile"


# --- the bot's own writers queue on the event loop (storage.db._Writer) ---------------------


async def test_our_writers_begin_in_the_order_they_asked(sqlite_db: Database) -> None:
    """Concurrent transactions of the bot take the write lock one after the other, in the order
    they asked for it: they queue on the event loop. Waiting in sqlite3's busy handler instead,
    each retried at its own growing interval and the first to retry after a COMMIT won."""
    began: list[int] = []

    async def writer(n: int) -> None:
        async with sqlite_db.transaction() as s:
            await s.execute(insert(ProcessedUpdate).values(update_id=n, handled_at=NOW))
            began.append(n)
            await asyncio.sleep(0.01)  # the write lock held: the next ones wait

    async with asyncio.timeout(10):
        # The pool's connections opened first: each writer then reaches the lock at once.
        writers = sqlite_db.engine.pool.size()  # type: ignore[attr-defined]
        await asyncio.gather(*(writer(n) for n in range(100, 100 + writers)))
        began.clear()
        tasks = []
        for n in range(writers):  # each asks after the previous one, while the first holds the lock
            tasks.append(asyncio.create_task(writer(n)))
            await asyncio.sleep(0.001)
        await asyncio.gather(*tasks)
    assert began == list(range(writers))


async def test_a_transaction_opened_inside_another_fails_instead_of_waiting_forever(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inner transaction could never begin (the outer one holds the lock): it fails as a
    locked database does, after SQLITE_BUSY_TIMEOUT_S, and the outer one's rollback frees the
    lock for the next transaction."""
    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    with pytest.raises(OperationalError, match="locked"):
        async with asyncio.timeout(5), sqlite_db.transaction() as outer:
            await outer.execute(insert(ProcessedUpdate).values(update_id=1, handled_at=NOW))
            async with sqlite_db.transaction() as inner:
                await inner.execute(select(ProcessedUpdate.update_id))
    async with asyncio.timeout(5), sqlite_db.transaction() as s:
        assert (await s.execute(select(ProcessedUpdate.update_id))).scalars().all() == []


async def test_a_cancelled_writer_leaves_the_queue_free(sqlite_db: Database) -> None:
    """A task cancelled while it holds the lock (its connection is rolled back and returned)
    or while it waits for it: the next transaction begins at once."""
    async with sqlite_db.transaction():
        pass
    holding = asyncio.Event()

    async def holder() -> None:
        async with sqlite_db.transaction() as s:
            await s.execute(insert(ProcessedUpdate).values(update_id=1, handled_at=NOW))
            holding.set()
            await asyncio.sleep(60)

    async def waiter() -> None:
        async with sqlite_db.transaction() as s:
            await s.execute(insert(ProcessedUpdate).values(update_id=2, handled_at=NOW))

    holding_task = asyncio.create_task(holder())
    await holding.wait()
    waiting_task = asyncio.create_task(waiter())
    await asyncio.sleep(0.05)  # queued behind the holder
    waiting_task.cancel()
    holding_task.cancel()
    for task in (waiting_task, holding_task):
        with pytest.raises(asyncio.CancelledError):
            await task
    async with asyncio.timeout(2), sqlite_db.transaction() as s:
        await s.execute(insert(ProcessedUpdate).values(update_id=3, handled_at=NOW))
    async with sqlite_db.transaction() as s:
        assert (await s.execute(select(ProcessedUpdate.update_id))).scalars().all() == [3]


async def test_a_connection_dropped_inside_a_transaction_frees_the_turn(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection never returned to the pool (garbage-collected inside its transaction:
    SQLAlchemy detaches it instead of checking it in) gives the turn back all the same."""
    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_S", 1.0)
    async with sqlite_db.transaction():
        pass
    conn = await sqlite_db.engine.connect()
    await conn.begin()
    await conn.execute(insert(ProcessedUpdate).values(update_id=1, handled_at=NOW))
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    raw.detach()  # as the garbage collector's clean-up does
    await driver.rollback()  # the write lock of SQLite itself: freed by closing, in real life
    await driver.close()
    async with asyncio.timeout(5), sqlite_db.transaction() as s:
        await s.execute(insert(ProcessedUpdate).values(update_id=2, handled_at=NOW))
    async with sqlite_db.transaction() as s:
        assert (await s.execute(select(ProcessedUpdate.update_id))).scalars().all() == [2]


def test_an_engine_used_from_a_second_event_loop_queues_its_writers_there(tmp_path: Path) -> None:
    """A script may run one database in two `asyncio.run`s, one after the other: the queue
    belongs to the loop that runs."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'two-loops.sqlite3'}")

    async def writers(first: int) -> None:
        async def one(n: int) -> None:
            async with db.transaction() as s:
                await s.execute(text("CREATE TABLE IF NOT EXISTS t (n INTEGER)"))
                await s.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
                await asyncio.sleep(0.01)

        await asyncio.gather(*(one(first + n) for n in range(3)))
        await db.engine.dispose()

    asyncio.run(writers(0))
    asyncio.run(writers(3))


def test_an_in_memory_database_still_opens() -> None:
    async def use() -> None:
        db = Database("sqlite+aiosqlite:///:memory:")
        try:
            async with db.transaction() as s:
                assert (await s.execute(text("SELECT 1"))).scalar_one() == 1
        finally:
            await db.dispose()

    asyncio.run(use())


async def test_writers_cancelled_at_any_moment_leave_no_transaction_behind(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tasks cancelled while they begin, write or commit (a person's update dropped, the bot
    stopping): every connection goes back to the pool outside a transaction, and the next
    writer begins at once. A cancelled BEGIN IMMEDIATE still runs on aiosqlite's thread; it is
    rolled back behind it."""
    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_S", 2.0)
    random = Random(7)

    async def writer(n: int) -> None:
        async with sqlite_db.transaction() as s:
            await s.execute(insert(ProcessedUpdate).values(update_id=n, handled_at=NOW))

    for round_ in range(60):
        tasks = [asyncio.create_task(writer(round_ * 10 + n)) for n in range(3)]
        await asyncio.sleep(random.choice((0, 0, 0.0001, 0.0005, 0.001)))
        tasks[random.randrange(3)].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    async with asyncio.timeout(5):
        await asyncio.gather(*(writer(10_000 + n) for n in range(3)))
    async with sqlite_db.transaction() as s:
        assert len((await s.execute(select(ProcessedUpdate.update_id))).all()) >= 123
