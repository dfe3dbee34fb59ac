"""Continuity at a glance: how often each Comune was represented at its tables' meetings, as
/team, the monthly summary and the export show it (bot.services.meetings.continuity computes
it; the rules are in docs/DESIGN.md, «The meeting itself: continuity»)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.i18n import N_, Translator
from bot.views.meetings import TABLE_NAMES
from storage.models import PollTable

ABSENT_LISTED = 10  # Comuni named per table in the summary's line; the rest counted


@dataclass(frozen=True)
class TableRecord:
    """A Comune at one table's meetings: `held` counted, `attended` (represented at),
    `missed_in_a_row` counting back from the latest; `flagged` when that many are the
    summary's alarm (bot.services.meetings.continuity.MISSED_IN_A_ROW)."""

    held: int
    attended: int
    missed_in_a_row: int
    flagged: bool = False


@dataclass(frozen=True)
class Absent:
    """A Comune not represented at the last `missed` meetings of `table` (≥ MISSED_IN_A_ROW)."""

    comune: str
    table: PollTable
    missed: int


def team_line(records: Mapping[PollTable, TableRecord], tr: Translator) -> str:
    """/team, under a Comune: «🗓 Riunioni negli ultimi 12 mesi: tavolo politico 5 su 6 ·
    tavolo tecnico 2 su 4 (assente alle ultime 3)»; empty when no meeting counts."""
    parts = []
    for table in (PollTable.POLITICAL, PollTable.TECHNICAL):
        record = records.get(table)
        if record is None or not record.held:
            continue
        part = tr.gettext("{table} {n} su {total}").format(
            table=tr.gettext(TABLE_NAMES[table]), n=record.attended, total=record.held
        )
        if record.flagged:
            part += " " + tr.gettext("(assente alle ultime {n})").format(n=record.missed_in_a_row)
        parts.append(part)
    if not parts:
        return ""
    return "🗓 " + tr.gettext("Riunioni negli ultimi 12 mesi: {tables}").format(
        tables=" · ".join(parts)
    )


def absences_lines(absent: Sequence[Absent], tr: Translator) -> list[str]:
    """The summary's line per table: «🪑 Non rappresentati alle ultime riunioni del tavolo
    tecnico: Alfa (4 di fila), Beta (3 di fila)»; at most ABSENT_LISTED names, the rest
    counted."""
    lines = []
    for table in (PollTable.POLITICAL, PollTable.TECHNICAL):
        here = sorted((a for a in absent if a.table == table), key=lambda a: (-a.missed, a.comune))
        if not here:
            continue
        names = [
            tr.gettext("{comune} ({n} di fila)").format(comune=html.escape(a.comune), n=a.missed)
            for a in here[:ABSENT_LISTED]
        ]
        listed = ", ".join(names)
        more = len(here) - ABSENT_LISTED
        if more > 0:
            listed += " " + tr.ngettext("e un altro Comune", "e altri {n} Comuni", more).format(
                n=more
            )
        lines.append(
            "🪑 "
            + tr.gettext("Non rappresentati alle ultime riunioni del {table}: {names}").format(
                table=tr.gettext(TABLE_NAMES[table]), names=listed
            )
        )
    return lines


# The export's sheet (bot.services.summaries.export).
ATTENDANCE_SHEET = N_("Presenze per Comune")
ATTENDANCE_HEADERS = (
    N_("Inizio"),
    N_("Riunione"),
    N_("Tavolo"),
    N_("Comune"),
    N_("Rappresentato"),
)


@dataclass(frozen=True)
class SheetRow:
    """One Comune at one meeting whose attendance was taken."""

    starts_at_local: datetime  # a naive datetime in the Union's zone (spreadsheets know no zones)
    title: str
    table: PollTable
    comune: str
    represented: bool


def sheet_cells(row: SheetRow, tr: Translator) -> list[object]:
    return [
        row.starts_at_local,
        row.title,
        tr.gettext(TABLE_NAMES[row.table]),
        row.comune,
        tr.gettext("sì") if row.represented else tr.gettext("no"),
    ]
