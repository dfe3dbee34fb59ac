"""Continuity (issue 19): was each Comune represented at its tables' meetings? For /team (the
last 12 months), the monthly summary (a Comune missing from three meetings of a table in a
row) and the export (every meeting whose attendance was taken).

A meeting counts once its check-in window has closed, if it was not cancelled and someone was
present (a meeting nobody checked in to has no record: the bot cannot tell who came). A Comune
attended it when the coverage rule counts it represented (`attendance.represented`: anyone of
it present), with the members' Comuni as they stand now; a joint meeting counts for both
tables; a Comune counts from the day it joined the Union. Rules: docs/DESIGN.md, «The meeting
itself: continuity».
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.meetings import attendance, rules
from bot.views.continuity import Absent, SheetRow, TableRecord
from storage.models import Municipality, PollTable, Union
from storage.repositories import attendance as repo
from storage.repositories import core as core_repo

WINDOW = timedelta(days=365)  # «the last 12 months» of /team and the summary
MISSED_IN_A_ROW = 3  # the summary names a Comune not represented at this many in a row
TABLES = (PollTable.POLITICAL, PollTable.TECHNICAL)


# --- the rules (pure) -------------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """A meeting that counts, and the Comuni represented at it."""

    meeting_id: int
    title: str
    table: PollTable
    starts_at: datetime
    represented: frozenset[int]


def held_meetings(
    rows: Iterable[tuple[int, str, PollTable, datetime, datetime, int, int | None]],
    *,
    tz: ZoneInfo,
    now: datetime,
) -> list[Held]:
    """From (meeting, title, table, start, end, member present, one of their Comuni or None)
    rows, oldest first: the meetings whose check-in window has closed, each with the Comuni
    the coverage rule counts represented."""
    meetings: dict[int, tuple[str, PollTable, datetime, datetime]] = {}
    comuni_of: dict[int, dict[int, set[int]]] = {}
    for meeting_id, title, table, starts_at, ends_at, member_id, comune in rows:
        meetings.setdefault(meeting_id, (title, table, starts_at, ends_at))
        comuni = comuni_of.setdefault(meeting_id, {}).setdefault(member_id, set())
        if comune is not None:
            comuni.add(comune)
    held = []
    for meeting_id, (title, table, starts_at, ends_at) in meetings.items():
        _opens, closes = attendance.check_in_window(starts_at=starts_at, ends_at=ends_at, tz=tz)
        if closes > now:
            continue
        present = comuni_of[meeting_id]
        voters = {m: rules.Voter(m, tuple(sorted(c))) for m, c in present.items()}
        covered = attendance.represented(starts_at=starts_at, present=present, voters=voters)
        held.append(Held(meeting_id, title, table, starts_at, covered))
    return sorted(held, key=lambda h: (h.starts_at, h.meeting_id))


def of_table(held: Sequence[Held], table: PollTable) -> list[Held]:
    """The meetings of `table`, the joint ones included."""
    return [h for h in held if h.table in (table, PollTable.BOTH)]


def table_record(held: Sequence[Held], *, comune_id: int, joined_at: datetime) -> TableRecord:
    """A Comune at the meetings given (one table's, oldest first), from the day it joined."""
    counted = [h for h in held if h.starts_at >= joined_at]
    attended = [comune_id in h.represented for h in counted]
    missed = 0
    for was_there in reversed(attended):
        if was_there:
            break
        missed += 1
    return TableRecord(
        held=len(counted),
        attended=sum(attended),
        missed_in_a_row=missed,
        flagged=missed >= MISSED_IN_A_ROW,
    )


def records_by_comune(
    held: Sequence[Held], comuni: Sequence[tuple[int, datetime]]
) -> dict[int, dict[PollTable, TableRecord]]:
    """Per Comune (id, joined at), its record at each table that met."""
    result: dict[int, dict[PollTable, TableRecord]] = {}
    for table in TABLES:
        meetings = of_table(held, table)
        if not meetings:
            continue
        for comune_id, joined_at in comuni:
            record = table_record(meetings, comune_id=comune_id, joined_at=joined_at)
            if record.held:
                result.setdefault(comune_id, {})[table] = record
    return result


def absences(
    records: dict[int, dict[PollTable, TableRecord]], names: dict[int, str]
) -> list[Absent]:
    """The Comuni not represented at the last MISSED_IN_A_ROW meetings (or more) of a table."""
    return [
        Absent(names[comune_id], table, record.missed_in_a_row)
        for comune_id, by_table in records.items()
        for table, record in by_table.items()
        if record.flagged and comune_id in names
    ]


# --- reading ----------------------------------------------------------------------------------


async def _held(
    session: AsyncSession, union: Union, *, since: datetime | None, now: datetime
) -> list[Held]:
    rows = await repo.attendance_history(session, union_id=union.id, since=since, until=now)
    return held_meetings(
        (
            (m.id, m.title, m.table, m.starts_at, m.ends_at, member_id, comune)
            for m, member_id, comune in rows
        ),
        tz=ZoneInfo(union.timezone),
        now=now,
    )


async def _comuni(session: AsyncSession, union_id: int) -> list[Municipality]:
    return await core_repo.municipalities(session, union_id)


async def recent_records(
    session: AsyncSession, *, union_id: int, now: datetime
) -> dict[int, dict[PollTable, TableRecord]]:
    """Per Comune of the Union, its record at each table over the last 12 months (/team)."""
    union = await session.get(Union, union_id)
    if union is None:
        return {}
    held = await _held(session, union, since=now - WINDOW, now=now)
    if not held:
        return {}
    comuni = [(m.id, m.created_at) for m in await _comuni(session, union_id)]
    return records_by_comune(held, comuni)


async def recent_absences(session: AsyncSession, *, union_id: int, now: datetime) -> list[Absent]:
    """The summary's absences: Comuni not represented at the last three meetings of a table."""
    records = await recent_records(session, union_id=union_id, now=now)
    if not records:
        return []
    names = {m.id: m.name for m in await _comuni(session, union_id)}
    return absences(records, names)


async def sheet_rows(session: AsyncSession, *, union_id: int, now: datetime) -> list[SheetRow]:
    """The export's sheet: every meeting whose attendance was taken, one row per Comune of the
    Union then (it had joined), represented or not."""
    union = await session.get(Union, union_id)
    if union is None:
        return []
    held = await _held(session, union, since=None, now=now)
    if not held:
        return []
    tz = ZoneInfo(union.timezone)
    comuni = await core_repo.municipalities(session, union_id, include_archived=True)
    return [
        SheetRow(
            starts_at_local=h.starts_at.astimezone(tz).replace(tzinfo=None),
            title=h.title,
            table=h.table,
            comune=m.name,
            represented=m.id in h.represented,
        )
        for h in held
        for m in comuni
        if m.created_at <= h.starts_at and (m.archived_at is None or m.archived_at > h.starts_at)
    ]


__all__ = [
    "MISSED_IN_A_ROW",
    "WINDOW",
    "Held",
    "absences",
    "held_meetings",
    "of_table",
    "recent_absences",
    "recent_records",
    "records_by_comune",
    "sheet_rows",
    "table_record",
]
