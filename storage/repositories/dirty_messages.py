"""Messages that owe an edit: a poll's tally, a decision's votes, a meeting's attendance
(bot.message_refresh).

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

from sqlalchemy import func, select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storage.models import AttendanceMessage, DecisionMessage, PollMessage
from storage.repositories.common import insert_ignore

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


# --- the messages of one thing (a decision, a meeting's attendance) ---------------------------

OwnedModel = type[DecisionMessage] | type[AttendanceMessage]


def _owner(model: OwnedModel) -> InstrumentedAttribute[int]:
    """The column naming what the message shows."""
    return DecisionMessage.decision_id if model is DecisionMessage else AttendanceMessage.meeting_id


async def remember(
    session: AsyncSession,
    model: OwnedModel,
    *,
    owner_id: int,
    chat_id: int,
    message_id: int,
    **more: object,
) -> None:
    """The message (chat, id) shows `owner_id` (and `more` of the model's columns): kept once."""
    await insert_ignore(
        session,
        model,
        {_owner(model).key: owner_id, "chat_id": chat_id, "message_id": message_id, **more},
        ["chat_id", "message_id"],
    )


async def shown_at(
    session: AsyncSession, model: OwnedModel, owner_id: int
) -> list[tuple[int, int]]:
    """(chat id, message id) of every message showing `owner_id`."""
    rows = await session.execute(
        select(model.chat_id, model.message_id).where(_owner(model) == owner_id)
    )
    return [(chat_id, message_id) for chat_id, message_id in rows.all()]


async def mark_dirty(
    session: AsyncSession, model: OwnedModel, *, owner_id: int, now: datetime
) -> list[int]:
    """Owe an edit on every message showing `owner_id` (the oldest owed change kept); returns
    their chat ids. One UPDATE of every row: it locks them like any update, so on PostgreSQL it
    waits for an edit being cleared (`lock`, FOR UPDATE) and sets the flag again after it."""
    await session.execute(
        sql_update(model)
        .where(_owner(model) == owner_id)
        .values(dirty_since=func.coalesce(model.dirty_since, now))
        .execution_options(synchronize_session="fetch")
    )
    return sorted({chat_id for chat_id, _message in await shown_at(session, model, owner_id)})


__all__ = [
    "OwedEdit",
    "OwnedModel",
    "TrackedMessage",
    "TrackedModel",
    "drop",
    "lock",
    "mark_dirty",
    "owed",
    "remember",
    "settle",
    "shown_at",
]
