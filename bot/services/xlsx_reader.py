"""The first sheet of an .xlsx, read as a stream within limits set before reading.

Why not openpyxl: even in read-only mode it loads the whole shared-strings table (every distinct
text of the workbook) into a list before the first row. A 188 KB upload whose table expands to
77 MB of short strings took 21 s and +490 MB there (measured, bench/README.md «Imports»). Here:

1. `check_archive` reads only the zip's central directory, before anything is inflated: the
   number of members, their names (no absolute or `..` paths, no duplicates, no archive inside
   the archive, no encrypted or exotically compressed member) and the size each member and all
   of them declare once inflated. Python's zipfile never hands out more than a member declares
   (it cuts there and the CRC then fails), and we count what it hands out anyway.
2. The XML parts we need (the package and workbook relations, workbook.xml, styles.xml,
   sharedStrings.xml, the first sheet) go through expat in 64 KB chunks: no DOCTYPE (so no
   entity expansion), a count of shared strings, of their characters and of cells, a cap on one
   cell's length (Excel's own 32,767 characters) of which only the first `keep_cell_chars` are
   kept, and a wall-clock deadline checked at every chunk.

Values come out as openpyxl's `values_only` gives them: str, int, float, bool, datetime (numbers
in a date format), None; rows are numbered as in Excel and gaps come out as empty rows.
No `telegram` import; the messages are Italian templates translated by the handler.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import re
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from xml.parsers import expat

from bot.i18n_marker import N_

E_TOO_BIG = N_("Il file è troppo grande (massimo 2 MB).")
E_UNREADABLE = N_("Non riesco a leggere il file: mandami un CSV o un file Excel (.xlsx).")
E_TOO_HEAVY = N_(
    "Il file Excel è troppo pesante da leggere: contiene troppi testi o troppe celle. "
    "Tieni solo il foglio delle azioni e rimandamelo, oppure mandami un CSV."
)
E_ODD_ARCHIVE = N_(
    "Questo file Excel ha parti che non riconosco (file incorporati, protetti o fuori posto). "
    "Salvalo di nuovo da Excel come «Cartella di lavoro di Excel (.xlsx)», oppure mandami un CSV."
)
E_CELL_TOO_LONG = N_("Una cella contiene un testo troppo lungo (più di 32.767 caratteri).")
E_TOO_SLOW = N_(
    "Leggere questo file richiede troppo tempo. Tieni solo il foglio delle azioni e "
    "rimandamelo, oppure mandami un CSV."
)


class FileProblem(Exception):
    """The file is refused; `message` is one of the Italian templates above (or the importer's)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Limits:
    """What one import may cost. The defaults leave room for a PAES workbook of 2,000 actions
    with notes, other sheets and pictures (such a file is ~0.3 MB; its largest part ~5 MB)."""

    upload_bytes: int = 2 * 1024 * 1024  # the file as sent
    members: int = 500  # parts in the zip (Excel writes ~10, plus a few per sheet or picture)
    member_bytes: int = 24 * 1024 * 1024  # any one part, inflated
    total_bytes: int = 64 * 1024 * 1024  # all parts, inflated
    shared_strings: int = 200_000  # distinct texts in the workbook
    shared_chars: int = 8_000_000  # their characters, as kept
    cells: int = 400_000  # cells of the first sheet, in any column
    sheet_rows: int = 100_000  # row elements of the first sheet
    cell_chars: int = 32_767  # one cell: Excel's own limit; more is not a spreadsheet
    keep_cell_chars: int = 1_000  # what is kept of a cell (the importer's longest is 300)
    seconds: float = 20.0  # wall clock for reading and checking the whole file


DEFAULT_LIMITS = Limits()

_NESTED = (".zip", ".xlsx", ".xlsm", ".xlsb", ".xls", ".docx", ".docm", ".pptx", ".jar", ".7z")
_CHUNK = 64 * 1024


@dataclass
class _Budget:
    """Inflated bytes and time left; every chunk read is charged here."""

    limits: Limits
    deadline: float
    inflated: int = 0

    def charge(self, size: int) -> None:
        self.inflated += size
        if self.inflated > self.limits.total_bytes:
            raise FileProblem(E_TOO_HEAVY)
        self.check_time()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise FileProblem(E_TOO_SLOW)


def check_archive(archive: zipfile.ZipFile, limits: Limits) -> dict[str, zipfile.ZipInfo]:
    """Refuse an archive by its central directory alone; its members by name."""
    infos = archive.infolist()
    if len(infos) > limits.members:
        raise FileProblem(E_ODD_ARCHIVE)
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.filename
        parts = name.split("/")
        if (
            not name
            or name.startswith("/")
            or "\\" in name
            or "\x00" in name
            or ".." in parts
            or len(name) > 260
            or name.lower() in members
        ):
            raise FileProblem(E_ODD_ARCHIVE)
        if info.flag_bits & 0x1 or info.compress_type not in (
            zipfile.ZIP_STORED,
            zipfile.ZIP_DEFLATED,
        ):
            raise FileProblem(E_ODD_ARCHIVE)  # encrypted, or bzip2/lzma: not what Excel writes
        if name.lower().endswith(_NESTED):
            raise FileProblem(E_ODD_ARCHIVE)
        if info.file_size > limits.member_bytes:
            raise FileProblem(E_TOO_HEAVY)
        total += info.file_size
        if total > limits.total_bytes:
            raise FileProblem(E_TOO_HEAVY)
        members[name.lower()] = info
    return members


def open_archive(data: bytes, limits: Limits) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    if len(data) > limits.upload_bytes:
        raise FileProblem(E_TOO_BIG)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise FileProblem(E_UNREADABLE) from exc
    try:
        return archive, check_archive(archive, limits)
    except BaseException:
        archive.close()
        raise


# --- streaming XML ------------------------------------------------------------------------


def _local(name: str) -> str:
    """'http://…/main si' → 'si' (expat with namespace processing joins them with a space)."""
    return name.rsplit(" ", 1)[-1]


def _no_doctype(*_args: Any) -> None:
    raise FileProblem(E_UNREADABLE)  # no part of an .xlsx has one; it is how entity bombs start


def _parser() -> expat.XMLParserType:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = _no_doctype
    parser.EntityDeclHandler = _no_doctype
    parser.buffer_text = False  # a huge text node arrives in pieces: we keep only its start
    return parser


def _stream(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    parser: expat.XMLParserType,
    budget: _Budget,
    after_chunk: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Feed one part to `parser`, chunk by chunk; yields after each chunk."""
    read = 0
    try:
        with archive.open(info) as part:
            while chunk := part.read(_CHUNK):
                read += len(chunk)
                if read > budget.limits.member_bytes:
                    raise FileProblem(E_TOO_HEAVY)
                budget.charge(len(chunk))
                parser.Parse(chunk, False)
                if after_chunk is not None:
                    after_chunk()
                yield
            parser.Parse(b"", True)
            yield
    except FileProblem:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, expat.ExpatError) as exc:
        raise FileProblem(E_UNREADABLE) from exc


def _drain(iterator: Iterator[None]) -> None:
    for _ in iterator:
        pass


# --- the package: which part is the first sheet ---------------------------------------------


def _relations(
    archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], path: str, budget: _Budget
) -> dict[str, tuple[str, str]]:
    """Relationship id → (type suffix, target path) of a .rels part; {} when absent."""
    info = members.get(path.lower())
    if info is None:
        return {}
    base = posixpath.dirname(posixpath.dirname(path))  # xl/_rels/workbook.xml.rels → xl
    out: dict[str, tuple[str, str]] = {}

    def start(name: str, attrs: dict[str, str]) -> None:
        if _local(name) == "Relationship" and len(out) < budget.limits.members:
            target = attrs.get("Target", "")
            if attrs.get("TargetMode") == "External":
                return
            resolved = (
                target.lstrip("/") if target.startswith("/") else posixpath.join(base, target)
            )
            out[attrs.get("Id", "")] = (
                attrs.get("Type", "").rsplit("/", 1)[-1],
                posixpath.normpath(resolved),
            )

    parser = _parser()
    parser.StartElementHandler = start
    _drain(_stream(archive, info, parser, budget))
    return out


@dataclass
class _Workbook:
    first_sheet: str | None = None
    date1904: bool = False
    sheets_seen: int = 0


def _workbook(
    archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], path: str, budget: _Budget
) -> _Workbook:
    info = members.get(path.lower())
    if info is None:
        raise FileProblem(E_UNREADABLE)
    found = _Workbook()

    def start(name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "sheet":
            found.sheets_seen += 1
            if found.sheets_seen > budget.limits.members:
                raise FileProblem(E_ODD_ARCHIVE)
            if found.first_sheet is None:
                found.first_sheet = next((v for k, v in attrs.items() if _local(k) == "id"), None)
        elif local == "workbookPr":
            found.date1904 = attrs.get("date1904", "0").lower() in ("1", "true")

    parser = _parser()
    parser.StartElementHandler = start
    _drain(_stream(archive, info, parser, budget))
    return found


# Number formats that show a date (Excel's built-in ids, and custom codes with d m y h s).
_BUILTIN_DATE_FORMATS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
_FORMAT_NOISE = re.compile(r'".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]|\\.|_.|\*.')
_DATE_TOKEN = re.compile(r"[dmhysDMHYS]")


def is_date_format(code: str) -> bool:
    """As openpyxl decides: the first section, without quoted text, colours and locales."""
    first = code.split(";", 1)[0]
    return bool(_DATE_TOKEN.search(_FORMAT_NOISE.sub("", first)))


def _date_styles(
    archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], path: str | None, budget: _Budget
) -> frozenset[int]:
    """Indexes of the cell formats (`s` of a cell) that show a date."""
    info = members.get(path.lower()) if path else None
    if info is None:
        return frozenset()
    custom: dict[int, str] = {}
    xf_formats: list[int] = []
    where: list[str] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        where.append(local)
        if local == "numFmt" and len(custom) < 10_000:
            with contextlib.suppress(ValueError):
                custom[int(attrs.get("numFmtId", "-1"))] = attrs.get("formatCode", "")[:200]
        elif local == "xf" and len(where) > 1 and where[-2] == "cellXfs":
            if len(xf_formats) >= 65_000:
                raise FileProblem(E_TOO_HEAVY)
            try:
                xf_formats.append(int(attrs.get("numFmtId", "0")))
            except ValueError:
                xf_formats.append(0)

    def end(_name: str) -> None:
        where.pop()

    parser = _parser()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    _drain(_stream(archive, info, parser, budget))
    return frozenset(
        index
        for index, fmt in enumerate(xf_formats)
        if fmt in _BUILTIN_DATE_FORMATS or (fmt in custom and is_date_format(custom[fmt]))
    )


# --- shared strings -----------------------------------------------------------------------


@dataclass
class _Text:
    """Text gathered from character data, kept up to a limit, measured whole."""

    keep: int
    refuse_over: int
    parts: list[str] = field(default_factory=list)
    kept: int = 0
    length: int = 0

    def add(self, data: str) -> None:
        self.length += len(data)
        if self.length > self.refuse_over:
            raise FileProblem(E_CELL_TOO_LONG)
        if self.kept < self.keep:
            piece = data[: self.keep - self.kept]
            self.parts.append(piece)
            self.kept += len(piece)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts, self.kept, self.length = [], 0, 0
        return text


def _shared_strings(
    archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], path: str | None, budget: _Budget
) -> list[str]:
    info = members.get(path.lower()) if path else None
    if info is None:
        return []
    limits = budget.limits
    strings: list[str] = []
    text = _Text(limits.keep_cell_chars, limits.cell_chars)
    state = {"in_t": 0, "in_rph": 0, "chars": 0}

    def start(name: str, _attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "t":
            state["in_t"] += 1
        elif local == "rPh":  # phonetic guide (furigana): not part of the text
            state["in_rph"] += 1

    def end(name: str) -> None:
        local = _local(name)
        if local == "t":
            state["in_t"] -= 1
        elif local == "rPh":
            state["in_rph"] -= 1
        elif local == "si":
            value = text.take()
            state["chars"] += len(value)
            strings.append(value)
            if len(strings) > limits.shared_strings or state["chars"] > limits.shared_chars:
                raise FileProblem(E_TOO_HEAVY)

    def data(chunk: str) -> None:
        if state["in_t"] and not state["in_rph"]:
            text.add(chunk)

    parser = _parser()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    _drain(_stream(archive, info, parser, budget))
    return strings


# --- the sheet ----------------------------------------------------------------------------

_COLUMN = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d*)$")


def column_index(reference: str) -> int | None:
    """'C7' → 3 (1-based); None when it is not a cell reference."""
    m = _COLUMN.match(reference)
    if not m:
        return None
    number = 0
    for ch in m.group(1).upper():
        number = number * 26 + (ord(ch) - 64)
    return number


def _number(text: str) -> int | float:
    text = text.strip()
    if any(c in text for c in ".eE"):
        value = float(text)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(text)
        return value
    return int(text)


def from_excel(serial: float, date1904: bool) -> datetime:
    """Excel's day number → datetime (its 1900 calendar counts a 29 Feb 1900 that never was)."""
    if date1904:
        return datetime(1904, 1, 1) + timedelta(days=serial)
    if serial < 60:
        serial += 1
    return datetime(1899, 12, 30) + timedelta(days=serial)


@dataclass
class _SheetState:
    max_columns: int
    strings: list[str]
    date_styles: frozenset[int]
    date1904: bool
    limits: Limits
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    row_number: int = 0
    row_elements: int = 0
    cells_seen: int = 0
    cells: list[Any] = field(default_factory=list)
    column: int = 0
    cell_type: str = "n"
    cell_style: int = 0
    cell_keep: bool = False
    in_value: bool = False
    in_inline_t: int = 0
    in_rph: int = 0
    text: _Text | None = None
    emitted_up_to: int = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "row":
            self.row_elements += 1
            if self.row_elements > self.limits.sheet_rows:
                raise FileProblem(E_TOO_HEAVY)
            number = attrs.get("r")
            self.row_number = int(number) if number and number.isdigit() else self.row_number + 1
            if self.row_number <= self.emitted_up_to or self.row_number > 1_048_576:
                raise FileProblem(E_UNREADABLE)  # rows out of order, or past Excel's last row
            self.cells = []
            self.column = 0
        elif local == "c":
            self.cells_seen += 1
            if self.cells_seen > self.limits.cells:
                raise FileProblem(E_TOO_HEAVY)
            reference = attrs.get("r")
            index = column_index(reference) if reference else self.column + 1
            if index is None or index > 16_384:
                raise FileProblem(E_UNREADABLE)
            self.column = index
            self.cell_type = attrs.get("t", "n")
            style = attrs.get("s", "0")
            self.cell_style = int(style) if style.isdigit() else 0
            self.cell_keep = index <= self.max_columns
            self.text = _Text(self.limits.keep_cell_chars, self.limits.cell_chars)
        elif local == "v":
            self.in_value = True
        elif local == "t":
            self.in_inline_t += 1
        elif local == "rPh":
            self.in_rph += 1

    def end(self, name: str) -> None:
        local = _local(name)
        if local == "v":
            self.in_value = False
        elif local == "t":
            self.in_inline_t -= 1
        elif local == "rPh":
            self.in_rph -= 1
        elif local == "c":
            if self.cell_keep and self.text is not None:
                value = self._value(self.text.take())
                if value is not None:
                    while len(self.cells) < self.column - 1:
                        self.cells.append(None)
                    if len(self.cells) == self.column - 1:
                        self.cells.append(value)
            self.text = None
        elif local == "row":
            self.rows.append((self.row_number, self.cells))
            self.emitted_up_to = self.row_number
            self.cells = []

    def data(self, chunk: str) -> None:
        if self.text is None:
            return
        if self.in_value or (
            self.cell_type == "inlineStr" and self.in_inline_t and not self.in_rph
        ):
            self.text.add(chunk)

    def _value(self, raw: str) -> Any:
        kind = self.cell_type
        if kind == "inlineStr":
            return raw or None
        if raw == "":
            return None
        try:
            if kind == "s":
                return self.strings[int(raw)]
            if kind in ("str", "e"):
                return raw
            if kind == "b":
                return raw.strip() in ("1", "true")
            if kind == "d":
                return datetime.fromisoformat(raw.strip().rstrip("Z"))
            number = _number(raw)
            if self.cell_style in self.date_styles:
                return from_excel(number, self.date1904)
            return number
        except (ValueError, IndexError, OverflowError) as exc:
            raise FileProblem(E_UNREADABLE) from exc


def read_first_sheet(
    data: bytes, *, max_columns: int, limits: Limits = DEFAULT_LIMITS, deadline: float | None = None
) -> Iterator[tuple[int, list[Any]]]:
    """(Excel row number, cells of the first `max_columns` columns) for each row of the first
    sheet, gaps as empty rows. Raises FileProblem when the file is not a workbook we can read or
    costs more than `limits`."""
    budget = _Budget(
        limits, deadline if deadline is not None else time.monotonic() + limits.seconds
    )
    archive, members = open_archive(data, limits)
    with archive:
        package = _relations(archive, members, "_rels/.rels", budget)
        main = next(
            (t for kind, t in package.values() if kind == "officeDocument"), "xl/workbook.xml"
        )
        rels_path = posixpath.join(
            posixpath.dirname(main), "_rels", posixpath.basename(main) + ".rels"
        )
        relations = _relations(archive, members, rels_path, budget)
        book = _workbook(archive, members, main, budget)
        sheet = relations.get(book.first_sheet or "")
        if sheet is None or sheet[0] != "worksheet" or sheet[1].lower() not in members:
            raise FileProblem(E_UNREADABLE)
        by_kind = {kind: target for kind, target in relations.values()}
        date_styles = _date_styles(archive, members, by_kind.get("styles"), budget)
        strings = _shared_strings(archive, members, by_kind.get("sharedStrings"), budget)
        state = _SheetState(max_columns, strings, date_styles, book.date1904, limits)
        parser = _parser()
        parser.StartElementHandler = state.start
        parser.EndElementHandler = state.end
        parser.CharacterDataHandler = state.data
        last = 0
        for _ in _stream(archive, members[sheet[1].lower()], parser, budget):
            rows, state.rows = state.rows, []
            for number, cells in rows:
                for gap in range(last + 1, number):  # as openpyxl: missing rows are empty
                    yield gap, []
                yield number, cells
                last = number
            budget.check_time()
