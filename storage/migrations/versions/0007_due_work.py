"""The tick's due work: when each kind of scheduled work is next due (bot.services.schedule).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "due_work",
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("due_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("awake", sa.Boolean(), nullable=False),
        sa.Column("woken", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_due_work")),
    )


def downgrade() -> None:
    op.drop_table("due_work")
