"""The dashboard's pure rules: who reads a history, the figures, the CO₂ curve."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from bot.services.dashboard.rules import (
    SERIES_MONTHS_MAX,
    SERIES_MONTHS_MIN,
    ActionFacts,
    Change,
    co2_series,
    figures,
)
from bot.services.progress.rules import may_read_history
from storage.models import ActionStatus, Role

C, ON, N = ActionStatus.COMPLETED, ActionStatus.ONGOING, ActionStatus.NOT_STARTED
NOW = datetime(2026, 12, 15, 10, 0, tzinfo=UTC)


def _a(i: int, status: ActionStatus, co2: str | None, comune: int | None = 1) -> ActionFacts:
    return ActionFacts(i, comune, status, 100 if status == C else 20, Decimal(co2) if co2 else None)


def test_who_reads_an_actions_history() -> None:
    def may(role: Role, comuni: tuple[int, ...], action: int | None, coord: bool = False) -> bool:
        return may_read_history(
            coordinator=coord, role=role, municipality_ids=comuni, action_comune=action
        )

    assert may(Role.TECNICO, (1,), 1)
    assert not may(Role.TECNICO, (1,), 2)
    assert may(Role.SINDACO, (2, 3), 3)
    assert not may(Role.SINDACO, (), 3)
    assert may(Role.ASSESSORE, (1,), None)  # intercommunal: everyone
    assert may(Role.STAFF, (), 5)  # Union staff
    assert may(Role.SINDACO, (1,), 9, coord=True)  # the coordinator


def test_figures_count_every_status_and_the_co2_of_completed_actions() -> None:
    f = figures([_a(1, C, "10.5"), _a(2, ON, "4"), _a(3, N, None), _a(4, C, None)])
    assert f.total == 4
    assert [f.count(s) for s in (C, ON, ActionStatus.POSTPONED, N)] == [2, 1, 0, 1]
    assert f.co2_avoided_t == Decimal("10.5") and f.co2_target_t == Decimal("14.5")
    assert f.co2_share == 72
    assert f.average_progress == round((100 + 20 + 20 + 100) / 4)
    empty = figures([])
    assert (empty.total, empty.average_progress, empty.co2_share) == (0, 0, None)


def test_the_co2_curve_follows_completions_month_by_month() -> None:
    actions = [_a(1, C, "10"), _a(2, ON, "5"), _a(3, C, "2")]
    changes = [
        Change(1, datetime(2026, 3, 10, tzinfo=UTC), True),
        Change(2, datetime(2026, 6, 1, tzinfo=UTC), True),
        Change(2, datetime(2026, 9, 30, 23, 30, tzinfo=UTC), False),  # 1 Oct in Rome
    ]
    series = co2_series(actions, changes, now=NOW, timezone="Europe/Rome")
    assert series[0].month == date(2026, 3, 1) and series[-1].month == date(2026, 12, 1)
    by_month = {p.month.month: p.avoided_t for p in series}
    # Action 3 is completed with no recorded change: it counts from the start.
    assert by_month[3] == 12 and by_month[5] == 12
    assert by_month[6] == 17 and by_month[9] == 17
    assert by_month[10] == 12  # action 2 left Completata on 1 October, local time
    assert by_month[12] == 12


def test_the_co2_curve_is_never_too_short_nor_too_long() -> None:
    only_now = co2_series([_a(1, C, "3")], [], now=NOW, timezone="Europe/Rome")
    assert len(only_now) == SERIES_MONTHS_MIN
    assert all(p.avoided_t == 3 for p in only_now)
    old = [Change(1, datetime(2019, 1, 5, tzinfo=UTC), True)]
    long = co2_series([_a(1, C, "3")], old, now=NOW, timezone="Europe/Rome")
    assert len(long) == SERIES_MONTHS_MAX
    assert long[0].avoided_t == 3  # the change before the window still counts
