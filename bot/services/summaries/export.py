"""Exports for the Covenant of Mayors monitoring: XLSX (Azioni, Storico aggiornamenti, Note dal
gruppo tecnico, Riunioni, Presenze per Comune) and CSV (the actions; the technical group's notes in a second file).
Plain rows in, bytes out, written by `bot.services.spreadsheet` (the one writer of every file
the bot sends, which also keeps formula-like text from running); callers run these in a thread.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import N_, Translator
from bot.services import spreadsheet
from bot.services.summaries.summary import STATUS_LABELS
from bot.views.continuity import ATTENDANCE_HEADERS, ATTENDANCE_SHEET, SheetRow, sheet_cells

# Columns follow the Covenant of Mayors action reporting (MyCovenant "Actions" template).
ACTION_HEADERS = (
    N_("ID azione"),
    N_("Titolo"),
    N_("Settore"),
    N_("Comune"),
    N_("Responsabile"),
    N_("Inizio"),
    N_("Fine"),
    N_("Stato di attuazione"),
    N_("Avanzamento %"),
    N_("Risparmio energetico stimato (MWh/a)"),
    N_("Produzione da rinnovabili stimata (MWh/a)"),
    N_("CO2 evitata stimata (t/a)"),
    N_("Costo stimato (€)"),
)
HISTORY_HEADERS = (
    N_("Data"),
    N_("ID azione"),
    N_("Stato precedente"),
    N_("Stato"),
    N_("Avanzamento precedente %"),
    N_("Avanzamento %"),
    N_("Nota"),
    N_("Serve una decisione"),
    N_("Autore"),
)
NOTE_HEADERS = (
    N_("Data"),
    N_("Comune"),
    N_("Aggiornamento mensile"),
    N_("Autore"),
    N_("Origine"),
    N_("Nota"),
)
NOTE_SOURCES = {
    "group_reply": N_("Risposta all'avviso dell'aggiornamento mensile"),
    "hashtag": N_("Messaggio con #aggiornamento"),
}
MEETING_HEADERS = (
    N_("Inizio"),
    N_("Fine"),
    N_("Titolo"),
    N_("Luogo"),
    N_("Tavolo"),
    N_("Annullata"),
)
UNION_LABEL = N_("Unione (intercomunale)")
DAY = "DD/MM/YYYY"
MINUTE = "DD/MM/YYYY HH:MM"


@dataclass(frozen=True)
class ActionRow:
    code: str
    title: str
    sector: str | None
    comune: str | None  # None: intercommunal
    responsible: str | None
    start_on: date | None
    end_on: date | None
    status: str
    progress: int
    energy_saved_mwh: Decimal | None
    renewable_mwh: Decimal | None
    co2_avoided_t: Decimal | None
    cost_eur: Decimal | None


@dataclass(frozen=True)
class HistoryRow:
    created_at: datetime
    code: str
    previous_status: str | None
    status: str
    previous_progress: int | None
    progress: int
    note: str | None
    needs_decision: bool
    author: str


@dataclass(frozen=True)
class MeetingRow:
    starts_at: datetime
    ends_at: datetime
    title: str
    place: str | None
    table: str
    cancelled: bool


@dataclass(frozen=True)
class NoteRow:
    """A free note from the technical group, whole (the summary shows it shortened)."""

    created_at: datetime
    comune: str | None  # None: the Union (a member with no Comune)
    period: str | None  # the round it answered, e.g. "2026-12"
    author: str
    source: str
    text: str


@dataclass(frozen=True)
class ExportTables:
    union_name: str
    timezone: str
    actions: Sequence[ActionRow]
    history: Sequence[HistoryRow]
    meetings: Sequence[MeetingRow]
    notes: Sequence[NoteRow] = ()
    attendance: Sequence[SheetRow] = ()  # bot.views.continuity: a Comune at a meeting


def _status(tr: Translator, status: str | None) -> str:
    return tr.gettext(STATUS_LABELS[status]) if status in STATUS_LABELS else (status or "")


def _local(dt: datetime, tz: ZoneInfo) -> datetime:
    return dt.astimezone(tz).replace(tzinfo=None)  # spreadsheets know no time zones


def action_cells(row: ActionRow, tr: Translator) -> list[Any]:
    return [
        row.code,
        row.title,
        row.sector or "",
        row.comune or tr.gettext(UNION_LABEL),
        row.responsible or "",
        row.start_on,
        row.end_on,
        _status(tr, row.status),
        row.progress,
        row.energy_saved_mwh,
        row.renewable_mwh,
        row.co2_avoided_t,
        row.cost_eur,
    ]


def history_cells(row: HistoryRow, tr: Translator, tz: ZoneInfo) -> list[Any]:
    return [
        _local(row.created_at, tz),
        row.code,
        _status(tr, row.previous_status),
        _status(tr, row.status),
        row.previous_progress,
        row.progress,
        row.note or "",
        tr.gettext("sì") if row.needs_decision else "",
        row.author,
    ]


def note_cells(row: NoteRow, tr: Translator, tz: ZoneInfo) -> list[Any]:
    source = NOTE_SOURCES.get(row.source)
    return [
        _local(row.created_at, tz),
        row.comune or tr.gettext(UNION_LABEL),
        row.period or "",
        row.author,
        tr.gettext(source) if source else row.source,
        row.text,
    ]


def meeting_cells(row: MeetingRow, tr: Translator, tz: ZoneInfo) -> list[Any]:
    return [
        _local(row.starts_at, tz),
        _local(row.ends_at, tz),
        row.title,
        row.place or "",
        row.table,
        tr.gettext("sì") if row.cancelled else "",
    ]


def export_xlsx(tables: ExportTables, tr: Translator) -> bytes:
    _ = tr.gettext
    tz = ZoneInfo(tables.timezone)
    sheets = [
        (
            _("Azioni"),
            ACTION_HEADERS,
            [action_cells(r, tr) for r in tables.actions],
            {6: DAY, 7: DAY},
        ),
        (
            _("Storico aggiornamenti"),
            HISTORY_HEADERS,
            [history_cells(r, tr, tz) for r in tables.history],
            {1: MINUTE},
        ),
        (
            _("Note dal gruppo tecnico"),
            NOTE_HEADERS,
            [note_cells(r, tr, tz) for r in tables.notes],
            {1: MINUTE},
        ),
        (
            _("Riunioni"),
            MEETING_HEADERS,
            [meeting_cells(r, tr, tz) for r in tables.meetings],
            {1: MINUTE, 2: MINUTE},
        ),
        (
            _(ATTENDANCE_SHEET),
            ATTENDANCE_HEADERS,
            [sheet_cells(r, tr) for r in tables.attendance],
            {1: MINUTE},
        ),
    ]
    return spreadsheet.xlsx_bytes(
        [
            spreadsheet.Sheet(
                title, [_(h) for h in headers], rows, number_formats=formats, auto_filter=True
            )
            for title, headers, rows, formats in sheets
        ]
    )


def export_csv(tables: ExportTables, tr: Translator) -> bytes:
    """The actions sheet as CSV (the one the Covenant monitoring asks for)."""
    return spreadsheet.csv_bytes(
        [tr.gettext(h) for h in ACTION_HEADERS], [action_cells(row, tr) for row in tables.actions]
    )


def export_notes_csv(tables: ExportTables, tr: Translator) -> bytes:
    """The technical group's notes as a second CSV beside the actions: the sheet «Note dal
    gruppo tecnico» of the spreadsheet, one note a row, whole. A note belongs to a Comune, not
    to an action, so it has no place in the actions' rows (whose columns stay as they are)."""
    tz = ZoneInfo(tables.timezone)
    return spreadsheet.csv_bytes(
        [tr.gettext(h) for h in NOTE_HEADERS], [note_cells(row, tr, tz) for row in tables.notes]
    )


def export_file_name(union_name: str, today: date, extension: str, part: str = "") -> str:
    """team-energia-<union>-<day>.<ext>; a second file of the same export names its `part`."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", union_name).strip("-").lower()[:40] or "unione"
    part = f"-{part}" if part else ""
    return f"team-energia-{slug}{part}-{today.isoformat()}.{extension}"
