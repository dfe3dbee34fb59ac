"""People: the form a person is named in (Sindaca / Sindaco), and the private menus owed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("form", sa.String(length=24), nullable=True))
    op.create_table(
        "menu_owed",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("owed_since", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_menu_owed")),
    )


def downgrade() -> None:
    op.drop_table("menu_owed")
    with op.batch_alter_table("person") as batch:
        batch.drop_column("form")
