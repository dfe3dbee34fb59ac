"""The statements the bot sends, counted where they are sent.

`storage.db.run_hot` runs a hot path's statements on SQLite straight on aiosqlite, past
SQLAlchemy's statement events: on SQLite they are counted by sqlite3 itself (its trace
callback, which sees every statement it runs, BEGIN IMMEDIATE and COMMIT included); on
PostgreSQL, where run_hot goes through SQLAlchemy, by `before_cursor_execute` (BEGIN and COMMIT
not seen)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database, connection_of


@asynccontextmanager
async def statements_of(session: AsyncSession) -> AsyncIterator[list[str]]:
    """The statements sent on the connection of this session's transaction meanwhile."""
    conn = await connection_of(session)
    seen: list[str] = []
    if conn.dialect.name == "sqlite":
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.set_trace_callback(seen.append)  # called on aiosqlite's thread
        try:
            yield seen
        finally:
            await driver.set_trace_callback(None)
        return
    with _cursor_statements(conn.sync_engine, seen):
        yield seen


@contextmanager
def traced(db: Database) -> Iterator[list[str]]:
    """The statements of every transaction the bot begins meanwhile (each pooled connection is
    traced as it is handed out). Clear the list to count from a point on."""
    seen: list[str] = []
    engine = db.engine.sync_engine
    if not db.is_sqlite:
        with _cursor_statements(engine, seen):
            yield seen
        return

    async def trace(driver_connection: Any) -> None:
        await driver_connection.set_trace_callback(seen.append)

    def checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.run_async(trace)  # before the connection is used

    # A connection stays traced after (into a list nobody reads): untracing at checkin would
    # be one more hand-off inside the pool's return.
    event.listen(engine, "checkout", checkout)
    try:
        yield seen
    finally:
        event.remove(engine, "checkout", checkout)


@contextmanager
def _cursor_statements(engine: Any, seen: list[str]) -> Iterator[None]:
    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", count)
