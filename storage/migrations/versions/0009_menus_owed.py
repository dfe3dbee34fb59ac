"""Every member who joined before the per-person menus (0006) is owed their own menu once.

The menus follow a change (approval, a new role, coordinator rights, leaving): a member approved
before 0006 had none, and kept everyone's (/start, /aiuto) until their next change. This data
migration owes each active member's private chat its menu (`menu_owed`, as
storage.repositories.menus.owe does); the tick's `common.private_menus` finds the rows by its
probe and sets them, a few per tick. A chat already owed keeps its row.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The tables as this revision knows them (not the models, which move on).
_person = sa.table(
    "person",
    sa.column("id", sa.Integer()),
    sa.column("telegram_user_id", sa.BigInteger()),
    sa.column("erased_at", storage.models.base.UTCDateTime(timezone=True)),
)
_member = sa.table(
    "member",
    sa.column("person_id", sa.Integer()),
    sa.column("status", sa.String(24)),
)
_menu_owed = sa.table(
    "menu_owed",
    sa.column("chat_id", sa.BigInteger()),
    sa.column("owed_since", storage.models.base.UTCDateTime(timezone=True)),
)


def upgrade() -> None:
    now = sa.bindparam("now", datetime.now(UTC), type_=storage.models.base.UTCDateTime())
    members = (
        sa.select(_person.c.telegram_user_id, now)
        .distinct()
        .join(_member, _member.c.person_id == _person.c.id)
        .where(
            _member.c.status == "active",
            _person.c.telegram_user_id.is_not(None),
            _person.c.erased_at.is_(None),
            ~sa.exists().where(_menu_owed.c.chat_id == _person.c.telegram_user_id),
        )
    )
    op.execute(_menu_owed.insert().from_select(["chat_id", "owed_since"], members))


def downgrade() -> None:
    """Nothing to undo: a menu owed is set once and forgotten, and 0007 has the same table."""
