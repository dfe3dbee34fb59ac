"""A decision's message says what it is: the card the political table votes on, a question's
outcome announced to the technical table, or a decision recorded with /decisione announced
there (storage.models.summaries.DecisionMessage.kind), so that an edit of the decision (marked
«attuata», decided after a postponement) redraws each as itself.

The messages already sent: an announcement is one sent under a `decout:` outbox key (while the
outbox keeps its rows: 60 days) or one in the technical table's linked group; it is a decision
recorded when nobody asked it (no technician's update behind it). And the messages of decisions
rejected or postponed owe an edit: they offered «Segna come attuata», which only an approved
decision keeps.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decision_message") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), server_default="card", nullable=False)
        )
    op.execute(
        "UPDATE decision_message SET kind = 'outcome' WHERE EXISTS ("
        "SELECT 1 FROM outbox_message o WHERE o.dedup_key LIKE 'decout:%' "
        "AND o.chat_id = decision_message.chat_id "
        "AND o.message_id = decision_message.message_id"
        ") OR chat_id IN (SELECT chat_id FROM linked_chat WHERE table_kind = 'technical')"
    )
    op.execute(
        "UPDATE decision_message SET kind = 'record' WHERE kind = 'outcome' AND decision_id IN ("
        "SELECT id FROM decision "
        "WHERE source_update_id IS NULL AND asked_by_member_id IS NULL)"
    )
    message = sa.table(
        "decision_message",
        sa.column("decision_id", sa.Integer()),
        sa.column("dirty_since", storage.models.base.UTCDateTime(timezone=True)),
    )
    decision = sa.table("decision", sa.column("id", sa.Integer()), sa.column("status", sa.String()))
    op.execute(
        message.update()
        .where(
            message.c.dirty_since.is_(None),
            message.c.decision_id.in_(
                sa.select(decision.c.id).where(decision.c.status.in_(("rejected", "postponed")))
            ),
        )
        .values(dirty_since=datetime.now(UTC))
    )


def downgrade() -> None:
    with op.batch_alter_table("decision_message") as batch:
        batch.drop_column("kind")
