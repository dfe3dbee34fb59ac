"""The migration stairway: upgrade, downgrade, upgrade again; and the models match the schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text, update
from sqlalchemy.engine import Connection

from storage import migrate
from storage.db import Database
from storage.models import (
    Base,
    Decision,
    DecisionStatus,
    OutboxMessage,
    OutboxStatus,
    TableKind,
)
from storage.repositories import outbox as outbox_repo
from tests.factories import NOW, make_world


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
    """0011: a decision message sent under a `decout:` key, or shown in the technical table's
    group, is an announcement: a question's outcome, or a decision recorded when nobody asked
    it; every other one is the political table's card. The messages of a rejected or postponed
    decision owe an edit (their «Segna come attuata» goes)."""
    db = Database(database_url)
    try:
        await migrate.upgrade(db, "0010")
        async with db.transaction() as session:
            world = await make_world(session, comuni=1, actions_per_comune=0)
            technical = world.links[TableKind.TECHNICAL].chat_id
            asked, recorded, rejected = (
                Decision(
                    union_id=world.union.id,
                    question=question,
                    status=status,
                    asked_by_member_id=asker,
                    created_at=NOW,
                )
                for question, status, asker in (
                    ("Q?", DecisionStatus.APPROVED, world.members["tecnico:0"].id),
                    ("Si parte", DecisionStatus.APPROVED, None),
                    ("No?", DecisionStatus.REJECTED, world.members["tecnico:0"].id),
                )
            )
            session.add_all([asked, recorded, rejected])
            await session.flush()
            shown = (
                (asked.id, -100, 5),  # its card in the political group
                (asked.id, -200, 6),  # its outcome, to a coordinator in private (the outbox)
                (recorded.id, technical, 7),  # recorded with /decisione, in the technical group
                (rejected.id, -100, 8),
            )
            for row, (decision_id, chat, message) in enumerate(shown, start=1):
                await session.execute(
                    text(
                        "INSERT INTO decision_message (id, decision_id, chat_id, message_id) "
                        "VALUES (:id, :decision, :chat, :message)"
                    ),
                    {"id": row, "decision": decision_id, "chat": chat, "message": message},
                )
            await outbox_repo.enqueue(
                session,
                dedup_key=f"decout:{asked.id}",
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
                await conn.execute(
                    text(
                        "SELECT message_id, kind, dirty_since IS NOT NULL FROM decision_message "
                        "ORDER BY id"
                    )
                )
            ).all()
        assert [tuple(k) for k in kinds] == [
            (5, "card", False),
            (6, "outcome", False),
            (7, "record", False),
            (8, "card", True),
        ]
    finally:
        await db.dispose()
