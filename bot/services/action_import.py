"""PAES actions from and to spreadsheets: tolerant reading, strict all-or-nothing validation.

Real files come from Excel on Italian Windows: semicolons, Windows-1252, "1.234,5", dates as
dd/mm/yyyy, a title block above the header, empty rows at the end. The reader accepts all of
that, and refuses anything it cannot read unambiguously, with the row and column of each problem.
No `telegram` import: plain bytes in, plain data out.
"""

from __future__ import annotations

import csv
import io
import re
import time
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from bot.i18n_marker import N_
from bot.services import spreadsheet
from bot.services.xlsx_reader import (
    DEFAULT_LIMITS,
    E_CELL_TOO_LONG,
    E_TOO_BIG,
    E_TOO_SLOW,
    E_UNREADABLE,
    FileProblem,
    Limits,
    open_archive,
    read_first_sheet,
)

MAX_FILE_BYTES = DEFAULT_LIMITS.upload_bytes
MAX_ROWS = 2000
MAX_COLUMNS = 40
HEADER_SEARCH_ROWS = 20
MAX_ERRORS_SHOWN = 30
UNION_WORDS = ("unione", "intercomunale", "tutti i comuni", "tutti")


def fold_name(text: str) -> str:
    """Fold a name for comparisons: case, accents, apostrophes, hyphens and spaces don't count."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    plain = re.sub(r"['’‘`´\-–.]", " ", plain)
    return " ".join(plain.split())


# --- columns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # the Italian header written in templates and exports, and named in errors
    synonyms: tuple[str, ...]
    required: bool = False
    max_chars: int = 300


COLUMNS: tuple[Column, ...] = (
    Column(
        "code",
        "codice",
        ("codice", "cod", "codice azione", "id", "id azione", "code", "n", "numero"),
        True,
        32,
    ),
    Column(
        "title",
        "titolo",
        ("titolo", "azione", "nome", "nome azione", "titolo azione", "title"),
        True,
        300,
    ),
    Column(
        "sector", "settore", ("settore", "ambito", "sector", "settore di intervento"), False, 120
    ),
    Column(
        "municipality",
        "comune",
        ("comune", "comune o unione", "comune unione", "ente", "municipality"),
        True,
        80,
    ),
    Column(
        "responsible",
        "responsabile",
        ("responsabile", "ufficio responsabile", "referente", "responsible", "ufficio"),
        False,
        200,
    ),
    Column(
        "start_on",
        "inizio",
        ("inizio", "data inizio", "data di inizio", "avvio", "start", "data avvio"),
        False,
        40,
    ),
    Column(
        "end_on",
        "fine",
        ("fine", "data fine", "data di fine", "scadenza", "conclusione", "end", "termine"),
        False,
        40,
    ),
    Column(
        "energy_saved_mwh",
        "risparmio energetico (MWh/a)",
        (
            "risparmio energetico",
            "risparmio",
            "energia risparmiata",
            "risparmio energia",
            "energy saved",
        ),
        False,
        40,
    ),
    Column(
        "renewable_mwh",
        "produzione da rinnovabili (MWh/a)",
        (
            "produzione da rinnovabili",
            "produzione rinnovabili",
            "produzione da fonti rinnovabili",
            "energia rinnovabile",
            "fer",
            "renewable",
        ),
        False,
        40,
    ),
    Column(
        "co2_avoided_t",
        "riduzione CO2 (t/a)",
        (
            "riduzione co2",
            "co2 evitata",
            "riduzione emissioni",
            "co2",
            "riduzione di co2",
            "emissioni evitate",
        ),
        False,
        40,
    ),
    Column(
        "cost_eur",
        "costo (€)",
        ("costo", "costo stimato", "importo", "cost", "costo totale", "costo euro"),
        False,
        40,
    ),
)
# Written by the exporter, read back only to be ignored (status changes go through updates).
EXPORT_ONLY = ("stato", "avanzamento (%)")
_BY_KEY = {c.key: c for c in COLUMNS}
_DECIMAL_PLACES = {"energy_saved_mwh": 3, "renewable_mwh": 3, "co2_avoided_t": 3, "cost_eur": 2}


def fold_header(text: str) -> str:
    """'Riduzione CO₂ (t/a)' → 'riduzione co2': case, accents, units in brackets, symbols."""
    plain = fold_name(text)
    plain = re.sub(r"[\(\[\{].*?[\)\]\}]", " ", plain)
    plain = re.sub(r"[^a-z0-9 ]", " ", plain)
    return " ".join(plain.split())


_SYNONYMS = {fold_header(s): c.key for c in COLUMNS for s in (c.label, *c.synonyms)}


def match_header(cell: str) -> str | None:
    """The column key a header cell names, or None."""
    folded = fold_header(cell)
    if not folded:
        return None
    if folded in _SYNONYMS:
        return _SYNONYMS[folded]
    # "Costo stimato in euro", "Data inizio prevista": the longest synonym the cell starts with.
    best: tuple[int, str] | None = None
    for synonym, key in _SYNONYMS.items():
        fits = len(synonym) >= 4 and folded.startswith(synonym + " ")
        if fits and (best is None or len(synonym) > best[0]):
            best = (len(synonym), key)
    return best[1] if best else None


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionRow:
    """One action as the file describes it; `municipality_id` None means the whole Union."""

    code: str
    title: str
    municipality_id: int | None
    sector: str | None = None
    responsible: str | None = None
    start_on: date | None = None
    end_on: date | None = None
    energy_saved_mwh: Decimal | None = None
    renewable_mwh: Decimal | None = None
    co2_avoided_t: Decimal | None = None
    cost_eur: Decimal | None = None
    row: int = 0  # where it was in the file (not part of the action)

    def key(self) -> str:
        return self.code.casefold()

    def values(self) -> dict[str, Any]:
        """The action's fields, without the file row."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "row"}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in self.values().items():
            out[name] = (
                value.isoformat()
                if isinstance(value, date)
                else (str(value) if isinstance(value, Decimal) else value)
            )
        out["row"] = self.row
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ActionRow:
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            value = data.get(f.name)
            if value is not None and f.name in ("start_on", "end_on"):
                value = date.fromisoformat(value)
            elif value is not None and f.name in _DECIMAL_PLACES:
                value = Decimal(value)
            kwargs[f.name] = value
        kwargs["row"] = int(data.get("row") or 0)
        return cls(**kwargs)


@dataclass(frozen=True)
class ImportError_:
    """One problem: a message template (Italian, translated at display) and where it is."""

    message: str
    row: int | None = None
    column: str | None = None  # the column's Italian label
    value: str | None = None
    params: tuple[tuple[str, str], ...] = ()

    def format_args(self) -> dict[str, str]:
        return {"value": self.value or "", **dict(self.params)}


@dataclass
class ParseResult:
    rows: list[ActionRow] = field(default_factory=list)
    errors: list[ImportError_] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# Error messages (Italian source; handlers translate them).
E_ENCODING = N_(
    "Non riesco a leggere bene le lettere di questo file: in Excel salvalo con «File › Salva "
    "con nome» scegliendo «CSV UTF-8 (delimitato da virgole)»."
)
E_NO_HEADER = N_(
    "Non trovo l'intestazione: servono almeno le colonne «codice», «titolo» e «comune»."
)
E_MISSING_COLUMN = N_("manca la colonna.")
E_DUPLICATE_COLUMN = N_("colonna ripetuta.")
E_TOO_MANY_ROWS = N_("Troppe righe: al massimo 2000 azioni per file.")
E_NO_ROWS = N_("Il file non contiene azioni.")
E_REQUIRED = N_("valore obbligatorio mancante.")
E_TOO_LONG = N_("testo troppo lungo (massimo {max} caratteri).")
E_BAD_DATE = N_("data non valida «{value}».")
E_BAD_NUMBER = N_("numero non valido «{value}».")
E_NEGATIVE = N_("il numero non può essere negativo «{value}».")
E_UNKNOWN_COMUNE = N_(
    "Comune sconosciuto «{value}» (scrivi il nome di un Comune dell'Unione, oppure «Unione»)."
)
E_DUPLICATE_CODE = N_("codice «{value}» ripetuto (già alla riga {other}).")
E_END_BEFORE_START = N_("la fine viene prima dell'inizio.")


# --- cells -> values ----------------------------------------------------------------------

_EXCEL_EPOCH = date(1899, 12, 30)
_DATE_PATTERNS = (
    (re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$"), "dmy"),
    (re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2})$"), "dmy2"),
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$"), "ymd"),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"), "ymd"),
    (re.compile(r"^(\d{1,2})[/.\-](\d{4})$"), "my"),
    (re.compile(r"^(\d{4})$"), "y"),
)


def parse_date(value: Any, *, end: bool = False) -> date | None:
    """A date from a cell; raises ValueError when it is not one. Empty → None.

    Month/year or a bare year (common in PAES tables) mean the first day, or the last for "fine".
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, int) and 1900 <= value <= 2200:  # a bare year typed as a number
            return date(value, 12, 31) if end else date(value, 1, 1)
        if 1 <= value < 2958466:  # an Excel serial day number
            return _EXCEL_EPOCH + timedelta(days=int(value))
        raise ValueError(value)
    text = str(value).strip()
    if not text:
        return None
    for pattern, kind in _DATE_PATTERNS:
        m = pattern.match(text)
        if not m:
            continue
        g = [int(x) for x in m.groups()]
        if kind == "dmy":
            return date(g[2], g[1], g[0])
        if kind == "dmy2":
            return date(2000 + g[2], g[1], g[0])
        if kind == "ymd":
            return date(g[0], g[1], g[2])
        if kind == "my":
            if end:
                nxt = date(g[1] + (g[0] == 12), g[0] % 12 + 1, 1)
                return nxt - timedelta(days=1)
            return date(g[1], g[0], 1)
        if 1900 <= g[0] <= 2200:
            return date(g[0], 12, 31) if end else date(g[0], 1, 1)
    raise ValueError(text)


_NUMBER_CLEAN = re.compile(r"(€|eur|euro|mwh/a|mwh|t/a|tco2|\s|\u00a0|')", re.IGNORECASE)


def parse_decimal(value: Any, places: int) -> Decimal | None:
    """A number in Italian or plain notation; raises ValueError when it is not one."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, Decimal):
        number = value
    else:
        text = _NUMBER_CLEAN.sub("", str(value))
        if not text or text in ("-", "—", "n.d.", "nd"):
            return None
        number = Decimal(_normalise_number_text(text))
    if not number.is_finite():
        raise ValueError(value)
    quantum = Decimal(1).scaleb(-places)
    try:
        return number.quantize(quantum, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise ValueError(value) from exc


def _normalise_number_text(text: str) -> str:
    if not re.fullmatch(r"[+-]?[0-9.,]+", text) or not re.search(r"[0-9]", text):
        raise ValueError(text)
    sign = ""
    if text[0] in "+-":
        sign, text = text[0], text[1:]
    if "," in text and "." in text:
        decimal_sep = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_sep == "," else ","
        _check_groups(text.split(decimal_sep)[0], thousands)
        text = text.replace(thousands, "").replace(decimal_sep, ".")
    elif "," in text:
        if text.count(",") > 1:  # 1,234,567: English thousands
            _check_groups(text, ",")
            text = text.replace(",", "")
        else:
            text = text.replace(",", ".")
    elif "." in text:
        parts = text.split(".")
        # Italian files: "1.234" is one thousand two hundred thirty-four.
        if len(parts) > 2 or (len(parts[1]) == 3 and parts[0] not in ("", "0")):
            _check_groups(text, ".")
            text = text.replace(".", "")
    if text.count(".") > 1 or text in ("", "."):
        raise ValueError(text)
    return sign + text


def _check_groups(integer_part: str, sep: str) -> None:
    if sep not in integer_part:
        return
    groups = integer_part.split(sep)
    if not groups[0] or len(groups[0]) > 3 or any(len(g) != 3 for g in groups[1:]):
        raise ValueError(integer_part)


def cell_text(value: Any) -> str:
    """A cell as text: '1' for 1.0, stripped, inner whitespace collapsed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, str):
        # "'=1+1" is how our own exports keep a formula-like text from running: it means "=1+1".
        value = spreadsheet.drop_neutralising_quote(value)
    return " ".join(str(value).split())


# --- files -> rows of cells ---------------------------------------------------------------


# Windows-1252 is the fallback for a CSV that is not UTF-8 (Excel on Italian Windows writes it),
# but any bytes decode "successfully" in it: a Shift-JIS or UTF-16 file comes out as gibberish.
# So the fallback is taken only when the text reads like Italian (or a neighbour's) text:
# - every non-ASCII character is a letter of a Western or Central European language or usual
#   punctuation (€ « » “ ” ’ – — … ° ² ³ µ ± ½ § …), never a C0 control, ƒ, ‹ or ¤;
# - no two non-ASCII letters in a row: in Italian an accented letter stands among plain ones
#   ("città", "perché"), while a multi-byte encoding read byte by byte gives clusters
#   ("日本語" in Shift-JIS reads "“ú–{Œê"). German "ß" after "ü" is rare enough to ask for UTF-8;
# - none of the traces of UTF-8 read as Windows-1252 ("Ã¨", "Ã©", "â€™").
# Otherwise the file is refused with a request to save it as «CSV UTF-8».
_EUROPEAN_LETTERS = frozenset("ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝßàáâãäåæçèéêëìíîïñòóôõöøùúûüýÿŒœŠšŽžŸ")
_USUAL_SYMBOLS = frozenset("\u00a0€«»‘’‚“”„–—…°ºª²³¹µ±½¼¾§·•©®™‰×´`")
_UTF8_AS_CP1252 = re.compile(
    "[ÂÃ][" + "".join(bytes([b]).decode("cp1252", "ignore") for b in range(0x80, 0xC0)) + "]|â€"
)
_C0_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def plausible_latin_text(text: str) -> bool:
    """Whether text decoded as Windows-1252 reads like Italian (see the rules above)."""
    if _C0_CONTROLS.search(text) or _UTF8_AS_CP1252.search(text):
        return False
    letters_in_a_row = 0
    for ch in text:
        if ch < "\x80":
            letters_in_a_row = 0
        elif ch in _EUROPEAN_LETTERS:
            letters_in_a_row += 1
            if letters_in_a_row > 1:
                return False
        elif ch not in _USUAL_SYMBOLS:
            return False
    return True


def _utf16_without_bom(data: bytes) -> str:
    """Text with NUL bytes: UTF-16 without its mark when every other byte is NUL (ASCII in
    UTF-16), else not text at all (a picture called .csv)."""
    head = data[:4096]
    even, odd = head[0::2], head[1::2]
    if odd and odd.count(0) >= 0.9 * len(odd) and not even.count(0):
        return data.decode("utf-16-le")
    if even and even.count(0) >= 0.9 * len(even) and not odd.count(0):
        return data.decode("utf-16-be")
    raise FileProblem(E_UNREADABLE)


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with its BOM, else Windows-1252 when the text reads
    like Italian; otherwise FileProblem(E_ENCODING)."""
    try:
        if data.startswith(b"\xef\xbb\xbf"):
            return data[3:].decode("utf-8")
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
        if b"\x00" in data:
            return _utf16_without_bom(data)
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        raise FileProblem(E_ENCODING)  # says UTF-8 or UTF-16, and is not
    try:
        text = data.decode("cp1252")  # strict: 0x81, 0x8D, 0x8F, 0x90, 0x9D are not Windows-1252
    except UnicodeDecodeError as exc:
        raise FileProblem(E_ENCODING) from exc
    if not plausible_latin_text(text):
        raise FileProblem(E_ENCODING)
    return text


def sniff_delimiter(text: str) -> str:
    """The separator of the first non-empty line, counted outside quotes."""
    for line in text.splitlines():
        if not line.strip().strip(";,\t"):
            continue
        counts = {";": 0, ",": 0, "\t": 0}
        quoted = False
        for ch in line:
            if ch == '"':
                quoted = not quoted
            elif not quoted and ch in counts:
                counts[ch] += 1
        best = max(counts, key=lambda d: counts[d])
        if counts[best] > 0:
            return best
    return ";"


def _csv_rows(data: bytes, limits: Limits) -> Iterator[tuple[int, list[Any]]]:
    text = decode_text(data)
    if "\x00" in text:
        raise FileProblem(E_UNREADABLE)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    try:
        start = 1
        for cells in reader:
            if any(len(cell) > limits.cell_chars for cell in cells):
                raise FileProblem(E_CELL_TOO_LONG)
            yield start, cells[: MAX_COLUMNS + 1]
            start = reader.line_num + 1
    except csv.Error as exc:
        # The csv module's own ceiling (131,072 characters a field) is past Excel's.
        too_long = "field larger than field limit" in str(exc)
        raise FileProblem(E_CELL_TOO_LONG if too_long else E_UNREADABLE) from exc


def is_xlsx(data: bytes, filename: str | None) -> bool:
    return data[:4] == b"PK\x03\x04" or (filename or "").lower().endswith((".xlsx", ".xlsm"))


def precheck(data: bytes, filename: str | None, limits: Limits = DEFAULT_LIMITS) -> None:
    """What can be refused before reading a cell: the size, and a workbook by its zip's
    directory (xlsx_reader.check_archive). Cheap: run it before handing the file to a worker."""
    if len(data) > limits.upload_bytes:
        raise FileProblem(E_TOO_BIG)
    if is_xlsx(data, filename):
        archive, _members = open_archive(data, limits)
        archive.close()


def read_table(
    data: bytes,
    filename: str | None,
    limits: Limits = DEFAULT_LIMITS,
    deadline: float | None = None,
) -> Iterator[tuple[int, list[Any]]]:
    if len(data) > limits.upload_bytes:
        raise FileProblem(E_TOO_BIG)
    if is_xlsx(data, filename):
        return read_first_sheet(data, max_columns=MAX_COLUMNS + 1, limits=limits, deadline=deadline)
    return _csv_rows(data, limits)


# --- validation ---------------------------------------------------------------------------


def _blank(cells: Sequence[Any]) -> bool:
    return all(cell_text(c) == "" for c in cells)


def _find_header(
    rows: Iterator[tuple[int, list[Any]]],
) -> tuple[int, dict[str, int], list[ImportError_]] | None:
    for _ in range(HEADER_SEARCH_ROWS):
        try:
            number, cells = next(rows)
        except StopIteration:
            return None
        found: dict[str, list[int]] = {}
        for index, cell in enumerate(cells):
            key = match_header(cell_text(cell)[:200])
            if key is not None:
                found.setdefault(key, []).append(index)
        if {"code", "title"} <= found.keys():
            errors = [
                ImportError_(E_DUPLICATE_COLUMN, row=number, column=_BY_KEY[k].label)
                for k, where in found.items()
                if len(where) > 1
            ]
            errors += [
                ImportError_(E_MISSING_COLUMN, row=number, column=c.label)
                for c in COLUMNS
                if c.required and c.key not in found
            ]
            return number, {k: where[0] for k, where in found.items()}, errors
    return None


def municipality_lookup(names: Iterable[tuple[int, str]]) -> dict[str, int]:
    """Folded Comune name → id, for `parse_actions`."""
    return {fold_name(name): mid for mid, name in names}


def _is_union(folded: str, union_name: str | None) -> bool:
    if folded in UNION_WORDS or folded.startswith("unione"):
        return True
    return bool(union_name) and folded == fold_name(union_name or "")


def parse_actions(
    data: bytes,
    filename: str | None,
    *,
    municipalities: Mapping[str, int],
    union_name: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    deadline: float | None = None,
) -> ParseResult:
    """Read and validate a whole file within `limits` (its time from `deadline`, a
    time.monotonic() instant, or from now). Any error means no rows (all or nothing)."""
    result = ParseResult()
    if deadline is None:
        deadline = time.monotonic() + limits.seconds
    try:
        rows = read_table(data, filename, limits, deadline)
        header = _find_header(rows)
        if header is None:
            result.errors.append(ImportError_(E_NO_HEADER))
            return result
        _header_row, columns, header_errors = header
        if header_errors:
            result.errors.extend(header_errors)
            return result
        parsed: list[ActionRow] = []
        seen: dict[str, int] = {}
        trailing_blank = data_rows = 0
        for number, cells in rows:
            if number % 64 == 0 and time.monotonic() > deadline:
                raise FileProblem(E_TOO_SLOW)
            if _blank(cells):
                trailing_blank += 1
                if trailing_blank > 5 * MAX_ROWS:  # a sheet of empty rows: stop reading
                    break
                continue
            trailing_blank = 0
            data_rows += 1
            if data_rows > MAX_ROWS:
                result.errors = [ImportError_(E_TOO_MANY_ROWS)]
                return result
            row = _parse_row(number, cells, columns, municipalities, union_name, result.errors)
            if row is None:
                continue
            if row.key() in seen:
                result.errors.append(
                    ImportError_(
                        E_DUPLICATE_CODE,
                        row=number,
                        column=_BY_KEY["code"].label,
                        value=row.code,
                        params=(("other", str(seen[row.key()])),),
                    )
                )
                continue
            seen[row.key()] = number
            parsed.append(row)
    except FileProblem as exc:
        result.errors = [ImportError_(exc.message)]
        return result
    if not result.errors and not parsed:
        result.errors.append(ImportError_(E_NO_ROWS))
    if not result.errors:
        result.rows = parsed
    return result


def _parse_row(
    number: int,
    cells: Sequence[Any],
    columns: Mapping[str, int],
    municipalities: Mapping[str, int],
    union_name: str | None,
    errors: list[ImportError_],
) -> ActionRow | None:
    values: dict[str, Any] = {}
    start_errors = len(errors)

    def raw(key: str) -> Any:
        index = columns.get(key)
        if index is None or index >= len(cells):
            return None
        return cells[index]

    def fail(message: str, key: str, value: str | None = None, **params: str) -> None:
        errors.append(
            ImportError_(
                message,
                row=number,
                column=_BY_KEY[key].label,
                value=value,
                params=tuple(params.items()),
            )
        )

    for column in COLUMNS:
        value = raw(column.key)
        text = cell_text(value)
        if len(text) > column.max_chars:
            fail(E_TOO_LONG, column.key, max=str(column.max_chars))
            continue
        if column.required and not text:
            fail(E_REQUIRED, column.key)
            continue
        if column.key in ("start_on", "end_on"):
            try:
                values[column.key] = parse_date(
                    value if not isinstance(value, str) else text, end=column.key == "end_on"
                )
            except (ValueError, OverflowError):
                fail(E_BAD_DATE, column.key, text)
        elif column.key in _DECIMAL_PLACES:
            try:
                number_value = parse_decimal(
                    value if not isinstance(value, str) else text, _DECIMAL_PLACES[column.key]
                )
            except (ValueError, InvalidOperation, ArithmeticError):
                fail(E_BAD_NUMBER, column.key, text)
                continue
            if number_value is not None and number_value < 0:
                fail(E_NEGATIVE, column.key, text)
                continue
            if number_value is not None and number_value.adjusted() >= 12:
                fail(E_BAD_NUMBER, column.key, text)
                continue
            values[column.key] = number_value
        elif column.key == "municipality":
            folded = fold_name(text)
            if folded in municipalities:
                values["municipality_id"] = municipalities[folded]
            elif _is_union(folded, union_name):
                values["municipality_id"] = None
            else:
                fail(E_UNKNOWN_COMUNE, column.key, text)
        else:
            values[column.key] = text or None
    if len(errors) > start_errors:
        return None
    row = ActionRow(row=number, **values)
    if row.start_on and row.end_on and row.end_on < row.start_on:
        fail(E_END_BEFORE_START, "end_on")
        return None
    return row


# --- what an import changes ---------------------------------------------------------------


@dataclass(frozen=True)
class ImportPlan:
    new: list[ActionRow]
    changed: list[ActionRow]
    unchanged: list[ActionRow]

    @property
    def total(self) -> int:
        return len(self.new) + len(self.changed) + len(self.unchanged)


def plan_import(rows: Sequence[ActionRow], existing: Mapping[str, ActionRow]) -> ImportPlan:
    """Split file rows into new, changed and unchanged actions (existing keyed by folded code)."""
    new, changed, unchanged = [], [], []
    for row in rows:
        current = existing.get(row.key())
        if current is None:
            new.append(row)
        elif replace(current, row=0, code=row.code).values() == replace(row, row=0).values():
            unchanged.append(row)
        else:
            changed.append(row)
    return ImportPlan(new=new, changed=changed, unchanged=unchanged)


# --- export and template ------------------------------------------------------------------


@dataclass(frozen=True)
class ExportRow:
    action: ActionRow
    municipality_name: str | None  # None: the Union
    status_label: str = ""
    progress: int | None = None


def _export_cells(row: ExportRow) -> list[spreadsheet.Cell]:
    a = row.action
    out: list[spreadsheet.Cell] = []
    for column in COLUMNS:
        if column.key == "municipality":
            out.append(row.municipality_name or "Unione")
        else:
            out.append(getattr(a, column.key))
    out.append(row.status_label)
    out.append(row.progress)
    return out


def format_decimal_it(value: Decimal) -> str:
    """'1234,5' — Italian decimal comma, no thousands separator (unambiguous on re-import)."""
    text = format(value.normalize(), "f")
    return text.replace(".", ",")


def format_decimal_display(value: Decimal) -> str:
    """'1.250.000,5' — Italian thousands and decimals, for reading (not for files)."""
    text = format(value.normalize(), "f")
    integer, _, fraction = text.partition(".")
    sign = "-" if integer.startswith("-") else ""
    grouped = f"{int(integer.lstrip('-') or 0):,}".replace(",", ".")
    return sign + grouped + ("," + fraction if fraction else "")


def header_labels(*, with_status: bool) -> list[str]:
    labels = [c.label for c in COLUMNS]
    return [*labels, *EXPORT_ONLY] if with_status else labels


def export_csv(rows: Sequence[ExportRow]) -> bytes:
    """The actions with this importer's own columns, so that the file comes back as it went."""
    return spreadsheet.csv_bytes(
        header_labels(with_status=True), [_export_cells(row) for row in rows]
    )


_DATE_COLUMNS = {
    index: "DD/MM/YYYY"
    for index, column in enumerate(COLUMNS, 1)
    if column.key in ("start_on", "end_on")
}


def export_xlsx(rows: Sequence[ExportRow], *, title: str = "Azioni PAES") -> bytes:
    return spreadsheet.xlsx_bytes(
        [
            spreadsheet.Sheet(
                title,
                header_labels(with_status=True),
                [_export_cells(row) for row in rows],
                number_formats=_DATE_COLUMNS,
            )
        ]
    )


TEMPLATE_INSTRUCTIONS = (
    "Una riga per azione. Obbligatori: codice, titolo, comune.",
    "comune: il nome di un Comune dell'Unione, oppure «Unione» per le azioni intercomunali.",
    "inizio e fine: date come 31/12/2026 (va bene anche solo l'anno, es. 2027).",
    "Numeri all'italiana: 1.234,5. Le stime sono facoltative.",
    "Reimportando il file le azioni con lo stesso codice vengono aggiornate: lo storico resta.",
)


def template_xlsx() -> bytes:
    return spreadsheet.xlsx_bytes(
        [
            spreadsheet.Sheet("Azioni PAES", header_labels(with_status=False), []),
            spreadsheet.Sheet("Istruzioni", None, [[line] for line in TEMPLATE_INSTRUCTIONS]),
        ]
    )
