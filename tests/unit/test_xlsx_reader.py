"""The streaming .xlsx reader: the same values as openpyxl's read-only mode on honest files, and
a refusal, cheap and early, for each way a workbook can try to cost more than it may."""

from __future__ import annotations

import io
import struct
import time
import zipfile
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from bot.services.xlsx_reader import (
    E_CELL_TOO_LONG,
    E_ODD_ARCHIVE,
    E_TOO_BIG,
    E_TOO_HEAVY,
    E_TOO_SLOW,
    E_UNREADABLE,
    FileProblem,
    Limits,
    column_index,
    from_excel,
    is_date_format,
    read_first_sheet,
)
from tests.import_files import (
    HEADER_ROW,
    HEADER_STRINGS,
    heavy_legal_workbook,
    legal_workbook,
    shared_strings_bomb,
    workbook,
)


def read(
    data: bytes, limits: Limits | None = None, columns: int = 41
) -> list[tuple[int, list[Any]]]:
    rows = read_first_sheet(data, max_columns=columns, limits=limits or Limits())
    return [(n, _trim(cells)) for n, cells in rows]


def _trim(cells: list[Any]) -> list[Any]:
    cells = list(cells)
    while cells and cells[-1] is None:
        cells.pop()
    return cells


def openpyxl_rows(data: bytes, columns: int = 41) -> list[tuple[int, list[Any]]]:
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        rows = book.worksheets[0].iter_rows(max_col=columns, values_only=True)
        return [(i + 1, _trim(list(r))) for i, r in enumerate(rows)]
    finally:
        book.close()


def refused(data: bytes, limits: Limits | None = None) -> str:
    with pytest.raises(FileProblem) as problem:
        read(data, limits)
    return problem.value.message


# --- the same values as openpyxl ------------------------------------------------------------


def test_an_openpyxl_workbook_reads_as_openpyxl_reads_it() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Titolo del piano"])
    sheet.append([])
    sheet.append(["codice", "titolo", "inizio", "costo", "ok", "quota"])
    sheet.append(["A1", "Fotovoltaico", datetime(2026, 3, 1), 120000.5, True, 0.25])
    sheet.append([1, "Codice numerico", date(2027, 12, 31), 3, False, None])
    sheet["H5"] = "oltre le colonne lette"
    sheet["A9"] = "dopo un buco"
    other = book.create_sheet("Altro")
    other.append(["un altro foglio"])
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    assert read(data, columns=6) == openpyxl_rows(data, columns=6)
    assert read(data, columns=6)[3] == (
        4,
        ["A1", "Fotovoltaico", datetime(2026, 3, 1), 120000.5, True, 0.25],
    )


@pytest.mark.parametrize("make", [legal_workbook, heavy_legal_workbook], ids=["inline", "shared"])
def test_a_large_legal_workbook_reads_as_openpyxl_reads_it(make: Any) -> None:
    data = make(rows=300)
    assert read(data) == openpyxl_rows(data)


def test_what_excel_writes_beyond_openpyxl() -> None:
    """Rich text and phonetic runs in shared strings, inline strings, formula results, errors,
    dates by style (built-in and custom), ISO dates, the 1904 calendar."""
    shared = [
        "<si><t>codice</t></si>",
        "<si><r><t>Illumi</t></r><r><rPr><b/></rPr><t>nazione</t></r></si>",
        "<si><t>東京</t><rPh sb='0' eb='2'><t>トウキョウ</t></rPh></si>",
    ]
    rows = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
        '<c r="C1" t="s"><v>2</v></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>in</t><r><t>linea</t></r></is></c>'
        '<c r="B2" t="str"><f>A2&amp;"x"</f><v>inlineax</v></c><c r="C2" t="e"><v>#N/A</v></c>'
        '<c r="D2" s="1"><v>46082</v></c><c r="E2" s="2"><v>46082.5</v></c>'
        '<c r="F2" t="d"><v>2026-03-01T00:00:00</v></c><c r="G2" t="b"><v>1</v></c>'
        '<c r="H2"><v>1.5E3</v></c><c r="I2"><v>7</v></c></row>'
        '<row r="4"><c r="B4"><v>1</v></c></row>'
    )
    data = workbook(rows, shared)
    assert read(data) == [
        (1, ["codice", "Illuminazione", "東京"]),
        (
            2,
            [
                "inlinea",
                "inlineax",
                "#N/A",
                datetime(2026, 3, 1),
                datetime(2026, 3, 1, 12),
                datetime(2026, 3, 1),
                True,
                1500.0,
                7,
            ],
        ),
        (3, []),
        (4, [None, 1]),
    ]
    assert read(data) == openpyxl_rows(data)
    assert read(workbook('<row r="1"><c r="A1" s="1"><v>0</v></c></row>', date1904=True)) == [
        (1, [datetime(1904, 1, 1)])
    ]


def test_helpers() -> None:
    assert [column_index(r) for r in ("A1", "Z9", "AA1", "XFD1048576", "$B$2", "1A")] == [
        1,
        26,
        27,
        16384,
        2,
        None,
    ]
    assert is_date_format("dd/mm/yyyy") and is_date_format("[$-410]d mmmm yyyy")
    assert is_date_format("[h]:mm") and not is_date_format('0.00" giorni"')
    assert not is_date_format("[Red]0.00;[Blue]-0.00") and not is_date_format("#,##0 €")
    assert from_excel(61, False) == datetime(1900, 3, 1) and from_excel(1, False) == datetime(
        1900, 1, 1
    )


# --- refused, early ------------------------------------------------------------------------


def test_the_shared_strings_bomb_of_the_issue_is_refused_by_the_directory() -> None:
    bomb = shared_strings_bomb()
    started = time.monotonic()
    assert refused(bomb) == E_TOO_HEAVY
    assert time.monotonic() - started < 0.5  # nothing was inflated


@pytest.mark.parametrize(
    ("limits", "strings", "length"),
    [
        (Limits(shared_strings=1000), 1001, 5),  # too many texts
        (Limits(shared_chars=10_000), 200, 100),  # too many characters in all
        (Limits(total_bytes=2_000_000), 100_000, 20),  # more inflated bytes than allowed
    ],
    ids=["count", "characters", "bytes"],
)
def test_a_shared_strings_table_over_its_limits_is_refused_while_read(
    limits: Limits, strings: int, length: int
) -> None:
    assert refused(shared_strings_bomb(strings, length), limits) == E_TOO_HEAVY


def test_one_cell_is_kept_short_and_refused_past_excels_limit() -> None:
    long_text = "x" * 40_000
    data = workbook(HEADER_ROW, [*HEADER_STRINGS[:2], f"<si><t>{long_text}</t></si>"])
    assert refused(data) == E_CELL_TOO_LONG
    fits = workbook(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>' + "y" * 5000 + "</t></is></c></row>"
    )
    ((_n, (cell,)),) = read(fits, Limits(keep_cell_chars=1000))
    assert cell == "y" * 1000  # enough to say «too long» for any column; the rest never kept


def test_cells_and_rows_are_counted() -> None:
    many = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 2001))
    assert refused(workbook(many), Limits(cells=1000)) == E_TOO_HEAVY
    assert refused(workbook(many), Limits(sheet_rows=1000)) == E_TOO_HEAVY
    assert len(read(workbook(many))) == 2000


def test_time_is_counted() -> None:
    data = heavy_legal_workbook(rows=200, strings=50_000)
    assert refused(data, Limits(seconds=0.0)) == E_TOO_SLOW


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as z:
        for name, content in members.items():
            z.writestr(name, content)
    return buffer.getvalue()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


@pytest.mark.parametrize(
    "extra",
    [
        {"xl/embeddings/oleObject1.xlsx": b"PK"},  # an archive inside the archive
        {"../../etc/passwd": b"x"},
        {"/abs.xml": b"x"},
        {"xl\\odd.xml": b"x"},
        {"XL/WORKBOOK.XML": b"x"},  # the same name twice, differently spelt
    ],
    ids=["nested", "dotdot", "absolute", "backslash", "duplicate"],
)
def test_odd_members_are_refused(extra: dict[str, bytes]) -> None:
    members = _members(workbook(HEADER_ROW, HEADER_STRINGS))
    assert refused(_zip({**members, **extra})) == E_ODD_ARCHIVE


def test_too_many_members_and_other_compressions_are_refused() -> None:
    members = _members(workbook(HEADER_ROW, HEADER_STRINGS))
    many = {**members, **{f"xl/media/image{i}.png": b"x" for i in range(600)}}
    assert refused(_zip(many)) == E_ODD_ARCHIVE
    assert refused(_zip(members, zipfile.ZIP_LZMA)) == E_ODD_ARCHIVE


def test_a_directory_that_lies_about_sizes_gains_nothing() -> None:
    """The central directory says the shared strings inflate to 1 KB; they inflate to 5 MB.
    zipfile hands out no more than was declared (then the CRC fails): unreadable."""
    data = bytearray(shared_strings_bomb(200_000, 20))
    name = b"xl/sharedStrings.xml"
    at = data.rfind(b"PK\x01\x02")  # the last central directory entry is the shared strings
    while data[at + 46 : at + 46 + len(name)] != name:
        at = data.rfind(b"PK\x01\x02", 0, at)
    struct.pack_into("<I", data, at + 24, 1024)  # uncompressed size
    assert refused(bytes(data)) == E_UNREADABLE


@pytest.mark.parametrize(
    "xml",
    [
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        b"<sst><si><t>&lol2;</t></si></sst>",
        b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://example.invalid/x.dtd"><sst/>',
        b"<sst><si><t>non chiuso</sst>",
    ],
    ids=["entities", "external", "broken"],
)
def test_xml_with_a_doctype_or_broken_is_refused(xml: bytes) -> None:
    members = _members(workbook(HEADER_ROW, HEADER_STRINGS))
    members["xl/sharedStrings.xml"] = xml
    assert refused(_zip(members)) == E_UNREADABLE


def test_not_a_workbook() -> None:
    assert refused(b"PK\x03\x04garbage") == E_UNREADABLE
    assert refused(_zip({"a.txt": b"x"})) == E_UNREADABLE
    assert refused(b"PK" + b"\x00" * (3 * 1024 * 1024)) == E_TOO_BIG
    rows_backwards = (
        '<row r="5"><c r="A5"><v>1</v></c></row><row r="2"><c r="A2"><v>1</v></c></row>'
    )
    assert refused(workbook(rows_backwards)) == E_UNREADABLE
    assert refused(workbook('<row r="1"><c r="A1" t="s"><v>99</v></c></row>')) == E_UNREADABLE
