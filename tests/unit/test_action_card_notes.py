"""The technical group's latest notes on an action's card (/azioni → an action).

Plain data in, Telegram HTML out: which notes, in what order, how they are escaped and
clipped, and how the card stays within Telegram's 4096 characters (notes shortened first,
then fewer, never the card's own lines).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.i18n import translator
from bot.services.progress import render_detail
from bot.services.summaries.build import note_view
from bot.services.summaries.summary import (
    CARD_NOTES_MAX,
    GROUP_NOTE_MAX,
    NoteView,
    card_note_rows,
    note_text,
)
from bot.views.html_split import telegram_length
from storage.models import Action, ActionStatus
from storage.repositories.summaries import EX_MEMBER, NoteFact

IT = translator("it")
EN = translator("en")
AT = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)  # mer 2 dic, Rome
TODAY = date(2026, 12, 10)
ROME = "Europe/Rome"


def _notes(n: int, text: str = "Nota numero {i}") -> list[NoteView]:
    return [NoteView("Tina", text.format(i=i), AT + timedelta(hours=i)) for i in range(n)]


def _action(**fields: object) -> Action:
    values: dict[str, object] = {
        "id": 7,
        "union_id": 1,
        "code": "CA-1",
        "title": "Riqualificazione palestra",
        "municipality_id": 20,
        "status": ActionStatus.ONGOING,
        "progress": 30,
        "archived_at": None,
    }
    values.update(fields)
    return Action(**values)


def test_the_latest_three_oldest_first_escaped_without_the_hashtag() -> None:
    notes = [
        *_notes(3),
        NoteView("Ugo <B>", "#aggiornamento: caldaie <nuove> & collaudate", AT + timedelta(days=1)),
    ]
    rows = card_note_rows(IT, notes, comune="Canossa & Co", timezone=ROME, today=TODAY)
    assert rows == [
        "💬 Ultime note dal gruppo tecnico per Canossa &amp; Co:",
        "• <i>«Nota numero 1»</i> — Tina, mer 2 dic",
        "• <i>«Nota numero 2»</i> — Tina, mer 2 dic",
        "• <i>«caldaie &lt;nuove&gt; &amp; collaudate»</i> — Ugo &lt;B&gt;, gio 3 dic",
    ]
    assert len(rows) - 1 == CARD_NOTES_MAX


def test_an_intercommunal_action_shows_the_unions_notes_heading() -> None:
    rows = card_note_rows(IT, _notes(1), comune=None, timezone=ROME, today=TODAY)
    assert rows[0] == "💬 Ultime note dal gruppo tecnico per l'Unione:"
    english = card_note_rows(EN, _notes(1), comune=None, timezone=ROME, today=TODAY)
    assert english[0] == "💬 Latest notes from the technical group for the Union:"
    english = card_note_rows(EN, _notes(1), comune="Canossa", timezone=ROME, today=TODAY)
    assert english == [
        "💬 Latest notes from the technical group for Canossa:",
        "• <i>«Nota numero 0»</i> — Tina, Wed 2 Dec",
    ]


def test_an_author_who_left_reads_as_ex_membro_as_in_the_summary() -> None:
    fact = NoteFact(1, 20, None, None, EX_MEMBER, "hashtag", "Sopralluogo fatto", AT)
    rows = card_note_rows(IT, [note_view(fact)], comune="Canossa", timezone=ROME, today=TODAY)
    assert rows[1] == "• <i>«Sopralluogo fatto»</i> — ex membro, mer 2 dic"


def test_a_note_of_another_year_shows_its_year() -> None:
    old = NoteView("Tina", "Progetto approvato", datetime(2025, 3, 4, 10, 0, tzinfo=UTC))
    rows = card_note_rows(IT, [old, *_notes(1)], comune="Canossa", timezone=ROME, today=TODAY)
    assert rows[1].endswith("— Tina, mar 4 mar 2025")
    assert rows[2].endswith("— Tina, mer 2 dic")


def test_a_long_note_is_clipped_to_about_200_characters_with_a_marker() -> None:
    long = "Il cantiere della palestra parte a gennaio " * 20
    (_heading, row) = card_note_rows(
        IT, [NoteView("Tina", long, AT)], comune="Canossa", timezone=ROME, today=TODAY
    )
    quoted = re.search(r"«([^»]*)»", row)
    assert quoted is not None
    assert quoted.group(1).endswith("…") and len(quoted.group(1)) <= GROUP_NOTE_MAX
    assert " ".join(long.split()).startswith(quoted.group(1)[:-1])


def test_empty_notes_are_not_shown_and_no_notes_means_no_heading() -> None:
    assert card_note_rows(IT, [], comune="Canossa", timezone=ROME, today=TODAY) == []
    only_tag = [NoteView("Tina", "#AGGIORNAMENTO ", AT)]
    assert card_note_rows(IT, only_tag, comune="Canossa", timezone=ROME, today=TODAY) == []


def test_short_of_room_notes_are_shortened_first_then_the_oldest_go() -> None:
    notes = _notes(3, text="{i} " + "parola " * 60)
    full = card_note_rows(IT, notes, comune="Canossa", timezone=ROME, today=TODAY)
    full_length = telegram_length("\n".join(full))
    shorter = card_note_rows(
        IT, notes, comune="Canossa", timezone=ROME, today=TODAY, room=full_length - 1
    )
    assert len(shorter) == 4  # all three notes, each shorter
    assert telegram_length("\n".join(shorter)) <= full_length - 1
    one = card_note_rows(IT, notes, comune="Canossa", timezone=ROME, today=TODAY, room=150)
    assert len(one) == 2 and "«2 parola" in one[1]  # the latest note stays
    assert telegram_length("\n".join(one)) <= 150
    assert card_note_rows(IT, notes, comune="Canossa", timezone=ROME, today=TODAY, room=40) == []


def test_the_card_shows_its_lines_then_the_notes() -> None:
    text, _markup = render_detail(
        _action(),
        {20: "Canossa"},
        IT,
        coordinator=False,
        notes=_notes(2),
        timezone=ROME,
        today=TODAY,
    )
    assert text == (
        "<b>CA-1</b> — Riqualificazione palestra\n"
        "Comune: Canossa\n"
        "Stato: 🔄 In corso, 30%\n"
        "\n"
        "💬 Ultime note dal gruppo tecnico per Canossa:\n"
        "• <i>«Nota numero 0»</i> — Tina, mer 2 dic\n"
        "• <i>«Nota numero 1»</i> — Tina, mer 2 dic"
    )
    bare, _markup = render_detail(_action(), {20: "Canossa"}, IT, coordinator=False)
    assert "💬" not in bare and text.startswith(bare + "\n\n")


@settings(max_examples=40, deadline=None)
@given(
    st.text(min_size=1, max_size=300),
    st.text(max_size=200),
    st.lists(st.tuples(st.text(min_size=1, max_size=130), st.text(max_size=5000)), max_size=5),
    st.integers(min_value=0, max_value=3900),
)
def test_the_card_always_fits_and_keeps_its_own_lines(
    title: str, responsible: str, notes: list[tuple[str, str]], reserve: int
) -> None:
    action = _action(
        title=title,
        responsible=responsible or None,
        sector="Edifici pubblici <terziario>",
        cost_eur=Decimal("1250000.50"),
        co2_avoided_t=Decimal("12.5"),
    )
    views = [NoteView(a, t, AT + timedelta(minutes=i)) for i, (a, t) in enumerate(notes)]
    bare, _markup = render_detail(action, {20: "Canossa"}, IT, coordinator=True)
    text, _markup = render_detail(
        action,
        {20: "Canossa"},
        IT,
        coordinator=True,
        notes=views,
        timezone=ROME,
        today=TODAY,
        reserve=reserve,
    )
    assert text.startswith(bare)  # the card's own lines are never cut
    assert text == bare or telegram_length(text) + reserve <= 4096
    assert set(re.findall(r"</?([a-z]+)", text)) <= {"b", "i"}  # the users' text is escaped
    if reserve <= 2000 and any(note_text(t) for _a, t in notes):
        assert "💬 Ultime note dal gruppo tecnico per Canossa:" in text  # room for at least one
