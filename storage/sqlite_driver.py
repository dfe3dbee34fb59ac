"""SQLAlchemy's aiosqlite dialect with one hop to aiosqlite's thread per statement.

aiosqlite runs every sqlite3 call on its own thread; each call is a hand-off (a queue put,
the thread woken, the result posted back to the event loop) and costs far more CPU than the
call itself. SQLAlchemy's adapter makes four of them for a SELECT (open a cursor, execute,
fetch all, close) and three for an INSERT/UPDATE. Here the whole statement — cursor, execute,
fetch, close — is one function run on the thread: one hop. Results, description, rowcount
and lastrowid are copied out, exactly what SQLAlchemy's buffered cursor keeps anyway.

The pool rolls every connection back when it is returned, also after a commit: that
rollback is skipped when sqlite3 says no transaction is open (it would do nothing); a
connection returned inside a transaction (an error, a cancelled task) is rolled back as
before, so it never keeps SQLite's write lock.

`storage.db.create_engine` selects it for every `sqlite+aiosqlite` URL; nothing else changes
(the dialect's name and driver stay "sqlite" / "aiosqlite").
"""

from __future__ import annotations

import collections
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


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose execute is a single call on aiosqlite's thread."""

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
        """Nothing to close: the sqlite3 cursor was closed on the thread."""

    def close(self) -> None:
        self._rows.clear()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        driver = self._connection  # aiosqlite.Connection

        begin = cast("OneHopConnection", self._adapt_connection).take_pending_begin()

        def run() -> tuple[Any, int, int | None, list[Any] | None]:
            if begin:
                driver._conn.execute("BEGIN IMMEDIATE")
            cursor = driver._conn.cursor()
            try:
                cursor.execute(operation, () if parameters is None else parameters)
                description = cursor.description
                rows = cursor.fetchall() if description else None
                return description, cursor.rowcount, cursor.lastrowid, rows
            finally:
                cursor.close()

        async with self._adapt_connection._execute_mutex:
            description, rowcount, lastrowid, rows = await driver._execute(run)
        self._description, self._rowcount, self._lastrowid = description, rowcount, lastrowid
        self._rows = collections.deque(rows or ())
        return None

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        driver = self._connection

        begin = cast("OneHopConnection", self._adapt_connection).take_pending_begin()

        def run() -> tuple[int, int | None]:
            if begin:
                driver._conn.execute("BEGIN IMMEDIATE")
            cursor = driver._conn.cursor()
            try:
                cursor.executemany(operation, seq_of_parameters)
                return cursor.rowcount, cursor.lastrowid
            finally:
                cursor.close()

        async with self._adapt_connection._execute_mutex:
            self._rowcount, self._lastrowid = await driver._execute(run)
        self._description = None
        self._rows.clear()
        return None


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_begin_pending",)
    _cursor_cls = OneHopCursor
    _begin_pending: bool

    def begin_immediate(self) -> None:
        """BEGIN IMMEDIATE, sent with the transaction's first statement (in the same hop).

        The write lock is then taken before that statement runs, as if BEGIN had been sent on
        its own; a transaction that runs no statement never takes it (its COMMIT or ROLLBACK
        has nothing to end). A BEGIN that fails (the lock still busy after busy_timeout) fails
        that first statement, inside the same transaction block.
        """
        self._begin_pending = True

    def take_pending_begin(self) -> bool:
        pending, self._begin_pending = self._begin_pending, False
        return pending

    def commit(self) -> None:
        if self.take_pending_begin():
            return  # no statement ran: no transaction was opened
        super().commit()

    def rollback(self) -> None:
        self._begin_pending = False
        sqlite_connection = self._connection._connection  # None once closed
        if sqlite_connection is not None and not sqlite_connection.in_transaction:
            return  # nothing open, nothing to undo: no hop (the pool's reset after a commit)
        super().rollback()


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        creator_fn = kw.pop("async_creator_fn", None)
        connection = creator_fn(*arg, **kw) if creator_fn else self.aiosqlite.connect(*arg, **kw)
        if not creator_fn:
            connection._thread.daemon = True  # as SQLAlchemy's adapter does (aiosqlite 0.22+)
        adapted = OneHopConnection(self, await_(connection))
        adapted._begin_pending = False
        return adapted


class OneHopSQLiteDialect(SQLiteDialect_aiosqlite):
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> OneHopDBAPI:
        import sqlite3

        import aiosqlite

        return OneHopDBAPI(aiosqlite, sqlite3)


registry.register("sqlite.aiosqlite_onehop", __name__, "OneHopSQLiteDialect")
