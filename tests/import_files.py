"""Workbooks for the import tests and `scripts/measure_import.py`: a shared-strings bomb, a
heavy but legal PAES file, and a hand-made workbook from raw XML parts."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
PACKAGE_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
    f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
    f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
    f'<Relationship Id="rId3" Type="{REL}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
STYLES = (  # what Excel writes, at its smallest (openpyxl warns without a named style)
    f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy;@"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" xfId="0"/><xf numFmtId="14" xfId="0"/>'
    '<xf numFmtId="164" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def workbook_xml(date1904: bool = False) -> str:
    pr = '<workbookPr date1904="1"/>' if date1904 else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">{pr}'
        '<sheets><sheet name="Azioni" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def sheet_xml(rows: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData></worksheet>'


def shared_strings_xml(items: list[str]) -> str:
    body = "".join(items)
    return f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">{body}</sst>'


def workbook(
    sheet_rows: str,
    shared: list[str] | None = None,
    *,
    date1904: bool = False,
    extra: Mapping[str, bytes | str] | None = None,
) -> bytes:
    """A minimal .xlsx from raw XML: `sheet_rows` is the inside of <sheetData>, `shared` the
    <si> items of the shared-strings table."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", PACKAGE_RELS)
        z.writestr("xl/workbook.xml", workbook_xml(date1904))
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        z.writestr("xl/styles.xml", STYLES)
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml(sheet_rows))
        z.writestr("xl/sharedStrings.xml", shared_strings_xml(shared or []))
        for name, content in (extra or {}).items():
            z.writestr(name, content)
    return buffer.getvalue()


HEADER_ROW = (
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
    '<c r="C1" t="s"><v>2</v></c></row>'
)
HEADER_STRINGS = ["<si><t>codice</t></si>", "<si><t>titolo</t></si>", "<si><t>comune</t></si>"]


def shared_strings_bomb(strings: int = 3_200_000, length: int = 8) -> bytes:
    """The attack of issue 14: a workbook of one header row whose shared-strings table holds
    millions of short texts. Default: ~190 KB that inflate to ~77 MB, under the old limit
    (80 MB) — openpyxl took 21 s and +490 MB to open it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", PACKAGE_RELS)
        z.writestr("xl/workbook.xml", workbook_xml())
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        z.writestr("xl/styles.xml", STYLES)
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml(HEADER_ROW))
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">'.encode())
            part.write("".join(HEADER_STRINGS).encode())
            item = b"<si><t>" + b"A" * length + b"</t></si>"
            block = item * 10_000
            for _ in range(strings // 10_000):
                part.write(block)
            part.write(item * (strings % 10_000))
            part.write(b"</sst>")
    return buffer.getvalue()


def legal_workbook(rows: int = 2000, comune: str = "Canossa", note_chars: int = 600) -> bytes:
    """A heavy but legal PAES file as Excel would save it: `rows` actions with every column,
    dates and numbers, and a long «note» column the importer ignores."""
    from datetime import date

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Azioni PAES"
    sheet.append(["PAES dell'Unione — azioni"])
    sheet.append([])
    sheet.append(
        [
            "codice",
            "titolo",
            "settore",
            "comune",
            "responsabile",
            "inizio",
            "fine",
            "risparmio energetico (MWh/a)",
            "produzione da rinnovabili (MWh/a)",
            "riduzione CO2 (t/a)",
            "costo (€)",
            "note",
        ]
    )
    for i in range(rows):
        sheet.append(
            [
                f"A{i:05d}",
                f"Azione {i}: riqualificazione energetica dell'edificio comunale n. {i} con cappotto",
                f"Settore {i % 7}",
                comune,
                f"Ufficio tecnico {i % 13}",
                date(2026, 1 + i % 12, 1),
                date(2030, 1 + i % 12, 28),
                12.5 + i,
                3.25,
                4.125 + i,
                120000.5 + i,
                f"Nota {i} " + "descrizione lunga dell'intervento " * (note_chars // 34),
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def heavy_legal_workbook(
    rows: int = 2000, strings: int = 120_000, comune: str = "Canossa"
) -> bytes:
    """Legal, within every limit, but as costly as the limits allow: `rows` actions whose texts
    sit in a shared-strings table of `strings` distinct texts (a workbook whose other sheets
    hold many texts; Excel keeps one table for all sheets)."""
    shared = [*HEADER_STRINGS, f"<si><t>{comune}</t></si>"]
    shared += [
        f"<si><t>Testo {i:06d} di un altro foglio della cartella di lavoro</t></si>"
        for i in range(strings)
    ]
    lines = [HEADER_ROW]
    for r in range(2, rows + 2):
        lines.append(
            f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}" t="s"><v>{4 + r}</v></c>'
            f'<c r="C{r}" t="s"><v>3</v></c></row>'
        )
    return workbook("".join(lines), shared)
