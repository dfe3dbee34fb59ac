"""The one writer of every spreadsheet and CSV the bot sends: the actions' template, the actions
from /azioni, the /esporta and summary exports. Plain rows in, bytes out.

Formula injection (CSV injection, CWE-1236) is neutralised here and nowhere else: a text cell
that a spreadsheet would run as a formula — it starts, after any spaces, with one of
``= + - @``, a tab, CR, LF or NUL (OWASP, ASVS 1.2.10), or their full-width forms
``＝ ＋ － ＠`` that East-Asian input methods produce and Excel also accepts — is written so that
it stays text:

- in a CSV, with a leading apostrophe (``'=HYPERLINK(…)``), as OWASP advises: Excel and
  LibreOffice show the text and never evaluate it. The importer drops that apostrophe again
  (`drop_neutralising_quote`), so an exported file re-imports to the same actions;
- in an XLSX, as a string cell (openpyxl would otherwise store ``=…`` as a formula) marked
  ``quotePrefix``, Excel's own flag for "typed with a leading apostrophe": the cell shows the
  text exactly as written and stays text when someone edits it.

Only text is neutralised: numbers and dates are the bot's own values. CSVs are UTF-8 with BOM,
semicolons and CRLF — what Excel in Italian opens without asking; dates are 31/12/2026, numbers
use the decimal comma. openpyxl is imported on use (a slow import); callers run the XLSX writer
in a thread.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell as XlCell
    from openpyxl.cell.cell import MergedCell

Cell = str | int | float | Decimal | date | datetime | None

# What makes a spreadsheet read a cell as a formula (or a DDE call) when it comes first.
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n\x00\uff1d\uff0b\uff0d\uff20")
_LEADING_SPACES = " \u00a0"
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def looks_like_formula(text: str) -> bool:
    """True when a spreadsheet could take this text for a formula."""
    rest = text.lstrip(_LEADING_SPACES)
    return bool(rest) and rest[0] in FORMULA_TRIGGERS


def neutralise(text: str) -> str:
    """The text as a CSV cell that no spreadsheet evaluates: a leading apostrophe if needed."""
    return "'" + text if looks_like_formula(text) else text


def drop_neutralising_quote(text: str) -> str:
    """Undo `neutralise` on a cell read back from a file ("'=1+1" → "=1+1"); other text as is."""
    if text.startswith("'") and looks_like_formula(text[1:]):
        return text[1:]
    return text


def csv_text(value: Cell) -> str:
    """A cell as CSV text: Italian dates and decimal comma; text neutralised."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f").replace(".", ",")
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """A CSV file: UTF-8 with BOM, semicolons, CRLF; the header as given (the bot's words)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([csv_text(h) for h in header])
    for row in rows:
        writer.writerow([csv_text(v) for v in row])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


@dataclass(frozen=True)
class Sheet:
    """One sheet: a bold, frozen header (None: plain lines of text, as in the template's
    instructions), rows, and number formats by column (1-based), e.g. {6: "DD/MM/YYYY"}."""

    title: str
    header: Sequence[str] | None
    rows: Sequence[Sequence[Cell]]
    number_formats: Mapping[int, str] = field(default_factory=dict)
    auto_filter: bool = False


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """An XLSX workbook of these sheets, in order. Every text is a string cell, never a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    for index, spec in enumerate(sheets):
        if index == 0:
            sheet = workbook.active
            assert sheet is not None
            sheet.title = spec.title[:31]
        else:
            sheet = workbook.create_sheet(spec.title[:31])
        first_data_row = 1
        if spec.header is not None:
            for column, label in enumerate(spec.header, 1):
                cell = sheet.cell(row=1, column=column)
                _set_value(cell, label)
                cell.font = Font(bold=True)
                width = min(max(len(label) + 2, 12), 40)
                sheet.column_dimensions[get_column_letter(column)].width = width
            sheet.freeze_panes = "A2"
            first_data_row = 2
        for row_index, row in enumerate(spec.rows, first_data_row):
            for column, value in enumerate(row, 1):
                cell = sheet.cell(row=row_index, column=column)
                _set_value(cell, value)
                number_format = spec.number_formats.get(column)
                if number_format is not None and value is not None:
                    cell.number_format = number_format
        if spec.auto_filter and spec.rows:
            sheet.auto_filter.ref = sheet.dimensions
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _set_value(cell: XlCell | MergedCell, value: Cell) -> None:
    from openpyxl.cell.cell import Cell as XlCell

    assert isinstance(cell, XlCell)  # we never merge cells
    if isinstance(value, str):
        # Characters XML cannot hold (NUL, most C0 controls) would make openpyxl refuse the
        # whole workbook: they go, the rest of the text stays.
        value = _XML_ILLEGAL.sub("", value)
    cell.value = value
    if isinstance(value, str):
        # openpyxl stores any text starting with "=" as a formula: keep every text a string.
        cell.data_type = "s"
        if looks_like_formula(value):
            cell.quotePrefix = True
