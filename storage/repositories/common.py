"""Helpers shared by every repository."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import CursorResult, Select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base


def dialect_insert(dialect: str) -> Callable[..., Any]:
    """The dialect's `insert` (with ON CONFLICT). Imported when first needed: a bot on SQLite
    never loads SQLAlchemy's PostgreSQL dialect (≈ 2 MB resident)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


async def lock_one(session: AsyncSession, statement: Select[Any]) -> Any:
    """The one row `statement` selects (or None), locked until the transaction ends and its
    values read again over what the session holds (PostgreSQL: FOR UPDATE; SQLite's write
    transactions run one at a time anyway): of two writers at once, the second waits for the
    first's COMMIT and then reads what it left."""
    found = await session.execute(
        statement.with_for_update().execution_options(populate_existing=True)
    )
    return found.scalar_one_or_none()


async def insert_ignore(
    session: AsyncSession,
    model: type[Base],
    values: dict[str, Any],
    conflict_columns: Sequence[str],
) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when the row was inserted (the claim was won)."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert_fn = dialect_insert(dialect)
    # As for ORM flushes (storage/db.py): PostgreSQL text cannot hold NUL.
    values = {k: v.replace("\x00", "") if isinstance(v, str) else v for k, v in values.items()}
    stmt = (
        insert_fn(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(conflict_columns))
    )
    result = await session.execute(stmt)
    return isinstance(result, CursorResult) and result.rowcount == 1
