"""The minutes' documents (bot/views/minutes.py): the .odt read back with odfpy — its text, the
attendance and decisions tables —, the PDF's text extracted with pypdf, and page 1 of the PDF
rendered to PNG in `.transcripts/minutes/` for a reviewer to look at."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pypdfium2
import pytest
from odf import opendocument, table, teletype, text
from pypdf import PdfReader

from bot.i18n import translator
from bot.views import minutes as mv
from storage.models import Form, ItemOutcome, MeetingKind, PollTable, Role

OUT = Path(__file__).resolve().parents[2] / ".transcripts" / "minutes"
IT = translator("it")

ANNA = mv.MinutesPerson(1, "Anna Rossi", Role.SINDACO, Form.FEMININE)
BRUNO = mv.MinutesPerson(2, "Bruno Neri", Role.TECNICO, online=True)
CARLO = mv.MinutesPerson(3, "Carlo Bianchi", Role.ASSESSORE)
DANIELA = mv.MinutesPerson(4, "Daniela Verdi", Role.STAFF, Form.FEMININE)


def _content(**changes: object) -> mv.MinutesContent:
    content = mv.MinutesContent(
        union="Unione Val d'Enza",
        table=PollTable.POLITICAL,
        kind=MeetingKind.MEETING,
        theme=None,
        title="Riunione di dicembre",
        starts_at=datetime(2026, 12, 10, 16, 0, tzinfo=UTC),
        ends_at=datetime(2026, 12, 10, 18, 0, tzinfo=UTC),
        timezone="Europe/Rome",
        place="Sala consiliare, Municipio di Sant’Ilario",
        comuni=(
            mv.ComuneAttendance("Sant’Ilario d’Enza", (ANNA, BRUNO), ()),
            mv.ComuneAttendance("Montecchio Emilia", (BRUNO,), (CARLO,)),
            mv.ComuneAttendance("Gattatico", (), ()),
            mv.ComuneAttendance(None, (DANIELA,), ()),
        ),
        guests=(mv.MinutesGuest("Elena Galli", "ARPAE — sezione di Reggio Emilia", online=True),),
        items=(
            mv.MinutesItem(
                1,
                "Bando per il fotovoltaico sulle scuole",
                ItemOutcome.DECIDED,
                decision="Si partecipa al bando con 120.000 € di cofinanziamento",
            ),
            mv.MinutesItem(
                2, "Illuminazione pubblica a LED", ItemOutcome.POSTPONED, note="A gennaio"
            ),
            mv.MinutesItem(3, "Calendario del Patto dei sindaci", ItemOutcome.INFORMATION),
            mv.MinutesItem(4, "Varie ed eventuali", None),
        ),
        tasks=(mv.MinutesTask(BRUNO, "Preparare la domanda per il bando", date(2027, 1, 15)),),
        notes="La prossima riunione sarà a Montecchio — sala «Verdi».",
    )
    return mv.replace(content, **changes)  # type: ignore[arg-type]


def _approved() -> mv.MinutesContent:
    return _content(
        number=3,
        year=2026,
        approved_at=datetime(2026, 12, 11, 9, 30, tzinfo=UTC),
        approved_by=ANNA,
    )


def _odt_tables(data: bytes) -> dict[str, list[list[str]]]:
    doc = opendocument.load(io.BytesIO(data))
    found = {}
    for t in doc.getElementsByType(table.Table):
        rows = []
        for row in t.getElementsByType(table.TableRow):
            rows.append(
                [
                    "\n".join(teletype.extractText(p) for p in cell.getElementsByType(text.P))
                    for cell in row.getElementsByType(table.TableCell)
                ]
            )
        found[t.getAttribute("name")] = rows
    return found


def _odt_text(data: bytes) -> str:
    doc = opendocument.load(io.BytesIO(data))
    return "\n".join(
        teletype.extractText(e)
        for e in (*doc.getElementsByType(text.H), *doc.getElementsByType(text.P))
    )


def test_the_odt_says_everything_and_its_tables_read_back() -> None:
    data = mv.write_odt(_approved(), IT)
    assert data[:2] == b"PK"  # a zip, as every OpenDocument file
    body = _odt_text(data)
    for expected in (
        "Verbale n. 3/2026",
        "Unione: Unione Val d'Enza",
        "Riunione: Tavolo politico",
        "Data: gio 10 dic 2026, dalle 17:00 alle 19:00",  # Rome's time, not UTC
        "Luogo: Sala consiliare, Municipio di Sant’Ilario",
        "Comuni rappresentati: 2 su 3: Sant’Ilario d’Enza, Montecchio Emilia",
        "La prossima riunione sarà a Montecchio — sala «Verdi».",
        "Approvato il ven 11 dic 2026, da Anna Rossi (Sindaca)",
    ):
        assert expected in body, expected
    tables = _odt_tables(data)
    assert tables[mv.ATTENDANCE_TABLE] == [
        ["Comune", "Presenti", "Assenti"],
        [
            "Sant’Ilario d’Enza",
            "Anna Rossi (Sindaca)\nBruno Neri (Funzionario tecnico, online)",
            "—",
        ],
        [
            "Montecchio Emilia",
            "Bruno Neri (Funzionario tecnico, online)",
            "Carlo Bianchi (Assessore)",
        ],
        ["Gattatico", "—", "—"],
        ["Personale dell'Unione", "Daniela Verdi (Personale dell'Unione)", "—"],
    ]
    assert tables[mv.DECISIONS_TABLE] == [
        ["Punto", "Decisione"],
        ["1", "Si partecipa al bando con 120.000 € di cofinanziamento"],
    ]
    assert tables[mv.AGENDA_TABLE][1:] == [
        ["1", "Bando per il fotovoltaico sulle scuole", "Decisa"],
        ["2", "Illuminazione pubblica a LED", "Rinviata\nA gennaio"],
        ["3", "Calendario del Patto dei sindaci", "Per informazione"],
        ["4", "Varie ed eventuali", "da indicare"],
    ]
    assert tables[mv.GUESTS_TABLE][1] == [
        "Elena Galli",
        "ARPAE — sezione di Reggio Emilia",
        "online",
    ]
    assert tables[mv.TASKS_TABLE][1] == [
        "Bruno Neri (Funzionario tecnico)",  # how they attended is not the task's business
        "Preparare la domanda per il bando",
        "ven 15 gen 2027",
    ]


def test_the_pdf_text_is_extracted_and_page_one_rendered_for_a_reviewer() -> None:
    content = _approved()
    data = mv.write_pdf(content, IT)
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    extracted = "\n".join(page.extract_text() for page in reader.pages)
    flat = " ".join(extracted.split())
    for expected in (
        "Verbale n. 3/2026",
        "Unione Val d'Enza",
        "Sant’Ilario d’Enza",  # a typographic apostrophe: not latin-1
        "120.000 €",  # nor is the euro sign
        "Montecchio — sala «Verdi».",  # nor the dash
        "Carlo Bianchi (Assessore)",
        "Preparare la domanda per il bando",
        "Approvato il",
    ):
        assert expected in flat, expected
    # The same content writes the same file (a frozen minute is sent again identically).
    assert mv.write_pdf(content, IT) == data
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "verbale-2026-3.pdf").write_bytes(data)
    (OUT / "verbale-2026-3.odt").write_bytes(mv.write_odt(content, IT))
    document = pypdfium2.PdfDocument(data)
    try:
        image = document[0].render(scale=1.5).to_pil()
        image.save(OUT / "verbale-2026-3-page1.png")
        assert image.size[0] > 800
    finally:
        document.close()


def test_a_draft_says_so_and_a_workshop_names_its_theme_and_link() -> None:
    draft = _content(
        kind=MeetingKind.WORKSHOP,
        table=PollTable.TECHNICAL,
        theme="Comunità energetiche",
        place="https://meet.example.org/abc",
        guests=(),
        tasks=(),
        notes=None,
        items=(),
    )
    body = _odt_text(mv.write_odt(draft, IT))
    assert "Bozza di verbale" in body
    assert "Riunione: Workshop tematico del tavolo tecnico" in body
    assert "Tema: Comunità energetiche" in body
    assert "Collegamento: https://meet.example.org/abc" in body
    assert "Nessun punto all'ordine del giorno." in body
    assert "Bozza, non ancora approvata." in body
    tables = _odt_tables(mv.write_odt(draft, IT))
    assert mv.GUESTS_TABLE not in tables and mv.TASKS_TABLE not in tables
    assert mv.file_stem(draft) == "bozza-verbale-2026-12-10"
    assert mv.file_stem(_approved()) == "verbale-2026-3"


def test_frozen_json_round_trips_and_an_erased_member_reads_ex_membro() -> None:
    content = _approved()
    assert mv.from_json(mv.to_json(content)) == content
    erased = content.without(BRUNO.member_id)
    frozen = mv.to_json(erased)
    assert "Bruno" not in frozen and "Neri" not in frozen
    body = _odt_text(mv.write_odt(mv.from_json(frozen), IT))
    assert "ex membro (Funzionario tecnico, online)" in "\n".join(
        cell for row in _odt_tables(mv.write_odt(erased, IT))[mv.ATTENDANCE_TABLE] for cell in row
    )
    assert "Anna Rossi" in body
    english = mv.minutes_text(erased, translator("en"))
    assert "former member" in english


def test_the_chat_text_is_html_safe_and_names_the_outcomes() -> None:
    content = _content(title="Bilancio <2027> & PAES")
    message = mv.minutes_text(content, IT)
    assert "Bilancio &lt;2027&gt; &amp; PAES" in message
    assert "<b>Bozza di verbale</b>" in message
    assert "• <b>Montecchio Emilia</b> — Presenti: Bruno Neri" in message
    assert "Esito: Rinviata, A gennaio" in message


@pytest.mark.parametrize("bad", ['{"version": 99}', '{"union": "x"}'])
def test_an_unknown_frozen_shape_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        mv.from_json(bad)
