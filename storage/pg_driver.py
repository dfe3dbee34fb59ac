"""PostgreSQL: an update's transaction begins with its update id, in one round trip.

Every writing update opens its transaction by recording its update id (bot.scope's
`update_transaction`, storage.repositories.core's `mark_update_processed`). With asyncpg,
SQLAlchemy's adapter begins a transaction by a `BEGIN` of its own just before the first
statement: two round trips to the server, and one statement through SQLAlchemy's whole execution
path, before the handler's first query. Here both go in one simple-protocol query,
`BEGIN; INSERT … ON CONFLICT DO NOTHING`, whose status says whether the id was new (the
cost per press: bench/README.md, "Session 5").

The values are an integer and a timestamp we format ourselves: no client text reaches the SQL.
The adapter then holds the transaction as if asyncpg had begun it, so SQLAlchemy commits and
rolls it back as usual. On any connection that is not asyncpg's in a plain transaction (an
isolation level, read-only, already begun) nothing is done and the caller records the id with
an ordinary statement.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

_BEGIN_MARKING = (
    "BEGIN; INSERT INTO processed_update (update_id, handled_at) "
    "VALUES ({update_id}, '{handled_at}') ON CONFLICT (update_id) DO NOTHING"
)
_INSERTED_ONE = "INSERT 0 1"


class _Begun:
    """The transaction `begin_marking_update` began, in the place of asyncpg's Transaction:
    SQLAlchemy's adapter ends it by `commit()` or `rollback()`."""

    __slots__ = ("_connection",)

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    async def commit(self) -> None:
        await self._connection.execute("COMMIT")

    async def rollback(self) -> None:
        await self._connection.execute("ROLLBACK")


async def begin_marking_update(
    conn: AsyncConnection, *, update_id: int, now: datetime
) -> bool | None:
    """Begin `conn`'s transaction with `update_id` recorded as handled at `now`.

    True if the id was new, False for a redelivery (the caller refuses the update; the
    transaction is rolled back or committed by its owner as usual). None when this connection
    is not one to do it on: the caller records the id with a statement.
    """
    sync = conn.sync_connection
    adapted = sync.connection.dbapi_connection if sync is not None else None
    if (
        not isinstance(adapted, AsyncAdapt_asyncpg_connection)
        or adapted._transaction is not None
        or adapted.isolation_level is not None
        or adapted.readonly
        or adapted.deferrable
    ):
        return None
    query = _BEGIN_MARKING.format(
        update_id=int(update_id), handled_at=now.astimezone(UTC).isoformat()
    )
    async with adapted._execute_mutex:
        # Held before the query is sent: whatever happens to it, SQLAlchemy ends the
        # transaction (a ROLLBACK where none began only draws a warning from the server).
        adapted._transaction = _Begun(adapted._connection)
        try:
            status = await adapted._connection.execute(query)
        except Exception as error:
            failure = error
        else:
            return bool(status == _INSERTED_ONE)
    # Only a broken link or a server going away fails this query: the pool must not hand the
    # connection out again. The update fails like any whose transaction could not begin.
    await conn.invalidate()
    raise DBAPIError(query, None, failure, connection_invalidated=True) from failure
