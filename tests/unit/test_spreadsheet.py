"""The one writer of the bot's spreadsheets and CSVs: formula-like text stays text, and the
importer reads an exported cell back as it was."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from bot.services import spreadsheet
from bot.services.action_import import cell_text

HOSTILE = [
    "=1+1",
    '=HYPERLINK("http://example.invalid";"clic")',
    "=cmd|' /C calc'!A0",
    "+1",
    "-1+2",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "\n=1",
    "  =1",
    "\u00a0=1",
    "\uff1d1+1",
    "\uff0b1",
    "\uff0d1",
    "\uff20SUM(A1)",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_like_text_is_neutralised_and_read_back(text: str) -> None:
    assert spreadsheet.looks_like_formula(text)
    assert spreadsheet.neutralise(text) == "'" + text
    assert spreadsheet.drop_neutralising_quote("'" + text) == text


@pytest.mark.parametrize("text", ["", "Illuminazione", "'citazione'", "1-2", "e-mail", "'x"])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert not spreadsheet.looks_like_formula(text)
    assert spreadsheet.neutralise(text) == text
    assert spreadsheet.drop_neutralising_quote(text) == text


def test_csv_cells() -> None:
    content = spreadsheet.csv_bytes(
        ["a", "=b"],
        [
            ["=1+1", Decimal("1234.50"), date(2026, 12, 31), datetime(2026, 12, 2, 10, 30)],
            [None, 40, -3, 'x;y"z'],
        ],
    )
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content[3:].decode(), newline=""), delimiter=";"))
    assert rows == [
        ["a", "'=b"],
        ["'=1+1", "1234,5", "31/12/2026", "02/12/2026 10:30"],
        ["", "40", "-3", 'x;y"z'],  # numbers are the bot's own: never quoted
    ]


def test_xlsx_text_is_never_a_formula() -> None:
    content = spreadsheet.xlsx_bytes(
        [
            spreadsheet.Sheet(
                "Prima",
                ["codice", "=titolo"],
                [["A1", "=1+1"], ["#N/A", "nome\x00con\x07controlli"], [1, date(2026, 1, 2)]],
                number_formats={2: "DD/MM/YYYY"},
                auto_filter=True,
            ),
            spreadsheet.Sheet("Note", None, [["=riga senza intestazione"]]),
        ]
    )
    book = load_workbook(io.BytesIO(content))
    first, notes = book.worksheets
    assert [c.value for c in first[1]] == ["codice", "=titolo"]
    assert first["B1"].font.bold and first.freeze_panes == "A2"
    assert first["B2"].value == "=1+1"
    assert (first["B2"].data_type, first["B2"].quotePrefix) == ("s", True)
    assert (first["A3"].value, first["A3"].data_type) == ("#N/A", "s")  # not an error cell
    assert first["B3"].value == "nomeconcontrolli"  # XML cannot hold NUL or BEL
    assert first["B4"].number_format == "DD/MM/YYYY"
    assert notes["A1"].value == "=riga senza intestazione" and notes["A1"].quotePrefix
    assert notes.freeze_panes is None


@given(st.text(max_size=30))
def test_any_text_survives_the_csv_round_trip(text: str) -> None:
    content = spreadsheet.csv_bytes(["t"], [[text]])
    rows = list(csv.reader(io.StringIO(content[3:].decode(), newline=""), delimiter=";"))
    cell = rows[1][0] if len(rows) > 1 else ""
    assert not spreadsheet.looks_like_formula(cell) or cell == ""
    # The importer collapses whitespace; beyond that it reads back what was written.
    assert cell_text(cell) == cell_text(text)
