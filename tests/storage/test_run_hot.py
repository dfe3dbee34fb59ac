"""storage.db.run_hot: a hot path's statements (the update id, a vote's context, upsert and owed
edit) run straight on aiosqlite in SQLAlchemy's transaction, and read and write exactly what
SQLAlchemy would: the same stored values, the same rows, the same exceptions, the same rollback.
On PostgreSQL run_hot is SQLAlchemy itself; the same tests hold there."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.exc import IntegrityError

from bot.clock import FakeClock
from storage.db import Database, connection_of, prepare, run_hot
from storage.models import Answer, Member, Person, ProcessedUpdate, UpdateSettings, Vote
from storage.models.base import UTCDateTime
from storage.repositories import core as core_repo
from storage.repositories import meetings as repo
from tests.storage.test_meetings_storage import _poll


async def test_a_vote_is_stored_and_read_as_sqlalchemy_does(db: Database, clock: FakeClock) -> None:
    poll_id, slots, member_id = await _poll(db, clock)
    now = clock.now()
    async with db.transaction() as session:
        # One vote through SQLAlchemy's own execution, one through run_hot.
        await repo.cast_vote(
            session, slot_id=slots[0], member_id=member_id, answer=Answer.YES, now=now
        )
        conn = await connection_of(session)
        vote = {
            "slot_id": slots[1],
            "member_id": member_id,
            "answer": Answer.MAYBE,
            "updated_at": now,
        }
        assert (
            await run_hot(
                conn, repo._upsert_vote(conn.dialect.name), vote, column_keys=repo._VOTE_COLUMNS
            )
            == []
        )
        voter = (
            await session.execute(
                select(Person.telegram_user_id)
                .join(Member, Member.person_id == Person.id)
                .where(Member.id == member_id)
            )
        ).scalar_one()
        params = {"slot_id": slots[1], "telegram_user_id": voter}
        hot = [tuple(row) for row in await run_hot(conn, repo._VOTE_CONTEXT, params)]
        stock = [tuple(row) for row in (await conn.execute(repo._VOTE_CONTEXT, params)).all()]
    assert hot == stock and len(hot) == 2  # a row per date of the poll
    async with db.transaction() as session:
        stored = (await session.execute(select(Vote).order_by(Vote.slot_id))).scalars().all()
        assert [(v.answer, v.updated_at) for v in stored] == [
            (Answer.YES, now),
            (Answer.MAYBE, now),
        ]
        if db.is_sqlite:  # the very same text in the file, not only the same value read back
            raw = (
                await session.execute(
                    text("SELECT answer, updated_at FROM meeting_vote ORDER BY slot_id")
                )
            ).all()
            (yes, yes_at), (maybe, maybe_at) = raw
            assert (yes, maybe, yes_at) == (Answer.YES.value, Answer.MAYBE.value, maybe_at)
    async with db.transaction() as session:
        context, _language = await repo.vote_context(
            session, slot_id=slots[1], telegram_user_id=voter
        )
    assert context is not None and (context.poll_id, context.member_id) == (poll_id, member_id)
    assert context.deadline_at == now + timedelta(days=5)  # aware UTC, as SQLAlchemy returns it
    assert [a for _sid, _at, a in context.answers] == [Answer.YES, Answer.MAYBE]


async def test_an_update_id_counts_once(db: Database, clock: FakeClock) -> None:
    async with db.transaction() as session:
        assert await core_repo.mark_update_processed(session, update_id=7, now=clock.now())
        assert not await core_repo.mark_update_processed(session, update_id=7, now=clock.now())
    async with db.transaction() as session:
        assert not await core_repo.mark_update_processed(session, update_id=7, now=clock.now())
        handled = (await session.execute(select(ProcessedUpdate.handled_at))).scalar_one()
    assert handled == clock.now()


async def test_an_error_is_sqlalchemys_and_rolls_the_transaction_back(
    db: Database, clock: FakeClock
) -> None:
    _poll_id, _slots, member_id = await _poll(db, clock)
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            assert await core_repo.mark_update_processed(session, update_id=8, now=clock.now())
            conn = await connection_of(session)
            no_such_date = {
                "slot_id": 999_999,
                "member_id": member_id,
                "answer": Answer.NO,
                "updated_at": clock.now(),
            }
            await run_hot(
                conn,
                repo._upsert_vote(conn.dialect.name),
                no_such_date,
                column_keys=repo._VOTE_COLUMNS,
            )
    async with db.transaction() as session:  # the update id went with it: a redelivery counts
        assert await core_repo.mark_update_processed(session, update_id=8, now=clock.now())


def test_a_statement_rendered_per_call_is_not_prepared(sqlite_db: Database) -> None:
    statement = select(Vote.id).where(Vote.slot_id.in_([1, 2]))
    with pytest.raises(ValueError, match="expanding"):
        prepare(statement, sqlite_db.engine.dialect)


def test_an_insert_that_needs_a_python_default_is_not_prepared(sqlite_db: Database) -> None:
    """Run by hand, a column's Python-side default would be bound as NULL: refused."""
    statement = insert(UpdateSettings)
    with pytest.raises(ValueError, match="default"):
        prepare(statement, sqlite_db.engine.dialect, column_keys=("union_id",))


_TWICE = select(ProcessedUpdate.update_id).where(
    ProcessedUpdate.handled_at >= bindparam("at", type_=UTCDateTime()),
    ProcessedUpdate.handled_at <= bindparam("at", type_=UTCDateTime()),
)


async def test_a_parameter_bound_twice_is_processed_at_each_place(
    db: Database, clock: FakeClock
) -> None:
    """A name used twice in a statement is two positions on SQLite, each type-processed."""
    async with db.transaction() as session:
        assert await core_repo.mark_update_processed(session, update_id=9, now=clock.now())
        rows = await run_hot(await connection_of(session), _TWICE, {"at": clock.now()})
    assert [tuple(r) for r in rows] == [(9,)]
