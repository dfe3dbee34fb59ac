"""A meeting's attendance: who is present (a row = present), its guests, and the group messages
that show the list (bot.services.meetings.attendance)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Attendance,
    AttendanceMessage,
    AttendanceMode,
    Meeting,
    MeetingGuest,
    MeetingKind,
    MeetingMaterial,
    MeetingRecord,
    MemberMunicipality,
)
from storage.repositories import dirty_messages
from storage.repositories.common import insert_ignore


async def present_of(session: AsyncSession, meeting_id: int) -> dict[int, AttendanceMode]:
    """Member id → how they attend, for every member present."""
    rows = await session.execute(
        select(Attendance.member_id, Attendance.mode).where(Attendance.meeting_id == meeting_id)
    )
    return {member_id: AttendanceMode(mode) for member_id, mode in rows.all()}


async def set_attendance(
    session: AsyncSession,
    *,
    meeting_id: int,
    member_id: int,
    mode: AttendanceMode | None,
    recorded_by: int,
    now: datetime,
) -> bool:
    """Present in `mode`, or absent (None). True when something changed. An INSERT that does
    nothing on conflict, then an UPDATE: a check-in and the coordinator's tap at once never
    fail on the unique key."""
    if mode is None:
        result = await session.execute(
            delete(Attendance).where(
                Attendance.meeting_id == meeting_id, Attendance.member_id == member_id
            )
        )
        return bool(getattr(result, "rowcount", 0))
    values = {"mode": mode, "recorded_by_member_id": recorded_by, "recorded_at": now}
    if await insert_ignore(
        session,
        Attendance,
        {"meeting_id": meeting_id, "member_id": member_id, **values},
        ["meeting_id", "member_id"],
    ):
        return True
    result = await session.execute(
        sql_update(Attendance)
        .where(
            Attendance.meeting_id == meeting_id,
            Attendance.member_id == member_id,
            Attendance.mode != mode,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def guests_of(session: AsyncSession, meeting_id: int) -> list[MeetingGuest]:
    rows = await session.execute(
        select(MeetingGuest).where(MeetingGuest.meeting_id == meeting_id).order_by(MeetingGuest.id)
    )
    return list(rows.scalars())


async def add_guest(
    session: AsyncSession,
    *,
    meeting_id: int,
    name: str,
    organisation: str | None,
    added_by: int,
    now: datetime,
) -> MeetingGuest:
    guest = MeetingGuest(
        meeting_id=meeting_id,
        name=name,
        organisation=organisation,
        mode=AttendanceMode.IN_PERSON,
        added_by_member_id=added_by,
        created_at=now,
    )
    session.add(guest)
    await session.flush()
    return guest


async def remove_guest(session: AsyncSession, guest: MeetingGuest) -> None:
    await session.delete(guest)
    await session.flush()


async def add_message(
    session: AsyncSession, *, meeting_id: int, chat_id: int, message_id: int
) -> None:
    await dirty_messages.remember(
        session, AttendanceMessage, owner_id=meeting_id, chat_id=chat_id, message_id=message_id
    )


async def shown_at(session: AsyncSession, meeting_id: int) -> list[tuple[int, int]]:
    """(chat id, message id) of every message showing the meeting's attendance."""
    return await dirty_messages.shown_at(session, AttendanceMessage, meeting_id)


async def mark_dirty(session: AsyncSession, *, meeting_id: int, now: datetime) -> list[int]:
    """Owe an edit on every message showing the attendance; returns their chat ids."""
    return await dirty_messages.mark_dirty(session, AttendanceMessage, owner_id=meeting_id, now=now)


async def attendance_history(
    session: AsyncSession, *, union_id: int, since: datetime | None, until: datetime
) -> list[tuple[Meeting, int, int | None]]:
    """(meeting, member present, one of their Comuni or None) for every meeting of the Union,
    not cancelled, starting in [since, until), where someone was present: one statement, the
    meetings oldest first (bot.services.meetings.continuity)."""
    stmt = (
        select(Meeting, Attendance.member_id, MemberMunicipality.municipality_id)
        .join(Attendance, Attendance.meeting_id == Meeting.id)
        .outerjoin(MemberMunicipality, MemberMunicipality.member_id == Attendance.member_id)
        .where(
            Meeting.union_id == union_id,
            Meeting.cancelled_at.is_(None),
            Meeting.starts_at < until,
        )
        .order_by(Meeting.starts_at, Meeting.id)
    )
    if since is not None:
        stmt = stmt.where(Meeting.starts_at >= since)
    rows = await session.execute(stmt)
    return [(meeting, member_id, comune) for meeting, member_id, comune in rows.all()]


async def workshop_theme(session: AsyncSession, meeting_id: int) -> str | None:
    """The theme of a meeting that is a thematic workshop; None for an ordinary meeting."""
    row = await session.execute(
        select(MeetingRecord.theme).where(
            MeetingRecord.meeting_id == meeting_id, MeetingRecord.kind == MeetingKind.WORKSHOP
        )
    )
    return row.scalar_one_or_none()


async def set_workshop(session: AsyncSession, *, meeting_id: int, theme: str | None) -> None:
    """A thematic workshop on `theme`, or (None) an ordinary meeting again. The meeting's
    record row is shared with the agenda: created if missing, then only these two columns."""
    await insert_ignore(
        session,
        MeetingRecord,
        {"meeting_id": meeting_id, "kind": MeetingKind.MEETING},
        ["meeting_id"],
    )
    kind = MeetingKind.MEETING if theme is None else MeetingKind.WORKSHOP
    await session.execute(
        sql_update(MeetingRecord)
        .where(MeetingRecord.meeting_id == meeting_id)
        .values(kind=kind, theme=theme)
        .execution_options(synchronize_session=False)
    )


async def materials_of(session: AsyncSession, meeting_id: int) -> list[MeetingMaterial]:
    rows = await session.execute(
        select(MeetingMaterial)
        .where(MeetingMaterial.meeting_id == meeting_id)
        .order_by(MeetingMaterial.id)
    )
    return list(rows.scalars())


async def add_material(
    session: AsyncSession,
    *,
    meeting_id: int,
    file_id: str,
    file_name: str,
    added_by: int,
    now: datetime,
) -> MeetingMaterial:
    material = MeetingMaterial(
        meeting_id=meeting_id,
        file_id=file_id,
        file_name=file_name,
        added_by_member_id=added_by,
        created_at=now,
    )
    session.add(material)
    await session.flush()
    return material


async def remove_material(session: AsyncSession, material: MeetingMaterial) -> None:
    await session.delete(material)
    await session.flush()
