"""The rendering rules for the technical group's notes and for a long summary on a phone.

Plain data in, Telegram HTML out: which changes a Comune shows when space is short, how notes
are escaped and clipped, how many messages a large Union takes, what /aggiornamento stato lists.
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
from bot.services.html_split import plain_text, telegram_length
from bot.services.summaries import export as export_service
from bot.services.summaries.build import notes_by_comune
from bot.services.summaries.summary import (
    DETAILS,
    FULL,
    MAX_MESSAGES,
    ActionChange,
    ActionSnapshot,
    ComuneInfo,
    Detail,
    NoteView,
    QuestionView,
    SummaryInput,
    clip_words,
    note_text,
    render_summary,
    round_note_rows,
    summary_sections,
)
from storage.repositories.people import FORMER_MEMBER
from storage.repositories.summaries import NoteFact
from tests.summaries_factories import NOW, small_union

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


def _comune_text(parts: list[str], name: str) -> str:
    """The plain text of one Comune's section, as the mayor reads it."""
    text = "\n".join(plain_text(p) for p in parts)
    start = text.index(f"{name} · ")
    return text[start:].split("\n\n")[0]


def _with_notes(*notes: NoteView, comune: int = 20) -> SummaryInput:
    data = small_union()
    comuni = [replace(c, notes=notes) if c.municipality_id == comune else c for c in data.comuni]
    return replace(data, comuni=comuni)


# --- group notes in the summary -----------------------------------------------------------


def test_group_note_sits_under_its_comune_escaped_without_the_hashtag() -> None:
    note = NoteView("Luca <Bianchi>", "#aggiornamento: caldaia <nuova> & collaudata", NOTE_AT)
    (text,) = render_summary(_with_notes(note), IT)
    assert (
        "💬 <i>«caldaia &lt;nuova&gt; &amp; collaudata»</i> — Luca &lt;Bianchi&gt;, mer 2 dic"
        in (text)
    )
    bentivoglio = _comune_text([text], "Bentivoglio")
    assert "«caldaia <nuova> & collaudata» — Luca <Bianchi>, mer 2 dic" in bentivoglio
    assert "#aggiornamento" not in text
    assert "Argelato" not in bentivoglio  # never under another Comune
    assert _balanced(text)


def test_full_detail_shows_the_latest_three_notes_and_counts_the_rest() -> None:
    notes = [NoteView("Tina", f"Nota numero {i}", NOTE_AT + timedelta(hours=i)) for i in range(5)]
    (text,) = render_summary(_with_notes(*notes), IT)
    section = _comune_text([text], "Bentivoglio")
    assert [f"Nota numero {i}" in section for i in range(5)] == [False, False, True, True, True]
    assert "… e altre 2 note dal gruppo tecnico" in section
    assert "il dettaglio completo è nel foglio di calcolo" in text  # where the other two are


def test_a_long_note_is_clipped_between_words_with_a_marker() -> None:
    long = "Il cantiere della palestra parte a gennaio " * 20
    (text,) = render_summary(_with_notes(NoteView("Tina", long, NOTE_AT)), IT)
    quoted = re.search(r"«([^»]*)»</i> — Tina", text)
    assert quoted is not None
    shown = quoted.group(1)
    assert shown.endswith("…") and len(shown) <= FULL.group_note_chars
    assert " ".join(long.split()).startswith(shown[:-1])
    assert shown[:-1].split()[-1] in long.split()  # a whole word before the marker


def test_an_empty_note_after_the_hashtag_is_not_shown() -> None:
    (text,) = render_summary(_with_notes(NoteView("Tina", "#AGGIORNAMENTO ", NOTE_AT)), IT)
    assert "💬" not in text and "ex membro" not in text


def test_notes_of_a_member_with_no_comune_go_under_the_union() -> None:
    data = replace(
        small_union(),
        actions=[a for a in small_union().actions if a.municipality_id is not None],
        union_notes=(NoteView("Carla", "Bando regionale in uscita", NOTE_AT),),
    )
    (text,) = render_summary(data, IT)
    assert "<b>Unione</b>\n💬 <i>«Bando regionale in uscita»</i> — Carla, mer 2 dic" in text
    (english,) = render_summary(data, EN)
    assert "<b>Union</b>" in english


def test_english_note_lines() -> None:
    notes = [NoteView("Tina", f"Note {i}", NOTE_AT + timedelta(hours=i)) for i in range(4)]
    (text,) = render_summary(_with_notes(*notes), EN)
    assert "… and one more note from the technical group" in text
    assert "the full detail is in the spreadsheet" in text


def test_a_note_of_a_member_who_left_names_them_in_the_readers_language() -> None:
    note = NoteView(FORMER_MEMBER, "Caldaia collaudata", NOTE_AT)
    (italian,) = render_summary(_with_notes(note), IT)
    (english,) = render_summary(_with_notes(note), EN)
    assert "— ex membro, mer 2 dic" in italian
    assert "— former member, " in english and "ex membro" not in english


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


# --- a long summary on a phone ------------------------------------------------------------


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


def test_top_changes_first_completed_then_status_then_largest_move() -> None:
    actions = [ActionSnapshot(i, f"A{i}", f"Azione {i}", 10, "ongoing", 50) for i in range(1, 8)]
    changes = [
        ActionChange(1, "ongoing", "ongoing", 10, 15),  # +5
        ActionChange(2, "ongoing", "ongoing", 10, 60),  # +50
        ActionChange(3, "ongoing", "postponed", 40, 40),  # a status change
        ActionChange(4, "ongoing", "completed", 90, 100),  # completed
        ActionChange(5, "ongoing", "ongoing", 10, 30),  # +20
        ActionChange(6, "ongoing", "ongoing", 30, 30, notes=("solo una nota",)),
        ActionChange(7, "ongoing", "ongoing", 10, 40),  # +30
    ]
    data = replace(
        small_union(),
        comuni=[ComuneInfo(10, "Argelato")],
        actions=actions,
        changes=changes,
        questions=[],
    )
    parts = render_summary(data, IT, detail=Detail(3, 1, 100, 1, 100, 3))
    section = _comune_text(parts, "Argelato")
    listed = re.findall(r"• (A\d)", section)
    assert listed == ["A4", "A3", "A2"]
    assert "… e altre 4 azioni aggiornate" in section
    assert (
        "il dettaglio completo è nel foglio di calcolo (pulsante «📤 Foglio di calcolo» in fondo "
        "al riepilogo, o /esporta)" in (plain_text(parts[0]))
    )
    # With room for everything, every change is listed (most important first) and no pointer.
    full = render_summary(data, IT, detail=FULL)
    assert re.findall(r"• (A\d)", _comune_text(full, "Argelato")) == [
        "A4",
        "A3",
        "A2",
        "A7",
        "A5",
        "A1",
        "A6",
    ]
    assert "foglio di calcolo" not in plain_text(full[0])
    # An action with an open question for the political table comes right after the completed.
    asking = replace(data, questions=[QuestionView(9, "Variante?", "open", "Argelato", "A5")])
    section = _comune_text(
        render_summary(asking, IT, detail=Detail(3, 1, 100, 1, 100, 3)), "Argelato"
    )
    assert re.findall(r"• (A\d)", section) == ["A4", "A5", "A3"]
    assert "• A5 Azione 5: 10% → 30%, 🗳 da decidere" in section
    closed = replace(data, questions=[QuestionView(9, "Variante?", "approved", "Argelato", "A5")])
    section = _comune_text(
        render_summary(closed, IT, detail=Detail(3, 1, 100, 1, 100, 3)), "Argelato"
    )
    assert re.findall(r"• (A\d)", section) == ["A4", "A3", "A2"]


def test_the_most_compact_form_still_counts_every_change_and_names_no_action() -> None:
    data = _union(2, 30)
    compact = render_summary(data, IT, detail=DETAILS[-1])
    section = _comune_text(compact, "Comune 01")
    assert "• 30 azioni aggiornate" in section
    assert "💬 2 note dal gruppo tecnico" in section
    assert "•" in section and "C01." not in section


def test_stuck_actions_are_named_up_to_the_cap() -> None:
    data = _union(1, 30, moved_every=3)  # 20 stuck actions
    full = _comune_text(render_summary(data, IT, detail=FULL), "Comune 00")
    assert full.count("giri)") == 20
    capped = _comune_text(render_summary(data, IT, detail=DETAILS[2]), "Comune 00")
    assert capped.count("giri)") == 5 and "e altre 15" in capped
    bare = _comune_text(render_summary(data, IT, detail=DETAILS[-1]), "Comune 00")
    assert "⏳ 20 azioni ferme da due giri o più" in bare


def test_a_small_union_keeps_every_detail() -> None:
    data = _union(2, 4)
    assert render_summary(data, IT) == render_summary(data, IT, detail=FULL)
    assert "foglio di calcolo" not in render_summary(data, IT)[0]


def test_twenty_comuni_where_everything_moved_fit_in_four_messages() -> None:
    data = _union(20, 30)
    assert len(render_summary(data, IT, detail=FULL)) > 10  # what it used to be
    parts = render_summary(data, IT)
    assert 1 < len(parts) <= MAX_MESSAGES
    for part in parts:
        assert telegram_length(part) <= 4096 and _balanced(part)
    text = "\n".join(plain_text(p) for p in parts)
    for c in range(20):
        assert text.count(f"Comune {c:02d} · 30 azioni") == 1
        section = _comune_text(parts, f"Comune {c:02d}")
        assert f"C{c:02d}.29" in section  # the largest move of each Comune is named
        assert "azioni aggiornate" in section
        assert ("Non ha riferito: Tecnico" in section) == (c % 3 == 0)
    assert "Da decidere" in text and "Questione 2?" in text
    assert "il dettaglio completo è nel foglio di calcolo" in text


def test_forty_comuni_still_fit_and_nothing_is_cut_mid_comune() -> None:
    data = _union(40, 30)
    parts = render_summary(data, IT)
    assert len(parts) <= MAX_MESSAGES
    for c in range(40):
        holders = [p for p in parts if f"<b>Comune {c:02d}</b>" in p]
        assert len(holders) == 1


def test_a_union_too_large_for_four_messages_takes_more_in_the_most_compact_form() -> None:
    data = _union(150, 4, notes=1)
    parts = render_summary(data, IT)
    assert parts == render_summary(data, IT, detail=DETAILS[-1])
    assert len(parts) > MAX_MESSAGES
    assert all(telegram_length(p) <= 4096 and _balanced(p) for p in parts)
    text = "\n".join(plain_text(p) for p in parts)
    assert all(f"Comune {c:02d} · 4 azioni" in text for c in range(150))


def test_each_level_is_no_longer_than_the_one_before() -> None:
    data = _union(20, 30)
    lengths = [
        sum(telegram_length("\n".join(s)) for s in summary_sections(data, IT, d)) for d in DETAILS
    ]
    assert lengths == sorted(lengths, reverse=True)


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
    assert rows[0] == ("Data", "Comune", "Giro di aggiornamenti", "Autore", "Origine", "Nota")
    assert rows[1][1:] == (
        "Canossa",
        "2026-12",
        "Tina",
        "Risposta all'avviso del giro",
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
        ["Data", "Comune", "Giro di aggiornamenti", "Autore", "Origine", "Nota"],
        [
            "02/12/2026 10:30",
            "Canossa",
            "2026-12",
            "Tina",
            "Risposta all'avviso del giro",
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
    assert english.startswith("Date;Municipality;Update round;Author;Source;Note\r\n")


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
    assert len(parts) <= MAX_MESSAGES or parts == render_summary(data, IT, detail=DETAILS[-1])
    for part in parts:
        assert telegram_length(part) <= 4096
        assert _balanced(part)
        # Every '<' is one of ours: the users' text is escaped.
        assert set(re.findall(r"</?([a-z]+)", part)) <= {"b", "i"}
    rows = round_note_rows(IT, [("Canossa", v) for v in views], timezone="Europe/Rome")
    for row in rows:
        assert _balanced(row) and set(re.findall(r"</?([a-z]+)", row)) <= {"b", "i"}
