"""Continuity's pure rules (bot.services.meetings.continuity): which meetings count, a Comune
represented by the coverage rule, its record and streak per table, the lines /team and the
summary show, and the summary's length with absences."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.i18n import translator
from bot.services.meetings.continuity import (
    MISSED_IN_A_ROW,
    Held,
    absences,
    held_meetings,
    of_table,
    records_by_comune,
    table_record,
)
from bot.services.summaries.summary import render_summary
from bot.views.continuity import Absent, TableRecord, absences_lines, team_line
from bot.views.html_split import plain_text, telegram_length
from storage.models import PollTable
from tests.unit.test_summary_first import big_union

ROME = ZoneInfo("Europe/Rome")
IT = translator("it")
EN = translator("en")
DAY = datetime(2026, 6, 1, 15, 0, tzinfo=UTC)
P, T, B = PollTable.POLITICAL, PollTable.TECHNICAL, PollTable.BOTH


def _held(n: int, table: PollTable, represented: set[int]) -> Held:
    return Held(n, f"R{n}", table, DAY + timedelta(days=7 * n), frozenset(represented))


def test_a_meeting_counts_once_its_day_is_over_and_anyone_of_a_comune_represents_it() -> None:
    start, end = DAY, DAY + timedelta(hours=2)
    rows = [
        (1, "Giugno", P, start, end, 10, 1),  # a mayor of Comune 1
        (1, "Giugno", P, start, end, 11, 2),  # a technician of Comuni 2 and 3
        (1, "Giugno", P, start, end, 11, 3),
        (1, "Giugno", P, start, end, 12, None),  # the Union's staff: no Comune
        (2, "Luglio", T, start + timedelta(days=30), end + timedelta(days=30), 12, None),
    ]
    # On the meeting's evening its check-ins are still open: it does not count yet.
    assert held_meetings(rows, tz=ROME, now=DAY + timedelta(hours=6)) == []
    (june,) = held_meetings(rows, tz=ROME, now=DAY + timedelta(days=1))
    assert june.represented == frozenset({1, 2, 3}) and june.title == "Giugno"
    later = held_meetings(rows, tz=ROME, now=DAY + timedelta(days=40))
    assert [h.meeting_id for h in later] == [1, 2]
    assert later[1].represented == frozenset()  # only the staff came: no Comune represented


def test_record_and_streak_count_back_from_the_latest() -> None:
    held = [_held(1, P, {1, 2}), _held(2, P, {1}), _held(3, P, {2}), _held(4, P, {2})]
    assert table_record(held, comune_id=1, joined_at=DAY) == TableRecord(4, 2, 2, flagged=False)
    assert table_record(held, comune_id=2, joined_at=DAY) == TableRecord(4, 3, 0)
    assert table_record(held, comune_id=3, joined_at=DAY) == TableRecord(4, 0, 4, flagged=True)
    # A Comune that joined after the second meeting: only the last two count.
    joined = DAY + timedelta(days=15)
    assert table_record(held, comune_id=3, joined_at=joined) == TableRecord(2, 0, 2)


def test_a_joint_meeting_counts_for_both_tables() -> None:
    held = [_held(1, P, {1}), _held(2, B, {1}), _held(3, T, set())]
    assert [h.meeting_id for h in of_table(held, P)] == [1, 2]
    assert [h.meeting_id for h in of_table(held, T)] == [2, 3]
    records = records_by_comune(held, [(1, DAY), (2, DAY)])
    assert records[1] == {P: TableRecord(2, 2, 0), T: TableRecord(2, 1, 1)}
    assert records[2] == {P: TableRecord(2, 0, 2), T: TableRecord(2, 0, 2)}


def test_three_missed_in_a_row_make_an_absence() -> None:
    assert MISSED_IN_A_ROW == 3
    held = [_held(n, T, {1} if n == 1 else set()) for n in range(1, 5)]
    records = records_by_comune(held, [(1, DAY), (2, DAY), (3, DAY + timedelta(days=20))])
    assert sorted(absences(records, {1: "Alfa", 2: "Beta", 3: "Gamma"}), key=str) == [
        Absent("Alfa", T, 3),
        Absent("Beta", T, 4),
    ]  # Gamma joined before the last two only


def test_the_team_line_per_table() -> None:
    records = {P: TableRecord(6, 5, 0), T: TableRecord(4, 1, 3, flagged=True)}
    assert team_line(records, IT) == (
        "🗓 Riunioni negli ultimi 12 mesi: tavolo politico 5 su 6 · "
        "tavolo tecnico 1 su 4 (assente alle ultime 3)"
    )
    assert team_line({T: TableRecord(2, 2, 0)}, EN) == (
        "🗓 Meetings in the last 12 months: technical table 2 of 2"
    )
    assert team_line({}, IT) == ""


def test_the_summary_line_names_the_longest_absences_first_and_counts_the_rest() -> None:
    absent = [Absent(f"Comune {i:02}", P, 3 + i % 3) for i in range(12)]
    absent.append(Absent("Tecnico & Co", T, 3))
    politico, tecnico = absences_lines(absent, IT)
    assert politico.startswith(
        "🪑 Non rappresentati alle ultime riunioni del tavolo politico: Comune 02 (5 di fila), "
        "Comune 05 (5 di fila)"
    )
    assert politico.endswith("Comune 03 (3 di fila) e altri 2 Comuni")  # 06 and 09 counted
    assert tecnico == (
        "🪑 Non rappresentati alle ultime riunioni del tavolo tecnico: Tecnico &amp; Co (3 di fila)"
    )
    assert absences_lines([], IT) == []


def test_absences_come_after_the_next_meeting_and_keep_the_length_budget() -> None:
    data = big_union(20)
    absent = [Absent(f"Comune {i:02}", P, 3) for i in range(1, 4)]
    absent.append(Absent("Comune 04", T, 5))
    parts = render_summary(replace(data, absences=tuple(absent)), IT)
    text = "\n".join(plain_text(p) for p in parts)
    assert (
        text.index("Prossima riunione")
        < text.index("🪑 Non rappresentati")
        < text.index("In sintesi")
    )
    assert "tavolo tecnico: Comune 04 (5 di fila)" in text
    total = sum(telegram_length(p) for p in parts)
    assert len(parts) <= 2 and total <= 4200  # test_summary_first's budget for 20 Comuni
    assert "🪑" not in "\n".join(render_summary(data, IT))  # nobody missing: no line
