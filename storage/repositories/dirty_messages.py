"""Messages that owe an edit: a poll's tally, a decision's votes (bot.message_refresh).

Each kind lives in its area's table (`poll_message`, `decision_message`) with the same four
columns: `chat_id`, `message_id`, `dirty_since` (an edit is owed since then; the oldest owed
change is kept) and `rendered_hash` (the digest of what the message shows). The flag is set in
the transaction of the change and cleared only after an edit succeeded, in a transaction that
re-reads the state (see `lock`), so an owed edit survives a crash or a refused edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AttendanceMessage, DecisionMessage, PollMessage

TrackedMessage = PollMessage | DecisionMessage | AttendanceMessage
TrackedModel = type[PollMessage] | type[DecisionMessage] | type[AttendanceMessage]


@dataclass(frozen=True)
class OwedEdit:
    row_id: int
    chat_id: int
    dirty_since: datetime


async def owed(
    session: AsyncSession, model: TrackedModel, *, chat_id: int | None = None, limit: int = 500
) -> list[OwedEdit]:
    """Messages of this kind owing an edit (in one chat, or all), oldest owed first."""
    stmt = select(model.id, model.chat_id, model.dirty_since).where(model.dirty_since.is_not(None))
    if chat_id is not None:
        stmt = stmt.where(model.chat_id == chat_id)
    rows = await session.execute(stmt.order_by(model.dirty_since, model.id).limit(limit))
    return [OwedEdit(row_id=r[0], chat_id=r[1], dirty_since=cast(datetime, r[2])) for r in rows]


async def lock(session: AsyncSession, model: TrackedModel, row_id: int) -> TrackedMessage | None:
    """The row, locked until the transaction ends (PostgreSQL; SQLite's BEGIN IMMEDIATE holds
    the write lock already), so a vote marking it dirty waits for this transaction and then
    sees the cleared flag and sets it again: no owed edit is lost between render and clear."""
    rows = await session.execute(
        select(model)
        .where(model.id == row_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return cast(TrackedMessage | None, rows.scalars().first())


def settle(message: TrackedMessage, *, shown_digest: str, current_digest: str | None) -> None:
    """Record what the message shows; clear the owed edit when that is the current state.

    `current_digest` is the state re-rendered in this (locking) transaction, None when the
    thing shown no longer exists. Otherwise the edit stays owed (`dirty_since` unchanged).
    """
    message.rendered_hash = shown_digest
    if current_digest is None or current_digest == shown_digest:
        message.dirty_since = None


def drop(message: TrackedMessage) -> None:
    """Nothing more can be shown there (the message is gone or the chat refuses the bot)."""
    message.dirty_since = None


__all__ = ["OwedEdit", "TrackedMessage", "TrackedModel", "drop", "lock", "owed", "settle"]
