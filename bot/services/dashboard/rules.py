"""Pure rules of the dashboard: the figures by Comune, the CO₂ avoided month by month. Plain data
in and out: tested without a database. Who reads an action's history is /azioni's rule
(bot.services.progress.rules.may_read_history)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.views.dashboard.model import STATUS_ORDER, Co2Point, Figures
from storage.models import ActionStatus

# How far back the CO₂ curve goes, at most (months), and how short it may be.
SERIES_MONTHS_MAX = 36
SERIES_MONTHS_MIN = 6


@dataclass(frozen=True)
class ActionFacts:
    """What the figures need of an action."""

    id: int
    municipality_id: int | None
    status: ActionStatus
    progress: int
    co2_avoided_t: Decimal | None


def figures(actions: Iterable[ActionFacts]) -> Figures:
    items = list(actions)
    counts = {s: 0 for s in STATUS_ORDER}
    avoided = target = Decimal(0)
    for a in items:
        counts[a.status] += 1
        co2 = a.co2_avoided_t or Decimal(0)
        target += co2
        if a.status == ActionStatus.COMPLETED:
            avoided += co2
    average = round(sum(a.progress for a in items) / len(items)) if items else 0
    return Figures(
        total=len(items),
        by_status=tuple((s, counts[s]) for s in STATUS_ORDER),
        average_progress=average,
        co2_avoided_t=avoided,
        co2_target_t=target,
    )


def figures_by_comune(actions: Iterable[ActionFacts]) -> dict[int | None, Figures]:
    """Figures per Comune id (None: the intercommunal actions)."""
    groups: dict[int | None, list[ActionFacts]] = {}
    for a in actions:
        groups.setdefault(a.municipality_id, []).append(a)
    return {comune: figures(items) for comune, items in groups.items()}


@dataclass(frozen=True)
class Change:
    action_id: int
    at: datetime
    completed: bool  # True: became Completata; False: left it


def _month(day: date) -> date:
    return day.replace(day=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def co2_series(
    actions: Sequence[ActionFacts], changes: Sequence[Change], *, now: datetime, timezone: str
) -> list[Co2Point]:
    """The CO₂ avoided by completed actions at the end of each month, oldest first, from the
    month of the first completion (at most SERIES_MONTHS_MAX back, at least SERIES_MONTHS_MIN
    months shown) to the current month.

    An action counts from the update that made it Completata until one that took it back. An
    action that is Completata without any such update (its history began elsewhere) counts
    from the start. `changes` must be oldest first.
    """
    tz = ZoneInfo(timezone)
    co2 = {a.id: a.co2_avoided_t or Decimal(0) for a in actions}
    first_change: dict[int, bool] = {}
    for c in changes:
        first_change.setdefault(c.action_id, c.completed)
    # The state before any change: the opposite of its first change, else what it is now.
    done = {
        a.id
        for a in actions
        if (not first_change[a.id] if a.id in first_change else a.status == ActionStatus.COMPLETED)
    }
    this_month = _month(now.astimezone(tz).date())
    first = _month(changes[0].at.astimezone(tz).date()) if changes else this_month
    start = max(first, _add_months(this_month, -(SERIES_MONTHS_MAX - 1)))
    start = min(start, _add_months(this_month, -(SERIES_MONTHS_MIN - 1)))
    points: list[Co2Point] = []
    pending = [c for c in changes if c.action_id in co2]
    i = 0
    month = start
    while month <= this_month:
        end = _add_months(month, 1)
        while i < len(pending) and pending[i].at.astimezone(tz).date() < end:
            change = pending[i]
            if change.completed:
                done.add(change.action_id)
            else:
                done.discard(change.action_id)
            i += 1
        points.append(Co2Point(month, sum((co2[a] for a in done), Decimal(0))))
        month = end
    return points


def page_count(total: int, size: int) -> int:
    return max(1, (total + size - 1) // size)
