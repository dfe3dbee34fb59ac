"""The meeting itself: agenda, attendance and guests, materials, minutes and tasks (issue 19).

storage.models.meeting_record says what each table holds.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column(
            "mode",
            sa.Enum("in_person", "online", name="attendancemode", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("recorded_by_member_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_attendance_meeting_id_meeting")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_attendance_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_member_id"],
            ["member.id"],
            name=op.f("fk_attendance_recorded_by_member_id_member"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance")),
        sa.UniqueConstraint(
            "meeting_id", "member_id", name=op.f("uq_attendance_meeting_id_member_id")
        ),
    )
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attendance_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attendance_member_id"), ["member_id"], unique=False)

    op.create_table(
        "meeting_guest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=True),
        sa.Column(
            "mode",
            sa.Enum("in_person", "online", name="attendancemode", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("added_by_member_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_member_id"],
            ["member.id"],
            name=op.f("fk_meeting_guest_added_by_member_id_member"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_meeting_guest_meeting_id_meeting")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_guest")),
    )
    with op.batch_alter_table("meeting_guest", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_guest_meeting_id"), ["meeting_id"], unique=False
        )

    op.create_table(
        "meeting_material",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.String(length=200), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("added_by_member_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_member_id"],
            ["member.id"],
            name=op.f("fk_meeting_material_added_by_member_id_member"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_meeting_material_meeting_id_meeting")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_material")),
    )
    with op.batch_alter_table("meeting_material", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_material_meeting_id"), ["meeting_id"], unique=False
        )

    op.create_table(
        "meeting_record",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("meeting", "workshop", name="meetingkind", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("theme", sa.String(length=200), nullable=True),
        sa.Column(
            "agenda_confirmed_at", storage.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("agenda_sent_hash", sa.String(length=64), nullable=True),
        sa.Column(
            "convocation_sent_at", storage.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_meeting_record_meeting_id_meeting")
        ),
        sa.PrimaryKeyConstraint("meeting_id", name=op.f("pk_meeting_record")),
    )
    op.create_table(
        "minutes",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("union_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("draft", "approved", name="minutesstatus", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("frozen", sa.Text(), nullable=True),
        sa.Column("approved_by_member_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by_member_id"],
            ["member.id"],
            name=op.f("fk_minutes_approved_by_member_id_member"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_minutes_meeting_id_meeting")
        ),
        sa.ForeignKeyConstraint(
            ["union_id"], ["municipal_union.id"], name=op.f("fk_minutes_union_id_municipal_union")
        ),
        sa.PrimaryKeyConstraint("meeting_id", name=op.f("pk_minutes")),
        sa.UniqueConstraint(
            "union_id", "year", "number", name=op.f("uq_minutes_union_id_year_number")
        ),
    )
    with op.batch_alter_table("minutes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_minutes_union_id"), ["union_id"], unique=False)

    op.create_table(
        "agenda_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "question",
                "decision",
                "task",
                "deadline",
                "proposal",
                "coordinator",
                name="agendasource",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "proposed",
                "accepted",
                "declined",
                name="agendastatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("proposed_by_member_id", sa.Integer(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "decided",
                "postponed",
                "information",
                name="itemoutcome",
                native_enum=False,
                length=24,
            ),
            nullable=True,
        ),
        sa.Column("outcome_note", sa.Text(), nullable=True),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decision.id"], name=op.f("fk_agenda_item_decision_id_decision")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_agenda_item_meeting_id_meeting")
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_member_id"],
            ["member.id"],
            name=op.f("fk_agenda_item_proposed_by_member_id_member"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_item")),
    )
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agenda_item_meeting_id"), ["meeting_id"], unique=False)

    op.create_table(
        "meeting_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("union_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("agenda_item_id", sa.Integer(), nullable=True),
        sa.Column("assignee_member_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("open", "done", "cancelled", name="taskstatus", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("created_by_member_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("told_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_id"], ["paes_action.id"], name=op.f("fk_meeting_task_action_id_paes_action")
        ),
        sa.ForeignKeyConstraint(
            ["agenda_item_id"],
            ["agenda_item.id"],
            name=op.f("fk_meeting_task_agenda_item_id_agenda_item"),
        ),
        sa.ForeignKeyConstraint(
            ["assignee_member_id"],
            ["member.id"],
            name=op.f("fk_meeting_task_assignee_member_id_member"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_member_id"],
            ["member.id"],
            name=op.f("fk_meeting_task_created_by_member_id_member"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_meeting_task_meeting_id_meeting")
        ),
        sa.ForeignKeyConstraint(
            ["union_id"],
            ["municipal_union.id"],
            name=op.f("fk_meeting_task_union_id_municipal_union"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_task")),
    )
    with op.batch_alter_table("meeting_task", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_task_assignee_member_id"), ["assignee_member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_meeting_task_meeting_id"), ["meeting_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_meeting_task_union_id"), ["union_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("meeting_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_task_union_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_task_meeting_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_task_assignee_member_id"))

    op.drop_table("meeting_task")
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_item_meeting_id"))

    op.drop_table("agenda_item")
    with op.batch_alter_table("minutes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_minutes_union_id"))

    op.drop_table("minutes")
    op.drop_table("meeting_record")
    with op.batch_alter_table("meeting_material", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_material_meeting_id"))

    op.drop_table("meeting_material")
    with op.batch_alter_table("meeting_guest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_guest_meeting_id"))

    op.drop_table("meeting_guest")
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendance_member_id"))
        batch_op.drop_index(batch_op.f("ix_attendance_meeting_id"))

    op.drop_table("attendance")
