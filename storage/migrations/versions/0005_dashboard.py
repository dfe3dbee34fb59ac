"""Dashboard: the public progress page of a Union.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "public_page",
        sa.Column("union_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["union_id"],
            ["municipal_union.id"],
            name=op.f("fk_public_page_union_id_municipal_union"),
        ),
        sa.PrimaryKeyConstraint("union_id", name=op.f("pk_public_page")),
        sa.UniqueConstraint("slug", name=op.f("uq_public_page_slug")),
    )


def downgrade() -> None:
    op.drop_table("public_page")
