"""A decision's message says what it is: the card the political table votes on, or the outcome
announced to the technical table (storage.models.summaries.DecisionMessage.kind), so that an
edit of the decision (marked «attuata», decided after a postponement) redraws each as itself.
The outcome messages already sent are found by their outbox rows (`decout:` keys).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

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
        "AND o.message_id = decision_message.message_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("decision_message") as batch:
        batch.drop_column("kind")
