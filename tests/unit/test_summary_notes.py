"""The rendering rules for the technical group's notes: how they are escaped and clipped, which
reach the summary (counted per Comune; the summary itself is tested in test_summary_first.py),
what /aggiornamento stato lists, what the spreadsheet holds.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from bot.i18n import translator
from bot.services.summaries import export as export_service
from bot.services.summaries.build import notes_by_comune
from bot.services.summaries.summary import (
    ActionChange,
    ActionSnapshot,
    ComuneInfo,
    NoteView,
    QuestionView,
    SummaryInput,
    clip_words,
    note_text,
    render_summary,
    round_note_rows,
)
from bot.views.html_split import telegram_length
from storage.repositories.summaries import NoteFact
from tests.summaries_factories import NOW

IT = translator("it")
EN = translator("en")
NOTE_AT = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)  # mer 2 dic, Rome


def _balanced(fragment: str) -> bool:
    stack: list[str] = []
    for match in re.finditer(r"<(/?)([a-z]+)[^>]*>", fragment):
        closing, name = match.group(1), match.group(2)
        if closing:
            if not stack or stack.pop() != name:
                return False
        else:
            stack.append(name)
    return not stack


def test_only_notes_after_the_baseline_reach_the_summary() -> None:
    def fact(i: int, municipality_id: int | None, at: datetime) -> NoteFact:
        return NoteFact(i, municipality_id, 1, 5, "Tina", "group_reply", f"n{i}", at)

    since = datetime(2026, 11, 4, 16, 0, tzinfo=UTC)
    grouped = notes_by_comune(
        [
            fact(1, 10, since - timedelta(days=1)),
            fact(2, 10, since + timedelta(days=1)),
            fact(3, None, since + timedelta(days=2)),
            fact(4, 10, since + timedelta(days=3)),
        ],
        since,
    )
    assert [n.text for n in grouped[10]] == ["n2", "n4"]
    assert [n.text for n in grouped[None]] == ["n3"]


def _union(
    comuni: int, per: int = 30, *, notes: int = 2, questions: int = 3, moved_every: int = 1
) -> SummaryInput:
    actions, changes = [], []
    for c in range(comuni):
        for a in range(per):
            aid = c * 1000 + a
            actions.append(
                ActionSnapshot(
                    aid,
                    f"C{c:02d}.{a:02d}",
                    f"Riqualificazione energetica dell'edificio pubblico numero {a}",
                    c,
                    "ongoing",
                    40,
                    Decimal("3"),
                    stuck_rounds=3 if a % moved_every else 0,
                )
            )
            if a % moved_every == 0:
                changes.append(
                    ActionChange(
                        aid,
                        "ongoing",
                        "ongoing",
                        20,
                        20 + a,
                        notes=(f"Lavori avanzati come da cronoprogramma, plesso {a} <ok>",),
                    )
                )
    return SummaryInput(
        union_name="Unione Grande",
        timezone="Europe/Rome",
        year=2026,
        month=12,
        generated_at=NOW,
        since=datetime(2026, 11, 4, 16, 0, tzinfo=UTC),
        comuni=[
            ComuneInfo(
                c,
                f"Comune {c:02d}",
                silent=(f"Tecnico {c}",) if c % 3 == 0 else (),
                notes=tuple(
                    NoteView(f"Tecnico {c}", f"Sopralluogo {k} fatto & verbale inviato", NOTE_AT)
                    for k in range(notes)
                ),
            )
            for c in range(comuni)
        ],
        actions=actions,
        changes=changes,
        questions=[
            QuestionView(i, f"Questione {i}?", "open", "Comune 00") for i in range(questions)
        ],
    )


# --- /aggiornamento stato -----------------------------------------------------------------


def test_round_notes_for_the_coordinator_merge_comuni_and_keep_the_latest() -> None:
    shared = NoteView("Tina", "Sopralluogo <comune> & verbale", NOTE_AT)
    notes: list[tuple[str | None, NoteView]] = [
        ("Canossa", shared),
        ("Vezzano", shared),  # one message, a technician of two Comuni
        (None, NoteView("Carla", "#aggiornamento bando in uscita", NOTE_AT + timedelta(hours=1))),
    ]
    rows = round_note_rows(IT, notes, timezone="Europe/Rome")
    assert rows == [
        "💬 2 note dal gruppo tecnico:",
        "• <b>Canossa, Vezzano</b>: <i>«Sopralluogo &lt;comune&gt; &amp; verbale»</i> — Tina, mer 2 dic",
        "• <b>Unione</b>: <i>«bando in uscita»</i> — Carla, mer 2 dic",
    ]
    many = [
        ("Canossa", NoteView("Tina", f"nota {i}", NOTE_AT + timedelta(minutes=i)))
        for i in range(13)
    ]
    rows = round_note_rows(IT, many, timezone="Europe/Rome")
    assert rows[0] == "💬 13 note dal gruppo tecnico:"
    assert "nota 3»" in rows[1] and "nota 12»" in rows[-2]
    assert (
        rows[-1] == "… e altre 3 note più vecchie: le trovi tutte nel foglio di calcolo (/esporta)."
    )
    assert round_note_rows(IT, [], timezone="Europe/Rome") == []
    (one,) = round_note_rows(EN, many[:1], timezone="Europe/Rome")[:1]
    assert one == "💬 One note from the technical group:"


# --- clipping -----------------------------------------------------------------------------


@given(st.text(min_size=0, max_size=400), st.integers(min_value=10, max_value=300))
def test_clip_words_never_exceeds_the_limit_and_marks_a_cut(text: str, limit: int) -> None:
    clipped = clip_words(text, limit)
    normal = " ".join(text.split())
    assert len(clipped) <= limit
    if len(normal) <= limit:
        assert clipped == normal
    else:
        assert clipped.endswith("…")
        assert normal.startswith(clipped[:-1])


def test_note_text_strips_the_tag_only() -> None:
    assert note_text("#Aggiornamento: caldaia   nuova") == "caldaia nuova"
    assert note_text("caldaia #aggiornamento nuova") == "caldaia nuova"
    assert note_text("#aggiornamenti in arrivo") == "#aggiornamenti in arrivo"


# --- the spreadsheet ----------------------------------------------------------------------


def test_the_spreadsheet_has_every_note_whole() -> None:
    long = "Il cantiere della palestra parte a gennaio. " * 30
    tables = export_service.ExportTables(
        union_name="Unione",
        timezone="Europe/Rome",
        actions=[],
        history=[],
        meetings=[],
        notes=[
            export_service.NoteRow(NOTE_AT, "Canossa", "2026-12", "Tina", "group_reply", long),
            export_service.NoteRow(
                NOTE_AT, None, None, "ex membro", "hashtag", "=1+1 #aggiornamento"
            ),
        ],
    )
    book = load_workbook(io.BytesIO(export_service.export_xlsx(tables, IT)))
    rows = list(book["Note dal gruppo tecnico"].iter_rows(values_only=True))
    assert rows[0] == ("Data", "Comune", "Aggiornamento mensile", "Autore", "Origine", "Nota")
    assert rows[1][1:] == (
        "Canossa",
        "2026-12",
        "Tina",
        "Risposta all'avviso dell'aggiornamento mensile",
        long,
    )
    assert rows[1][0] == datetime(2026, 12, 2, 10, 30)  # Rome time, no zone
    assert rows[2][1:] == (
        "Unione (intercomunale)",
        None,
        "ex membro",
        "Messaggio con #aggiornamento",
        "=1+1 #aggiornamento",  # the text as written…
    )
    formula_like = book["Note dal gruppo tecnico"]["F3"]
    assert (formula_like.data_type, formula_like.quotePrefix) == ("s", True)  # …never run
    english = load_workbook(io.BytesIO(export_service.export_xlsx(tables, EN)))
    assert "Technical group notes" in english.sheetnames


def test_the_notes_csv_is_the_spreadsheet_sheet_and_the_actions_csv_is_unchanged() -> None:
    note = "Cantiere «Rodari»; ditta Rossi: consegna\nil 7 gennaio"
    action = export_service.ActionRow(
        "CA-1", "Palestra", None, "Canossa", None, None, None, "ongoing", 30, None, None, None, None
    )
    tables = export_service.ExportTables(
        union_name="Unione",
        timezone="Europe/Rome",
        actions=[action],
        history=[],
        meetings=[],
        notes=[
            export_service.NoteRow(NOTE_AT, "Canossa", "2026-12", "Tina", "group_reply", note),
            export_service.NoteRow(NOTE_AT, None, None, "ex membro", "hashtag", "=1+1"),
        ],
    )
    content = export_service.export_notes_csv(tables, IT)
    assert content.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(content[3:].decode("utf-8"), newline=""), delimiter=";"))
    assert rows == [
        ["Data", "Comune", "Aggiornamento mensile", "Autore", "Origine", "Nota"],
        [
            "02/12/2026 10:30",
            "Canossa",
            "2026-12",
            "Tina",
            "Risposta all'avviso dell'aggiornamento mensile",
            note,
        ],
        [
            "02/12/2026 10:30",
            "Unione (intercomunale)",
            "",
            "ex membro",
            "Messaggio con #aggiornamento",
            "'=1+1",  # never run as a formula
        ],
    ]
    # Whoever imports the actions' CSV finds the same columns as before, and no notes in it.
    actions = export_service.export_csv(tables, IT).decode("utf-8-sig").split("\r\n")
    assert actions[0] == ";".join(export_service.ACTION_HEADERS)
    assert actions[1:] == ["CA-1;Palestra;;Canossa;;;;In corso;30;;;;", ""]
    english = export_service.export_notes_csv(tables, EN).decode("utf-8-sig")
    assert english.startswith("Date;Municipality;Monthly update;Author;Source;Note\r\n")


# --- whatever the technicians write -------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=1, max_value=30),
    st.lists(st.tuples(st.text(min_size=1, max_size=20), st.text(max_size=600)), max_size=6),
    st.text(max_size=400),
)
def test_any_note_text_renders_as_safe_telegram_html(
    comuni: int, notes: list[tuple[str, str]], action_note: str
) -> None:
    data = _union(comuni, 6, notes=0)
    views = tuple(
        NoteView(author, text, NOTE_AT + timedelta(minutes=i))
        for i, (author, text) in enumerate(notes)
    )
    data = replace(
        data,
        comuni=[replace(c, notes=views) for c in data.comuni],
        changes=[replace(ch, notes=(action_note,)) for ch in data.changes],
        union_notes=views,
    )
    parts = render_summary(data, IT)
    for part in parts:
        assert telegram_length(part) <= 4096
        assert _balanced(part)
        # Every '<' is one of ours: the users' text is escaped.
        assert set(re.findall(r"</?([a-z]+)", part)) <= {"b", "i"}
    rows = round_note_rows(IT, [("Canossa", v) for v in views], timezone="Europe/Rome")
    for row in rows:
        assert _balanced(row) and set(re.findall(r"</?([a-z]+)", row)) <= {"b", "i"}
