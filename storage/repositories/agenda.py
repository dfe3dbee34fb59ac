"""A meeting's agenda (ordine del giorno): its record, its items, and what is pending for it.

Never commits: the caller's transaction does (bot.services.meetings.agenda).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import (
    AgendaItem,
    AgendaStatus,
    Decision,
    DecisionStatus,
    Meeting,
    MeetingRecord,
    MeetingTask,
    TaskStatus,
)


async def record_of(session: AsyncSession, meeting_id: int) -> MeetingRecord | None:
    return await session.get(MeetingRecord, meeting_id)


async def add_record(session: AsyncSession, meeting_id: int) -> MeetingRecord:
    record = MeetingRecord(meeting_id=meeting_id)
    session.add(record)
    await session.flush()
    return record


async def items_of(
    session: AsyncSession, meeting_id: int, *, statuses: Sequence[AgendaStatus]
) -> list[AgendaItem]:
    """The meeting's items in these statuses, in the agenda's order (position, then id)."""
    rows = await session.execute(
        select(AgendaItem)
        .where(AgendaItem.meeting_id == meeting_id, AgendaItem.status.in_(statuses))
        .order_by(AgendaItem.position, AgendaItem.id)
    )
    return list(rows.scalars())


async def next_position(session: AsyncSession, meeting_id: int) -> int:
    """One past the last position used by the meeting's items (1 for the first)."""
    last = (
        await session.execute(
            select(func.max(AgendaItem.position)).where(AgendaItem.meeting_id == meeting_id)
        )
    ).scalar_one()
    return int(last or 0) + 1


async def decide_item(
    session: AsyncSession, *, item_id: int, to: AgendaStatus, position: int | None = None
) -> bool:
    """Move a proposal out of PROPOSED exactly once (two coordinators pressing at once: one
    wins). True when this call moved it."""
    values: dict[str, object] = {"status": to}
    if position is not None:
        values["position"] = position
    result = await session.execute(
        update(AgendaItem)
        .where(AgendaItem.id == item_id, AgendaItem.status == AgendaStatus.PROPOSED)
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def mark_convoked(
    session: AsyncSession, *, meeting_id: int, agenda_hash: str, now: datetime
) -> bool:
    """The convocation's status transition: True for the one call that made it."""
    result = await session.execute(
        update(MeetingRecord)
        .where(MeetingRecord.meeting_id == meeting_id, MeetingRecord.convocation_sent_at.is_(None))
        .values(convocation_sent_at=now, agenda_sent_hash=agenda_hash)
        .execution_options(synchronize_session="fetch")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --- what is pending for a table ----------------------------------------------------------


async def decisions_in(
    session: AsyncSession, *, union_id: int, statuses: Sequence[DecisionStatus]
) -> list[Decision]:
    rows = await session.execute(
        select(Decision)
        .where(Decision.union_id == union_id, Decision.status.in_(statuses))
        .order_by(Decision.created_at, Decision.id)
    )
    return list(rows.scalars())


async def decisions_closed_since(
    session: AsyncSession, *, union_id: int, since: datetime, statuses: Sequence[DecisionStatus]
) -> list[Decision]:
    rows = await session.execute(
        select(Decision)
        .where(
            Decision.union_id == union_id,
            Decision.status.in_(statuses),
            Decision.closed_at >= since,
        )
        .order_by(Decision.closed_at, Decision.id)
    )
    return list(rows.scalars())


async def previous_meeting_start(session: AsyncSession, meeting: Meeting) -> datetime | None:
    """When the Union's last meeting before this one started (any table; not cancelled)."""
    return (
        await session.execute(
            select(func.max(Meeting.starts_at)).where(
                Meeting.union_id == meeting.union_id,
                Meeting.id != meeting.id,
                Meeting.starts_at < meeting.starts_at,
                Meeting.cancelled_at.is_(None),
            )
        )
    ).scalar_one()


async def open_tasks(session: AsyncSession, *, union_id: int) -> list[MeetingTask]:
    rows = await session.execute(
        select(MeetingTask)
        .where(MeetingTask.union_id == union_id, MeetingTask.status == TaskStatus.OPEN)
        .order_by(MeetingTask.due_on, MeetingTask.id)
    )
    return list(rows.scalars())


# --- the convocation ----------------------------------------------------------------------


def _convocation_owed(
    now: datetime, *, window_end: datetime, grace_since: datetime, soon: datetime
) -> list[ColumnElement[bool]]:
    """A meeting ahead, within the convocation's window, not convoked yet, and either confirmed
    or past the coordinator's grace (fixed long enough ago, or starting soon)."""
    sent = exists().where(
        MeetingRecord.meeting_id == Meeting.id, MeetingRecord.convocation_sent_at.is_not(None)
    )
    confirmed = exists().where(
        MeetingRecord.meeting_id == Meeting.id, MeetingRecord.agenda_confirmed_at.is_not(None)
    )
    return [
        Meeting.cancelled_at.is_(None),
        Meeting.starts_at > now,
        Meeting.starts_at <= window_end,
        ~sent,
        confirmed | (Meeting.created_at <= grace_since) | (Meeting.starts_at <= soon),
    ]


def convocations_owed(
    now: datetime, *, window_end: datetime, grace_since: datetime, soon: datetime
) -> ColumnElement[bool]:
    """The tick's probe (storage.repositories.schedule): some convocation is due."""
    return exists().where(
        *_convocation_owed(now, window_end=window_end, grace_since=grace_since, soon=soon)
    )


async def meetings_to_convoke(
    session: AsyncSession,
    now: datetime,
    *,
    window_end: datetime,
    grace_since: datetime,
    soon: datetime,
) -> list[int]:
    rows = await session.execute(
        select(Meeting.id)
        .where(*_convocation_owed(now, window_end=window_end, grace_since=grace_since, soon=soon))
        .order_by(Meeting.starts_at, Meeting.id)
    )
    return list(rows.scalars())
