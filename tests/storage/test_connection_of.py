"""storage.db.connection_of: the session's connection, asked once per transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database, connection_of
from storage.models import ProcessedUpdate

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def test_one_connection_per_transaction(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = [0]
    original = AsyncSession.connection

    async def counted(self: AsyncSession, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        asked[0] += 1
        return await original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(AsyncSession, "connection", counted)
    async with db.transaction() as session:
        first = await connection_of(session)
        assert await connection_of(session) is first
        assert asked[0] == 1
        await first.execute(insert(ProcessedUpdate).values(update_id=1, handled_at=NOW))
        # the session's own statements run on that same connection, in the same transaction
        assert (await session.connection()).sync_connection is first.sync_connection
        count = select(func.count()).select_from(ProcessedUpdate)
        assert (await session.execute(count)).scalar_one() == 1


async def test_a_new_transaction_of_the_same_session_asks_again(db: Database) -> None:
    async with db.sessionmaker() as session:
        first = await connection_of(session)
        await first.execute(insert(ProcessedUpdate).values(update_id=1, handled_at=NOW))
        await session.commit()  # the connection went back to the pool
        second = await connection_of(session)
        assert second is not first
        await second.execute(insert(ProcessedUpdate).values(update_id=2, handled_at=NOW))
        await session.rollback()
        third = await connection_of(session)
        assert third is not second
        ids = (await third.execute(select(ProcessedUpdate.update_id))).scalars().all()
        assert ids == [1]  # the rolled-back insert is gone, the committed one stays
        await session.commit()
