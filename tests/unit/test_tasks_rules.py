"""The tasks' pure rules (bot.services.meetings.tasks) and their short section of the summary."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.i18n import translator
from bot.services.meetings.tasks import ASSIGN_AFTER, due_date, may_assign
from bot.services.summaries.summary import SummaryInput, summary_sections
from storage.repositories.people import FORMER_MEMBER
from storage.repositories.tasks import OverdueTask

TODAY = date(2026, 12, 4)
NOW = datetime(2026, 12, 4, 9, tzinfo=UTC)


def test_only_the_offered_dates() -> None:
    assert due_date(TODAY, 7) == date(2026, 12, 11)
    assert due_date(TODAY, 60) == date(2027, 2, 2)
    assert due_date(TODAY, 0) is None  # «Senza scadenza»
    assert due_date(TODAY, 5) is False  # never offered: forged
    assert due_date(TODAY, None) is False


def test_tasks_are_assigned_until_two_weeks_after_the_meeting() -> None:
    starts = NOW + timedelta(days=3)
    assert may_assign(starts, False, NOW)
    assert may_assign(starts, False, starts + ASSIGN_AFTER - timedelta(seconds=1))
    assert not may_assign(starts, False, starts + ASSIGN_AFTER)
    assert not may_assign(starts, True, NOW)


def _summary(tasks: list[OverdueTask], language: str = "it") -> str:
    data = SummaryInput(
        union_name="Unione Reno Galliera",
        timezone="Europe/Rome",
        year=2026,
        month=12,
        generated_at=NOW,
        since=None,
        comuni=(),
        actions=(),
        overdue_tasks=tasks,
    )
    return "\n".join("\n".join(s) for s in summary_sections(data, translator(language)))


def test_overdue_tasks_in_the_summary() -> None:
    tasks = [
        OverdueTask("Bollette della scuola", date(2026, 12, 1), "Sara Argelato", 1),
        OverdueTask("Preventivo", date(2026, 12, 2), FORMER_MEMBER, 2),
    ]
    text = _summary(tasks)
    assert (
        "⏰ <b>Compiti scaduti</b>\n"
        "Sara Argelato: «Bollette della scuola», entro mar 1 dic 2026\n"
        "ex membro: «Preventivo», entro mer 2 dic 2026"
    ) in text
    assert "Overdue tasks" in _summary(tasks, "en")
    many = [OverdueTask(f"Compito {i}", date(2026, 11, i), "Sara", 1) for i in range(1, 9)]
    assert "… e altri 3 compiti" in _summary(many)
    assert "Compiti scaduti" not in _summary([])
