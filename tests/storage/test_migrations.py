"""The migration stairway: upgrade, downgrade, upgrade again; and the models match the schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text, update
from sqlalchemy.engine import Connection

from storage import migrate
from storage.db import Database
from storage.models import Base, Decision, DecisionStatus, OutboxMessage, OutboxStatus
from storage.repositories import outbox as outbox_repo
from tests.factories import NOW, make_union


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names()) - {"alembic_version"}


def _diff(conn: Connection) -> list[object]:
    context = MigrationContext.configure(conn, opts={"compare_type": False})
    return list(compare_metadata(context, Base.metadata))


async def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    db = Database(database_url)
    try:
        await migrate.upgrade(db)
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_tables) == set(Base.metadata.tables)
        await migrate.downgrade(db, "base")
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_tables) == set()
        await migrate.upgrade(db)
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_tables) == set(Base.metadata.tables)
            assert await conn.run_sync(_diff) == []
    finally:
        await db.dispose()


async def test_decision_messages_already_sent_learn_their_kind(database_url: str) -> None:
    """0011: a decision message the outbox sent under a `decout:` key is the technical table's
    outcome; every other one is the political table's card."""
    db = Database(database_url)
    try:
        await migrate.upgrade(db, "0010")
        async with db.transaction() as session:
            world = await make_union(session, name="Unione")
            decision = Decision(
                union_id=world.union.id,
                question="Q?",
                status=DecisionStatus.APPROVED,
                created_at=NOW,
            )
            session.add(decision)
            await session.flush()
            for row, (chat, message) in enumerate(((-100, 5), (-200, 6)), start=1):
                await session.execute(
                    text(
                        "INSERT INTO decision_message (id, decision_id, chat_id, message_id) "
                        "VALUES (:id, :decision, :chat, :message)"
                    ),
                    {"id": row, "decision": decision.id, "chat": chat, "message": message},
                )
            await outbox_repo.enqueue(
                session,
                dedup_key=f"decout:{decision.id}",
                chat_id=-200,
                method="sendMessage",
                payload={"text": "📣"},
                now=NOW,
            )
            await session.execute(
                update(OutboxMessage).values(status=OutboxStatus.SENT, message_id=6)
            )
        await migrate.upgrade(db)
        async with db.engine.connect() as conn:
            kinds = (
                await conn.execute(text("SELECT chat_id, kind FROM decision_message ORDER BY id"))
            ).all()
        assert [tuple(k) for k in kinds] == [(-100, "card"), (-200, "outcome")]
    finally:
        await db.dispose()
