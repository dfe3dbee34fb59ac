"""SQLAlchemy's aiosqlite dialect, with the statements of a transaction run on the event loop.

aiosqlite runs every sqlite3 call on its own thread; each call is a hand-off (a queue put,
the thread woken, the result posted back to the event loop) and costs far more CPU than the
call itself: SQLAlchemy's adapter makes four of them for a SELECT and three for an INSERT.
A statement of ours takes microseconds in SQLite (the database is a local file, WAL, no fsync
at commit with synchronous=NORMAL), less than one hand-off; so inside a transaction every
statement, the COMMIT and the ROLLBACK run right here, on the event loop's thread, with no
hand-off (the module and class names still say "one hop": that is what is left outside a
transaction). Results, description, rowcount and lastrowid are copied out, exactly what
SQLAlchemy's buffered cursor keeps anyway.

What makes it safe to run SQLite on the loop:
- the loop is never made to wait for a lock: every transaction starts with BEGIN IMMEDIATE
  (storage/db.py) and the connection's busy timeout is 0. When another writer (a second
  process, a transaction of ours that awaited something) holds the lock, BEGIN fails at once
  and is tried again after an asynchronous sleep, for up to BUSY_TIMEOUT_S, like the busy
  timeout it replaces; meanwhile the loop runs the holder to its COMMIT. Once BEGIN IMMEDIATE
  succeeded, nothing else in the transaction waits for a lock (WAL: readers never block);
- what is not inside a transaction (the pragmas when a connection opens, the dialect's first
  look at the database) still goes to aiosqlite's thread, one hop per statement, and so does
  opening and closing a connection;
- the WAL is checkpointed on a worker thread every CHECKPOINT_EVERY_COMMITS commits of a
  connection, so that SQLite's own checkpoint inside a COMMIT (at 1,000 pages of WAL; it
  writes and syncs the database file) rarely falls on the loop (`python -m bench.commits`).

The pool rolls every connection back when it is returned, also after a commit: that
rollback is skipped when sqlite3 says no transaction is open (it would do nothing); a
connection returned inside a transaction (an error, a cancelled task) is rolled back as
before, so it never keeps SQLite's write lock.

`storage.db.create_engine` selects it for every `sqlite+aiosqlite` URL; nothing else changes
(the dialect's name and driver stay "sqlite" / "aiosqlite").
"""

from __future__ import annotations

import asyncio
import collections
import logging
import sqlite3
import urllib.request
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util.concurrency import await_

DRIVERNAME = "sqlite+aiosqlite_onehop"

# How long BEGIN IMMEDIATE keeps trying while another writer holds SQLite's lock.
BUSY_TIMEOUT_S = 15.0
_FIRST_RETRY_S = 0.001
_LONGEST_RETRY_S = 0.05
# A connection's commits between two checkpoints run on a worker thread.
CHECKPOINT_EVERY_COMMITS = 200

logger = logging.getLogger(__name__)


def _is_busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor: on the loop inside a transaction, one hop to the thread outside."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:  # no cursor opened here: no hop
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        """Rows are buffered: nothing to tune."""

    async def _async_soft_close(self) -> None:
        """Nothing to close: the sqlite3 cursor is closed once its rows are copied."""

    def close(self) -> None:
        self._rows.clear()

    async def _in_transaction(self) -> sqlite3.Connection | None:
        """The sqlite3 connection when this statement belongs to an open transaction (BEGIN
        IMMEDIATE sent first when it is the transaction's first statement), else None."""
        adapt = cast("OneHopConnection", self._adapt_connection)
        if adapt.take_pending_begin():
            await adapt.begin_write()
        connection: sqlite3.Connection | None = self._connection._connection
        return connection if connection is not None and connection.in_transaction else None

    def _store(
        self, description: Any, rowcount: int, lastrowid: int | None, rows: list[Any] | None
    ) -> None:
        self._description, self._rowcount, self._lastrowid = description, rowcount, lastrowid
        self._rows = collections.deque(rows or ())

    # SQLAlchemy's adapter calls these through one greenlet switch (its `await_`), which the
    # async connection wants to see; inside a transaction nothing here suspends.
    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        connection = await self._in_transaction()
        if connection is not None:  # on the loop
            self._store(*_run(connection, operation, parameters))
            return None
        driver = self._connection  # aiosqlite.Connection: one hop to its thread
        async with self._adapt_connection._execute_mutex:
            result = await driver._execute(_run, driver._conn, operation, parameters)
        self._store(*result)
        return None

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        connection = await self._in_transaction()
        if connection is not None:
            self._store(*_run_many(connection, operation, seq_of_parameters))
            return None
        driver = self._connection
        async with self._adapt_connection._execute_mutex:
            result = await driver._execute(_run_many, driver._conn, operation, seq_of_parameters)
        self._store(*result)
        return None


def _run(
    connection: sqlite3.Connection, operation: Any, parameters: Any
) -> tuple[Any, int, int | None, list[Any] | None]:
    cursor = connection.cursor()
    try:
        cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


def _run_many(
    connection: sqlite3.Connection, operation: Any, seq_of_parameters: Sequence[Any]
) -> tuple[Any, int, int | None, list[Any] | None]:
    cursor = connection.cursor()
    try:
        cursor.executemany(operation, seq_of_parameters)
        return None, cursor.rowcount, cursor.lastrowid, None
    finally:
        cursor.close()


def _checkpoint(database: str) -> None:
    """A passive WAL checkpoint from a connection of its own (it never waits for a lock and
    never stops the others writing); a busy checkpoint is left to the next one."""
    # mode=rw: a file removed meanwhile (a test's directory, a restore) is not created anew.
    uri = f"file:{urllib.request.pathname2url(database)}?mode=rw"
    connection = sqlite3.connect(uri, uri=True, timeout=0, isolation_level=None)
    try:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except sqlite3.OperationalError as error:
        if not _is_busy(error):
            raise
    finally:
        connection.close()


# How long a truncating checkpoint waits for the bot's own readers and writers to finish.
TRUNCATE_WAIT_S = 5.0


def checkpoint_truncate(database: str) -> bool:
    """Copy the whole WAL into the database file and truncate the WAL to zero bytes (after an
    erasure: the WAL holds old images of the pages, with what was erased on them). Waits up to
    TRUNCATE_WAIT_S for readers and writers, so run it on a worker thread. True when done."""
    uri = f"file:{urllib.request.pathname2url(database)}?mode=rw"
    connection = sqlite3.connect(uri, uri=True, timeout=TRUNCATE_WAIT_S, isolation_level=None)
    try:
        busy, _log, _done = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return not busy
    except sqlite3.OperationalError as error:
        if not _is_busy(error):
            raise
        return False
    finally:
        connection.close()


def _checkpoint_done(future: asyncio.Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.warning("WAL checkpoint failed: %s", future.exception())


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_begin_pending", "_commits", "_database")
    _cursor_cls = OneHopCursor
    _begin_pending: bool
    _commits: int
    _database: str | None  # the file, for the checkpoints; None in memory or for a URI

    def begin_immediate(self) -> None:
        """BEGIN IMMEDIATE, sent just before the transaction's first statement.

        The write lock is then taken before that statement runs, as if BEGIN had been sent on
        its own; a transaction that runs no statement never takes it (its COMMIT or ROLLBACK
        has nothing to end). A BEGIN that fails (the lock still busy after BUSY_TIMEOUT_S)
        fails that first statement, inside the same transaction block.
        """
        self._begin_pending = True

    def take_pending_begin(self) -> bool:
        pending, self._begin_pending = self._begin_pending, False
        return pending

    async def begin_write(self) -> None:
        """BEGIN IMMEDIATE on the loop; while another writer holds the lock, wait for it
        without blocking the loop (asynchronous sleeps, for up to BUSY_TIMEOUT_S).

        First, one turn of the loop: nothing else in a transaction suspends, so a coroutine
        running transactions back to back (a tick's rounds, one per Union) would otherwise
        keep everything else (button presses, the outbox) waiting for all of them.
        """
        await asyncio.sleep(0)
        deadline: float | None = None
        delay = _FIRST_RETRY_S
        while True:
            try:
                self._connection._conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if not _is_busy(error):
                    self._begin_pending = True  # a later statement must not run unguarded
                    raise
                now = asyncio.get_running_loop().time()
                deadline = now + BUSY_TIMEOUT_S if deadline is None else deadline
                if now >= deadline:
                    self._begin_pending = True
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, _LONGEST_RETRY_S)

    def commit(self) -> None:
        if self.take_pending_begin():
            return  # no statement ran: no transaction was opened
        connection: sqlite3.Connection | None = self._connection._connection
        if connection is None or not connection.in_transaction:
            return
        try:
            connection.commit()
        except Exception as error:
            self._handle_exception(error)
        self._commits += 1
        if self._commits >= CHECKPOINT_EVERY_COMMITS and self._database is not None:
            self._commits = 0
            try:
                checkpoint = asyncio.get_running_loop().run_in_executor(
                    None, _checkpoint, self._database
                )
            except RuntimeError as error:  # shutting down: the commit itself went through
                logger.info("WAL checkpoint not started: %s", error)
            else:
                checkpoint.add_done_callback(_checkpoint_done)

    def rollback(self) -> None:
        self._begin_pending = False
        connection: sqlite3.Connection | None = self._connection._connection  # None once closed
        if connection is None or not connection.in_transaction:
            return  # nothing open, nothing to undo (the pool's reset after a commit)
        try:
            connection.rollback()
        except Exception as error:
            self._handle_exception(error)


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        creator_fn = kw.pop("async_creator_fn", None)
        if creator_fn:
            connection = creator_fn(*arg, **kw)
        else:
            # Opened on aiosqlite's thread, used on the loop's too (never at the same time).
            kw["check_same_thread"] = False
            connection = self.aiosqlite.connect(*arg, **kw)
            connection._thread.daemon = True  # as SQLAlchemy's adapter does (aiosqlite 0.22+)
        adapted = OneHopConnection(self, await_(connection))
        adapted._begin_pending = False
        adapted._commits = 0
        database = str(arg[0]) if arg else str(kw.get("database", ""))
        in_memory = database in ("", ":memory:") or database.startswith("file:")
        adapted._database = None if in_memory or creator_fn else database
        return adapted


class OneHopSQLiteDialect(SQLiteDialect_aiosqlite):
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> OneHopDBAPI:
        import aiosqlite

        return OneHopDBAPI(aiosqlite, sqlite3)


registry.register("sqlite.aiosqlite_onehop", __name__, "OneHopSQLiteDialect")
