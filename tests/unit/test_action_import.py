"""The importer against messy real-world files: separators, encodings, numbers, dates, layout."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from bot.services.action_import import (
    COLUMNS,
    E_BAD_DATE,
    E_BAD_NUMBER,
    E_DUPLICATE_CODE,
    E_ENCODING,
    E_MISSING_COLUMN,
    E_NO_HEADER,
    E_TOO_BIG,
    E_TOO_MANY_ROWS,
    E_UNKNOWN_COMUNE,
    MAX_FILE_BYTES,
    MAX_ROWS,
    ActionRow,
    ExportRow,
    FileProblem,
    decode_text,
    export_csv,
    export_xlsx,
    fold_header,
    fold_name,
    match_header,
    municipality_lookup,
    parse_actions,
    parse_date,
    parse_decimal,
    plan_import,
    plausible_latin_text,
    sniff_delimiter,
    template_xlsx,
)

COMUNI = {1: "Sant'Ilario d'Enza", 2: "Montecchio Emilia", 3: "Canossa"}
LOOKUP = municipality_lookup(COMUNI.items())


def parse(data: bytes, name: str = "azioni.csv") -> object:
    return parse_actions(data, name, municipalities=LOOKUP, union_name="Unione Val d'Enza")


# --- names and headers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Sant'Ilario d'Enza", "sant’ilario d’enza"),
        ("Sant'Ilario d'Enza", "SANT ILARIO D ENZA"),
        ("Canossa", "  canòssa "),
        ("Montecchio Emilia", "Montecchio-Emilia"),
    ],
)
def test_fold_name_ignores_case_accents_apostrophes(a: str, b: str) -> None:
    assert fold_name(a) == fold_name(b)


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Codice", "code"),
        ("COD.", "code"),
        ("Titolo azione", "title"),
        ("Comune / Unione", "municipality"),
        ("Riduzione CO₂ (t/a)", "co2_avoided_t"),
        ("riduzione co2 [tCO2/anno]", "co2_avoided_t"),
        ("Risparmio energetico (MWh/a)", "energy_saved_mwh"),
        ("Produzione da rinnovabili (MWh/anno)", "renewable_mwh"),
        ("Costo (€)", "cost_eur"),
        ("Costo stimato in euro", "cost_eur"),
        ("Data inizio", "start_on"),
        ("Scadenza", "end_on"),
        ("Note varie", None),
        ("stato", None),
    ],
)
def test_header_matching_is_tolerant(header: str, key: str | None) -> None:
    assert match_header(header) == key


def test_fold_header_drops_units() -> None:
    assert fold_header("Risparmio Energetico [MWh/a]") == "risparmio energetico"


# --- values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,5", Decimal("1234.500")),
        ("1234,5", Decimal("1234.500")),
        ("1234.5", Decimal("1234.500")),
        ("1.234", Decimal("1234.000")),
        ("1.234.567,89", Decimal("1234567.890")),
        ("1,234,567.89", Decimal("1234567.890")),
        ("€ 150.000,00", Decimal("150000.000")),
        ("0.5", Decimal("0.500")),
        ("12 MWh", Decimal("12.000")),
        ("", None),
        (12.25, Decimal("12.250")),
        (7, Decimal("7.000")),
    ],
)
def test_numbers_italian_and_plain(text: object, expected: Decimal | None) -> None:
    assert parse_decimal(text, 3) == expected


@pytest.mark.parametrize("text", ["abc", "1,2,3,4.5.6", "1..2", "12,34,5", "--3", "1.23.4"])
def test_bad_numbers_are_refused(text: str) -> None:
    with pytest.raises((ValueError, ArithmeticError)):
        parse_decimal(text, 3)


@pytest.mark.parametrize(
    ("value", "end", "expected"),
    [
        ("31/12/2026", False, date(2026, 12, 31)),
        ("1/3/2026", False, date(2026, 3, 1)),
        ("01-03-26", False, date(2026, 3, 1)),
        ("2026-03-01", False, date(2026, 3, 1)),
        ("2026-03-01 00:00:00", False, date(2026, 3, 1)),
        ("2027", False, date(2027, 1, 1)),
        ("2027", True, date(2027, 12, 31)),
        ("02/2027", True, date(2027, 2, 28)),
        (datetime(2026, 5, 4, 0, 0), False, date(2026, 5, 4)),
        (46000, False, date(2025, 12, 9)),  # an Excel serial day
        (2028, True, date(2028, 12, 31)),
        ("", False, None),
    ],
)
def test_dates(value: object, end: bool, expected: date | None) -> None:
    assert parse_date(value, end=end) == expected


@pytest.mark.parametrize("text", ["31/02/2026", "2026-13-01", "domani", "32/1/2026"])
def test_bad_dates_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text)


def test_sniff_delimiter() -> None:
    assert sniff_delimiter('codice;titolo;"comune, o Unione"\n') == ";"
    assert sniff_delimiter("codice,titolo,comune\n") == ","
    assert sniff_delimiter("\n\ncodice\ttitolo\tcomune\n") == "\t"


# --- encodings ----------------------------------------------------------------------------

ITALIAN = (
    "codice;titolo;settore;comune\r\n"
    "A1;Efficienza è più: «città» così – perché sì, però “ok”;Edifici pubblici;Canossa\r\n"
    "A2;Caldaia a condensazione 50 m² (±3 µg/m³) — costo 1.234,50 €;Energia;Unione\r\n"
    "A3;Scuola «Müller» di Nabrežina, Cœur & Forlì: à è ì ò ù;Scuole;Canossa\r\n"
)
JAPANESE = (
    "codice;titolo;comune\r\n"
    "A1;省エネルギー照明;Canossa\r\n"
    "A2;太陽光発電 東京都庁;Canossa\r\n"
    "A3;ｶﾀｶﾅ カタカナ 日本語;Canossa\r\n"
)


@pytest.mark.parametrize(
    "data",
    [
        ITALIAN.encode("utf-8"),
        b"\xef\xbb\xbf" + ITALIAN.encode("utf-8"),
        ITALIAN.encode("utf-16"),  # with its byte-order mark, as Excel's «Testo Unicode»
        ITALIAN.encode("utf-16-le"),
        ITALIAN.encode("utf-16-be"),
        ITALIAN.encode("cp1252"),  # Excel on Italian Windows, «CSV (delimitato…)»
    ],
    ids=["utf-8", "utf-8 bom", "utf-16", "utf-16-le no bom", "utf-16-be no bom", "windows-1252"],
)
def test_italian_text_in_every_encoding_reads_the_same(data: bytes) -> None:
    assert decode_text(data) == ITALIAN
    result = parse(data)
    assert result.errors == []  # type: ignore[attr-defined]
    assert [r.title for r in result.rows][2] == (  # type: ignore[attr-defined]
        "Scuola «Müller» di Nabrežina, Cœur & Forlì: à è ì ò ù"
    )


@pytest.mark.parametrize(
    "data",
    [
        JAPANESE.encode("shift_jis"),
        "A1;東京都庁;Canossa\n".encode("shift_jis"),  # decodes without an error in Windows-1252
        "A1;日本語;Canossa\n".encode("shift_jis"),  # and so does this
        "A1;ｶﾀｶﾅ;Canossa\n".encode("shift_jis"),
        "A1;Тепловой насос;Canossa\n".encode("cp1251"),  # Cyrillic Windows
        "A1;Αντλία θερμότητας;Canossa\n".encode("cp1253"),  # Greek Windows
        "A1;città\n".encode().decode("cp1252").encode("cp1252") + b"\xe8",  # UTF-8 twice
        b"\xef\xbb\xbfA1;citt\xe0\n",  # says UTF-8, is not
        b"\xff\xfeA\x001\x00;",  # says UTF-16, an odd number of bytes
    ],
    ids=[
        "shift-jis",
        "kanji",
        "kanji 2",
        "katakana",
        "cp1251",
        "cp1253",
        "utf-8 twice",
        "bom",
        "utf-16",
    ],
)
def test_text_in_another_encoding_is_refused_with_a_way_out(data: bytes) -> None:
    with pytest.raises(FileProblem) as refused:
        decode_text(data)
    assert refused.value.message == E_ENCODING
    assert [e.message for e in parse(data).errors] == [E_ENCODING]  # type: ignore[attr-defined]
    assert "CSV UTF-8" in E_ENCODING


def test_shift_jis_was_gibberish_before() -> None:
    """What the old fallback made of it: Windows-1252 letters, no error at all."""
    assert "A1;東京都庁;Canossa".encode("shift_jis").decode("cp1252") == "A1;“Œ‹ž“s’¡;Canossa"
    assert not plausible_latin_text("A1;“Œ‹ž“s’¡;Canossa")


_ITALIAN_WORDS = st.sampled_from(
    [
        "città",
        "perché",
        "più",
        "così",
        "è",
        "Forlì",
        "attività",
        "però",
        "sì",
        "Società",
        "efficienza",
        "energetica",
        "50",
        "m²",
        "€",
        "1.234,50",
        "«Casa»",
        "“nuova”",
        "–",
        "—",
        "l’edificio",
        "dell'Unione",
        "n°",
        "(±3)",
        "µg/m³",
        "Müller",
        "Nabrežina",
        "Cœur",
        "…",
        "À",
        "È",
        "É",
        "Ì",
        "Ò",
        "Ù",
        "100%",
        "½",
    ]
)


@given(st.lists(_ITALIAN_WORDS, min_size=1, max_size=20), st.sampled_from([" ", ";", ", "]))
def test_any_italian_text_in_windows_1252_is_accepted(words: list[str], sep: str) -> None:
    text = sep.join(words)
    assert plausible_latin_text(text)
    assert decode_text(text.encode("cp1252")) == text


# --- whole files --------------------------------------------------------------------------


def test_all_or_nothing_with_rows_and_columns() -> None:
    data = (
        b"codice;titolo;comune;fine;costo\n"
        b"A1;Buona;Canossa;31/12/2026;10\n"
        b"A2;Comune sbagliato;Reggio;31/12/2026;10\n"
        b"A1;Codice ripetuto;Canossa;31/12/2026;10\n"
        b"A3;Data sbagliata;Canossa;31/02/2026;1O\n"
    )
    result = parse(data)
    assert result.rows == []  # type: ignore[attr-defined]
    found = {(e.row, e.column, e.message) for e in result.errors}  # type: ignore[attr-defined]
    assert (3, "comune", E_UNKNOWN_COMUNE) in found
    assert (4, "codice", E_DUPLICATE_CODE) in found
    assert (5, "fine", E_BAD_DATE) in found
    assert (5, "costo (€)", E_BAD_NUMBER) in found


def test_missing_required_column_and_no_header() -> None:
    result = parse(b"codice;titolo\nA1;X\n")
    assert [(e.column, e.message) for e in result.errors] == [("comune", E_MISSING_COLUMN)]  # type: ignore[attr-defined]
    assert [e.message for e in parse(b"a;b;c\n1;2;3\n").errors] == [E_NO_HEADER]  # type: ignore[attr-defined]
    assert [e.message for e in parse(b"").errors] == [E_NO_HEADER]  # type: ignore[attr-defined]


def test_limits_refuse_bombs() -> None:
    big = b"codice;titolo;comune\n" + b"A;B;Canossa\n" * (MAX_FILE_BYTES // 10)
    assert [e.message for e in parse(big).errors] == [E_TOO_BIG]  # type: ignore[attr-defined]
    rows = "".join(f"A{i};Titolo;Canossa\n" for i in range(MAX_ROWS + 1))
    result = parse(("codice;titolo;comune\n" + rows).encode())
    assert [e.message for e in result.errors] == [E_TOO_MANY_ROWS]  # type: ignore[attr-defined]
    long_title = "x" * 400
    result = parse(f"codice;titolo;comune\nA1;{long_title};Canossa\n".encode())
    assert result.errors and result.errors[0].column == "titolo"  # type: ignore[attr-defined]


def test_garbage_is_refused_politely() -> None:
    for data, name in ((b"PK\x03\x04garbage", "x.xlsx"), (b"\x00\x01\x02" * 100, "x.csv")):
        result = parse(data, name)
        assert result.errors and not result.rows  # type: ignore[attr-defined]


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_with_header_below_a_title_and_native_types() -> None:
    data = _xlsx(
        [
            ["PAES Unione Val d'Enza — azioni"],
            [],
            ["Codice", "Titolo", "Comune", "Inizio", "Fine", "Costo (€)", "Note"],
            ["A1", "Fotovoltaico", "canossa", datetime(2026, 3, 1), 2027, 120000.5, "x"],
            [1.0, "Codice numerico", "Unione", None, None, None, None],
            [None, None, None, None, None, None, None],
        ]
    )
    result = parse(data, "piano.xlsx")
    assert result.errors == []  # type: ignore[attr-defined]
    a1, one = result.rows  # type: ignore[attr-defined]
    assert (a1.code, a1.municipality_id, a1.start_on, a1.end_on) == (
        "A1",
        3,
        date(2026, 3, 1),
        date(2027, 12, 31),
    )
    assert a1.cost_eur == Decimal("120000.50") and a1.row == 4
    assert (one.code, one.municipality_id) == ("1", None)


def test_template_is_an_empty_importable_header() -> None:
    result = parse(template_xlsx(), "modello.xlsx")
    assert [e.message for e in result.errors] == ["Il file non contiene azioni."]  # type: ignore[attr-defined]


# --- property-based: whatever the dress, the same actions come out -------------------------

_text = (
    st.text(
        alphabet=st.characters(
            whitelist_categories=("L", "N", "Zs", "P", "S"),
            blacklist_characters="\x00\r\n\u2028\u2029\x85",
        ),
        min_size=1,
        max_size=40,
    )
    .map(lambda s: " ".join(s.split()))
    .filter(bool)
)
_code = st.from_regex(r"[A-Z]{1,3}-?[0-9]{1,3}(\.[0-9])?", fullmatch=True)
_money = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
_qty = st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False)
_day = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31))


@st.composite
def actions(draw: st.DrawFn) -> list[ActionRow]:
    codes = draw(st.lists(_code, min_size=1, max_size=12, unique_by=lambda c: c.casefold()))
    out = []
    for code in codes:
        start = draw(st.none() | _day)
        end = draw(st.none() | _day)
        if start and end and end < start:
            start, end = end, start
        out.append(
            ActionRow(
                code=code,
                title=draw(_text),
                municipality_id=draw(st.sampled_from([None, 1, 2, 3])),
                sector=draw(st.none() | _text),
                responsible=draw(st.none() | _text),
                start_on=start,
                end_on=end,
                energy_saved_mwh=draw(st.none() | _qty),
                renewable_mwh=draw(st.none() | _qty),
                co2_avoided_t=draw(st.none() | _qty),
                cost_eur=draw(st.none() | _money),
            )
        )
    return out


def _comune_spelling(mid: int | None, variant: int) -> str:
    if mid is None:
        return ["Unione", "unione", "UNIONE", "Intercomunale"][variant % 4]
    name = COMUNI[mid]
    return [name, name.upper(), name.replace("'", "’"), f"  {name.lower()}  "][variant % 4]


def _italian_number(value: Decimal, variant: int) -> str:
    plain = format(value.normalize(), "f")
    integer, _, frac = plain.partition(".")
    if variant % 3 == 0:
        return plain.replace(".", ",")
    grouped = f"{int(integer):,}".replace(",", ".")
    if variant % 3 == 1:
        return grouped + ("," + frac if frac else "")
    return "€ " + grouped + ("," + frac if frac else "") if frac else grouped


def _date_text(value: date, variant: int) -> str:
    return value.strftime("%d/%m/%Y") if variant % 2 == 0 else value.isoformat()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=actions(),
    delimiter=st.sampled_from([";", ","]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    variant=st.integers(min_value=0, max_value=11),
    blank_before=st.integers(min_value=0, max_value=3),
    blank_after=st.integers(min_value=0, max_value=4),
    header_case=st.sampled_from([str.lower, str.upper, str.title]),
)
def test_messy_csv_gives_back_the_same_actions(
    rows: list[ActionRow],
    delimiter: str,
    encoding: str,
    variant: int,
    blank_before: int,
    blank_after: int,
    header_case: object,
) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n" if variant % 2 else "\n")
    for _ in range(blank_before):
        writer.writerow([])
    writer.writerow([header_case(c.label) for c in COLUMNS])  # type: ignore[operator]
    for i, r in enumerate(rows):
        v = variant + i
        writer.writerow(
            [
                r.code,
                r.title,
                r.sector or "",
                _comune_spelling(r.municipality_id, v),
                r.responsible or "",
                _date_text(r.start_on, v) if r.start_on else "",
                _date_text(r.end_on, v) if r.end_on else "",
                *(
                    _italian_number(x, v) if x is not None else ""
                    for x in (r.energy_saved_mwh, r.renewable_mwh, r.co2_avoided_t, r.cost_eur)
                ),
            ]
        )
    for _ in range(blank_after):
        writer.writerow([""] * len(COLUMNS))
    text = buf.getvalue()
    if encoding == "cp1252" and not plausible_latin_text(text):
        encoding = "utf-8"  # Windows-1252 is read only when it reads like Italian (tests above)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    result = parse(data)
    assert result.errors == []  # type: ignore[attr-defined]
    assert [r.values() for r in result.rows] == [r.values() for r in rows]  # type: ignore[attr-defined]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=actions())
def test_export_import_round_trip(rows: list[ActionRow]) -> None:
    export = [
        ExportRow(
            action=r,
            municipality_name=COMUNI.get(r.municipality_id or 0),
            status_label="In corso",
            progress=40,
        )
        for r in rows
    ]
    for data, name in ((export_csv(export), "a.csv"), (export_xlsx(export), "a.xlsx")):
        result = parse(data, name)
        assert result.errors == []  # type: ignore[attr-defined]
        assert [r.values() for r in result.rows] == [r.values() for r in rows]  # type: ignore[attr-defined]
        existing = {r.key(): r for r in rows}
        plan = plan_import(result.rows, existing)  # type: ignore[attr-defined]
        assert (len(plan.new), len(plan.changed), len(plan.unchanged)) == (0, 0, len(rows))


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=3000), name=st.sampled_from(["x.csv", "x.xlsx", None]))
def test_any_bytes_never_crash(data: bytes, name: str | None) -> None:
    result = parse(data, name)  # type: ignore[arg-type]
    assert result.ok == (not result.errors)  # type: ignore[attr-defined]
    if result.errors:  # type: ignore[attr-defined]
        assert result.rows == []  # type: ignore[attr-defined]
