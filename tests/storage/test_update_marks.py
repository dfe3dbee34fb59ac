"""An update's id is recorded in the transaction of the change it caused (docs/DESIGN.md,
"Redelivery and update ids"), on both databases: a redelivered id is refused, the mark commits
and rolls back with the change, and a failed transaction leaves a clean pooled connection."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import ProcessedUpdate
from storage.repositories import core as core_repo

NOW = datetime(2026, 12, 1, 8, 0, 0, 123456, tzinfo=UTC)


async def _marks(db: Database) -> dict[int, datetime]:
    async with db.transaction() as session:
        rows = await session.execute(select(ProcessedUpdate.update_id, ProcessedUpdate.handled_at))
        return {update_id: handled_at for update_id, handled_at in rows}


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


async def test_the_mark_is_stored_to_the_microsecond_in_utc(db: Database) -> None:
    async with db.transaction() as session:
        assert await core_repo.mark_update_processed(session, update_id=41, now=NOW)
    assert await _marks(db) == {41: NOW}


async def test_a_redelivered_update_id_is_refused(db: Database) -> None:
    async with db.transaction() as session:
        assert await core_repo.mark_update_processed(session, update_id=7, now=NOW)
    async with db.transaction() as session:
        assert not await core_repo.mark_update_processed(session, update_id=7, now=NOW)
    assert list(await _marks(db)) == [7]


async def test_the_mark_commits_and_rolls_back_with_the_updates_change(db: Database) -> None:
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


async def test_a_failed_statement_after_the_mark_leaves_a_clean_connection(db: Database) -> None:
    with pytest.raises(Exception, match=r"division by zero"):
        async with db.transaction() as session:
            assert await core_repo.mark_update_processed(session, update_id=3, now=NOW)
            # PostgreSQL raises; SQLite answers NULL, so fail it by hand there.
            value = (await session.execute(text("SELECT 1 / 0"))).scalar_one()
            raise ZeroDivisionError(f"division by zero ({value})")
    async with db.transaction() as session:
        assert await core_repo.mark_update_processed(session, update_id=3, now=NOW)
        count = await session.execute(select(func.count()).select_from(ProcessedUpdate))
        assert count.scalar_one() == 1
    assert list(await _marks(db)) == [3]


async def test_the_same_id_twice_in_one_transaction_is_refused_the_second_time(
    db: Database,
) -> None:
    async with db.transaction() as session:
        assert await core_repo.mark_update_processed(session, update_id=9, now=NOW)
        assert not await core_repo.mark_update_processed(session, update_id=9, now=NOW)
    assert list(await _marks(db)) == [9]
