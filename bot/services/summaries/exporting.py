"""/esporta and the summary's spreadsheet: the Union's data for the Covenant monitoring.

Who may have the files (`export_access`, `export_offer`: any member of the Union under a
summary; the coordinator and the Sindaci with /esporta), the data read in one short
transaction (`read_export`), then the files written outside it, in a thread (`export_files`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator, translator
from bot.services.display_text import person_name
from bot.services.meetings import continuity
from bot.services.summaries import export as files
from bot.views.continuity import SheetRow
from bot.views.summaries import CSV, NOTES_FILE_PART, export_captions
from storage.models import Member, Role, Union
from storage.repositories import core as core_repo
from storage.repositories import summaries as repo
from storage.repositories.summaries import ExportData


@dataclass(frozen=True)
class ExportAllowed:
    union_id: int


@dataclass(frozen=True)
class ExportOffer:
    """/esporta: the formats to offer, for this Union."""

    union_id: int
    union_name: str


@dataclass(frozen=True)
class ExportRefused:
    """`reason`: not_member (of the Union), not_allowed (neither coordinator nor Sindaco)."""

    reason: str


def may_export(member: Member) -> bool:
    """The Covenant export (/esporta) is for the coordinator and the Sindaci."""
    return member.is_coordinator or member.role == Role.SINDACO


async def export_access(
    session: AsyncSession, *, union_id: int, telegram_user_id: int, restricted: bool
) -> ExportAllowed | ExportRefused:
    """A file button pressed: the presser's active membership of the Union it names; with
    `restricted` (/esporta's buttons) the coordinator or a Sindaco."""
    member = await core_repo.member_of(
        session, union_id=union_id, telegram_user_id=telegram_user_id
    )
    if member is None:
        return ExportRefused("not_member")
    if restricted and not may_export(member):
        return ExportRefused("not_allowed")
    return ExportAllowed(union_id)


async def export_offer(session: AsyncSession, *, member_id: int) -> ExportOffer | ExportRefused:
    """/esporta, for the member found in this transaction."""
    member = await session.get(Member, member_id)
    union = await session.get(Union, member.union_id) if member is not None else None
    if member is None or union is None:
        return ExportRefused("not_member")
    if not may_export(member):
        return ExportRefused("not_allowed")
    return ExportOffer(union.id, union.name)


async def export_link(
    session: AsyncSession, *, union_id: int, telegram_user_id: int
) -> ExportOffer | ExportRefused:
    """/esporta reached through a link (`?start=exp-<union>`): the formats, for whoever is the
    coordinator or a Sindaco of the Union the link names, checked now."""
    access = await export_access(
        session, union_id=union_id, telegram_user_id=telegram_user_id, restricted=True
    )
    union = await session.get(Union, union_id)
    if isinstance(access, ExportRefused) or union is None:
        return access if isinstance(access, ExportRefused) else ExportRefused("not_member")
    return ExportOffer(union.id, union.name)


@dataclass(frozen=True)
class ExportRead:
    data: ExportData
    today: date  # in the Union's zone: the files' names carry it
    attendance: tuple[SheetRow, ...] = ()  # Comuni represented at each meeting (continuity)


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    name: str
    caption: str


async def read_export(session: AsyncSession, *, union_id: int, now: datetime) -> ExportRead | None:
    data = await repo.export_data(session, union_id)
    if data is None:
        return None
    attendance = await continuity.sheet_rows(session, union_id=union_id, now=now)
    today = now.astimezone(ZoneInfo(data.union.timezone)).date()
    return ExportRead(data, today, tuple(attendance))


def export_tables(
    data: ExportData, tr: Translator, attendance: tuple[SheetRow, ...] = ()
) -> files.ExportTables:
    """The export's rows as plain data, the authors' names in the reader's language."""
    return files.ExportTables(
        union_name=data.union.name,
        timezone=data.union.timezone,
        actions=[
            files.ActionRow(
                code=a.code,
                title=a.title,
                sector=a.sector,
                comune=name,
                responsible=a.responsible,
                start_on=a.start_on,
                end_on=a.end_on,
                status=a.status.value,
                progress=a.progress,
                energy_saved_mwh=a.energy_saved_mwh,
                renewable_mwh=a.renewable_mwh,
                co2_avoided_t=a.co2_avoided_t,
                cost_eur=a.cost_eur,
            )
            for a, name in data.actions
        ],
        history=[
            files.HistoryRow(
                created_at=u.created_at,
                code=code,
                previous_status=u.previous_status.value if u.previous_status else None,
                status=u.status.value,
                previous_progress=u.previous_progress,
                progress=u.progress,
                note=u.note,
                needs_decision=u.needs_decision,
                author=person_name(author, tr) if author is not None else "",
            )
            for u, code, author in data.history
        ],
        meetings=[
            files.MeetingRow(
                starts_at=m.starts_at,
                ends_at=m.ends_at,
                title=m.title,
                place=m.place,
                table=m.table.value,
                cancelled=m.cancelled_at is not None,
            )
            for m in data.meetings
        ],
        notes=[
            files.NoteRow(
                created_at=n.created_at,
                comune=comune,
                period=period,
                author=person_name(n.author, tr) if n.member_id is not None else "",
                source=n.source,
                text=n.text,
            )
            for n, comune, period in data.notes
        ],
        attendance=attendance,
    )


async def export_files(read: ExportRead, *, kind: str, language: str) -> list[ExportFile]:
    """The export's files: one XLSX; or (`kind` csv) the actions' CSV, followed by the
    technical group's notes in a CSV of their own when there are any. Written in a thread."""
    tr = translator(language)
    tables = export_tables(read.data, tr, read.attendance)
    name = read.data.union.name
    captions = export_captions(tr)
    if kind != CSV:
        return [
            ExportFile(
                await asyncio.to_thread(files.export_xlsx, tables, tr),
                files.export_file_name(name, read.today, "xlsx"),
                captions["xlsx"],
            )
        ]
    result = [
        ExportFile(
            await asyncio.to_thread(files.export_csv, tables, tr),
            files.export_file_name(name, read.today, "csv"),
            captions["csv"],
        )
    ]
    if tables.notes:
        result.append(
            ExportFile(
                await asyncio.to_thread(files.export_notes_csv, tables, tr),
                files.export_file_name(name, read.today, "csv", NOTES_FILE_PART),
                captions["notes"],
            )
        )
    return result
