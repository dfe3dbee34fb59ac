"""Where a meeting's attendance list is shown (issue 19, attendance): the group message the
check-ins happen on, kept live like a poll's grid (storage.models.attendance).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attendance_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("dirty_since", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rendered_hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_attendance_message_meeting_id_meeting")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_message")),
        sa.UniqueConstraint(
            "chat_id", "message_id", name=op.f("uq_attendance_message_chat_id_message_id")
        ),
    )
    op.create_index(
        op.f("ix_attendance_message_meeting_id"),
        "attendance_message",
        ["meeting_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_attendance_message_meeting_id"), table_name="attendance_message")
    op.drop_table("attendance_message")
