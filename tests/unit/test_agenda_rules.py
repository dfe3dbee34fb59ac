"""The agenda's pure rules (bot.services.meetings.agenda)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.i18n import translator
from bot.services.meetings.agenda import (
    CONVOCATION_DAYS,
    ITEM_MAX_CHARS,
    MAX_ITEMS,
    Pending,
    agenda_hash,
    check_item_text,
    convocation_at,
    draft,
    swapped,
    typed_lines,
)
from bot.services.summaries.summary import INVENTORY, MONITORING, Milestone
from bot.views.agenda import AgendaView, render_panel
from storage.models import AgendaSource, Decision, DecisionStatus, MeetingTask, PollTable

NOW = datetime(2026, 12, 4, 8, tzinfo=UTC)
TR = translator("it")


def _decision(i: int, status: DecisionStatus, question: str = "") -> Decision:
    return Decision(id=i, union_id=1, question=question or f"Domanda {i}", status=status)


def _pending(**kw: object) -> Pending:
    base: dict[str, object] = {
        "questions": (_decision(1, DecisionStatus.OPEN),),
        "decided": (_decision(2, DecisionStatus.APPROVED), _decision(3, DecisionStatus.REJECTED)),
        "tasks": (MeetingTask(id=7, text="Bollette"),),
        "milestones": (Milestone(due=date(2027, 2, 1), kinds=(MONITORING, INVENTORY)),),
        "typed": "1. Stato del PAES\n\n2) Bando",
    }
    base.update(kw)
    return Pending(**base)  # type: ignore[arg-type]


def test_the_draft_follows_the_table() -> None:
    political = draft(_pending(), PollTable.POLITICAL, TR)
    assert [(d.source, d.text) for d in political] == [
        (AgendaSource.COORDINATOR, "Stato del PAES"),
        (AgendaSource.COORDINATOR, "Bando"),
        (
            AgendaSource.DEADLINE,
            "Patto dei Sindaci: relazione di monitoraggio e inventario delle emissioni entro "
            "lun 1 feb 2027",
        ),
        (AgendaSource.QUESTION, "Domanda 1"),
        (AgendaSource.TASK, "Bollette"),
    ]
    assert political[3].decision_id == 1 and political[4].task_id == 7
    technical = [(d.source, d.text) for d in draft(_pending(typed=None), PollTable.TECHNICAL, TR)]
    assert technical[1:3] == [
        (AgendaSource.DECISION, "Decisione approvata: Domanda 2"),
        (AgendaSource.DECISION, "Decisione non approvata: Domanda 3"),
    ]
    assert AgendaSource.QUESTION not in {s for s, _t in technical}
    both = draft(_pending(), PollTable.BOTH, TR)
    assert {AgendaSource.QUESTION, AgendaSource.DECISION} <= {d.source for d in both}


def test_the_draft_is_capped_and_long_texts_shortened() -> None:
    many = tuple(_decision(i, DecisionStatus.OPEN, "x" * 500) for i in range(30))
    drafted = draft(_pending(questions=many), PollTable.POLITICAL, TR)
    assert len(drafted) == MAX_ITEMS
    assert all(len(d.text) <= ITEM_MAX_CHARS for d in drafted)
    assert drafted[-1].text.endswith("…")


def test_typed_lines_drop_the_numbering_and_blank_lines() -> None:
    assert typed_lines("1. Uno\n2) Due\n- Tre\n• Quattro\n\n10: Dieci\nSenza") == [
        "Uno",
        "Due",
        "Tre",
        "Quattro",
        "Dieci",
        "Senza",
    ]
    assert typed_lines(None) == []
    assert typed_lines("2026 in cifre") == ["2026 in cifre"]  # a year is not a number mark


def test_the_convocation_moment() -> None:
    starts = NOW + timedelta(days=12)
    assert convocation_at(starts, NOW) == starts - timedelta(days=CONVOCATION_DAYS)
    # Fixed 3 days before: the coordinator has 24 hours to confirm.
    soon = NOW + timedelta(days=3)
    assert convocation_at(soon, NOW) == NOW + timedelta(hours=24)
    # Fixed 40 hours before: never later than 36 hours before the start.
    sooner = NOW + timedelta(hours=40)
    assert convocation_at(sooner, NOW) == sooner - timedelta(hours=36)


def test_moving_an_item() -> None:
    assert swapped([1, 2, 3], 2, -1) == [2, 1, 3]
    assert swapped([1, 2, 3], 2, 1) == [1, 3, 2]
    assert swapped([1, 2, 3], 1, -1) is None
    assert swapped([1, 2, 3], 3, 1) is None


def test_the_hash_changes_with_text_and_order() -> None:
    assert agenda_hash(["a", "b"]) == agenda_hash(["a", "b"])
    assert agenda_hash(["a", "b"]) != agenda_hash(["b", "a"])
    assert agenda_hash(["a b"]) != agenda_hash(["a", "b"])


def test_an_item_text() -> None:
    assert check_item_text("  Varie \u200b ed   eventuali ") == "Varie ed eventuali"
    assert check_item_text(" \u200b ") == ("empty", 0)
    assert check_item_text("x" * (ITEM_MAX_CHARS + 1)) == ("too_long", ITEM_MAX_CHARS)


def test_an_empty_agenda_tells_how_to_add_not_how_to_reorder() -> None:
    """No item: no ↑ ↓ ✖ to explain, the way to add one instead."""
    view = AgendaView(
        meeting_id=1,
        title="Riunione di dicembre",
        starts_at=datetime(2026, 12, 16, 16, 30, tzinfo=UTC),
        tz=ZoneInfo("Europe/Rome"),
        place=None,
        items=(),
        confirmed=False,
        convoked=False,
        convocation_at=datetime(2026, 12, 11, 16, 30, tzinfo=UTC),
    )
    text, keyboard = render_panel(view, translator("it"))
    assert "Nessun punto per ora." in text
    assert "Aggiungi i punti con «➕ Aggiungi un punto», poi conferma." in text
    assert "↑" not in text and "✖" not in text
    assert keyboard is not None
    assert "➕ Aggiungi un punto" in [b.text for row in keyboard.rows for b in row]
