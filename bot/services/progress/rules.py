"""Progress's pure rules: the monthly update round (when it opens, its deadline, its reminders,
who has answered), the technician's dialogue (the next action, a typed percentage), and who may
read or change an action (its history, its fields, its progress).

The round: plain functions of "now", the Union's time zone, its settings and its fixed
meetings. The rule (docs/DESIGN.md, "The monthly cycle"): the round opens as soon as the month's
meeting is fixed, with its deadline some days before the meeting; with no usable meeting it
opens on the fallback day (20th, 10:00) with a fallback deadline (5 days). Missed work is caught
up only while the deadline is still ahead.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.i18n import N_
from bot.services import action_import as importer
from storage.models import Role

FIRST_REMINDER_AFTER = timedelta(days=3)
LAST_REMINDER_BEFORE = timedelta(days=1)
PROGRESS_CHOICES = (0, 25, 50, 75, 100)


@dataclass(frozen=True)
class RoundSettings:
    enabled: bool = True
    fallback_day: int = 20
    fallback_hour: int = 10
    fallback_deadline_days: int = 5
    deadline_days_before_meeting: int = 2


DEFAULT_SETTINGS = RoundSettings()


@dataclass(frozen=True)
class MeetingInfo:
    id: int
    starts_at: datetime  # aware UTC


class Decision(StrEnum):
    OPEN = "open"
    WAIT = "wait"  # not due yet
    SKIP = "skip"  # its deadline passed while nobody opened it


@dataclass(frozen=True)
class RoundPlan:
    decision: Decision
    period: str
    deadline_at: datetime | None = None
    meeting_id: int | None = None


def period_of(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.year:04d}-{local.month:02d}"


def previous_period(period: str) -> str:
    year, month = (int(x) for x in period.split("-"))
    return f"{year - (month == 1):04d}-{(month - 2) % 12 + 1:02d}"


def month_bounds(period: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The month as [start, end) in aware datetimes of the Union's zone."""
    year, month = (int(x) for x in period.split("-"))
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end


def fallback_opening(period: str, tz: ZoneInfo, settings: RoundSettings) -> datetime:
    year, month = (int(x) for x in period.split("-"))
    day = min(max(settings.fallback_day, 1), calendar.monthrange(year, month)[1])
    hour = min(max(settings.fallback_hour, 0), 23)
    return datetime(year, month, day, hour, tzinfo=tz)


def plan_round(
    *,
    period: str,
    now: datetime,
    tz: ZoneInfo,
    settings: RoundSettings,
    meetings: Iterable[MeetingInfo],
) -> RoundPlan:
    """What to do about `period`'s round (assuming none exists yet)."""
    if not settings.enabled:
        return RoundPlan(Decision.WAIT, period)
    start, end = month_bounds(period, tz)
    in_month = sorted(
        (m for m in meetings if start <= m.starts_at.astimezone(tz) < end),
        key=lambda m: m.starts_at,
    )
    before = timedelta(days=max(settings.deadline_days_before_meeting, 0))
    for meeting in in_month:
        deadline = meeting.starts_at - before
        if deadline > now:
            return RoundPlan(Decision.OPEN, period, deadline, meeting.id)
    opening = fallback_opening(period, tz, settings)
    if now < opening:
        return RoundPlan(Decision.WAIT, period)
    deadline = opening + timedelta(days=max(settings.fallback_deadline_days, 1))
    if deadline > now:
        return RoundPlan(Decision.OPEN, period, deadline, None)
    return RoundPlan(Decision.SKIP, period, deadline, None)


def periods_to_check(now: datetime, tz: ZoneInfo) -> list[str]:
    """Last month's round may still be catchable (a late fallback deadline), then this month's."""
    current = period_of(now, tz)
    return [previous_period(current), current]


class ReminderKind(StrEnum):
    FIRST = "r1"  # three days after opening
    LAST = "r2"  # the day before the deadline


def due_reminder(
    *, now: datetime, opened_at: datetime, deadline_at: datetime
) -> ReminderKind | None:
    """The reminder due now, if any. The last one supersedes a first one not yet sent."""
    if now >= deadline_at:
        return None
    last_at = deadline_at - LAST_REMINDER_BEFORE
    first_at = opened_at + FIRST_REMINDER_AFTER
    if now >= last_at and last_at > opened_at:
        return ReminderKind.LAST
    if now >= first_at and first_at < last_at:
        return ReminderKind.FIRST
    return None


def missed_reminders(
    *, now: datetime, opened_at: datetime, deadline_at: datetime
) -> list[ReminderKind]:
    """Reminders whose moment has passed and that are not the one due now: if the bot never
    sent them (it was down), they are skipped, not sent late. A first reminder missed until
    the last one is due is superseded by it; at the deadline both are over."""
    due = due_reminder(now=now, opened_at=opened_at, deadline_at=deadline_at)
    last_at = deadline_at - LAST_REMINDER_BEFORE
    first_at = opened_at + FIRST_REMINDER_AFTER
    moments = []
    if first_at < last_at and first_at < deadline_at:
        moments.append((ReminderKind.FIRST, first_at))
    if last_at > opened_at:
        moments.append((ReminderKind.LAST, last_at))
    return [kind for kind, at in moments if at <= now and kind != due]


def has_answered(*, required: Iterable[int], updated: Iterable[int], no_news: bool) -> bool:
    """A technician has answered when every one of their actions moved this round, or 'nothing new'."""
    return no_news or set(required) <= set(updated)


_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_typed(text: str) -> str:
    """A typed note or question as stored: control characters (NUL, which PostgreSQL refuses in
    text, and the like) dropped; lines and tabs kept."""
    return _CONTROLS.sub("", text)


_PROGRESS = re.compile(r"^\s*(\d{1,3})(?:[.,]0+)?\s*%?\s*$")


def parse_progress(text: str) -> int | None:
    """'40', '40%', '40,0 %' → 40; anything else, or beyond 0–100 → None."""
    m = _PROGRESS.match(text)
    if not m:
        return None
    value = int(m.group(1))
    return value if 0 <= value <= 100 else None


def next_pending(
    order: Sequence[int], *, done: Iterable[int], after: int | None = None
) -> int | None:
    """The next action to ask about: after `after` in list order, skipping those already done."""
    done_set = set(done)
    start = order.index(after) + 1 if after in order else 0
    for action_id in [*order[start:], *order[:start]]:
        if action_id not in done_set and action_id != after:
            return action_id
    return None


# --- who may read or change an action -----------------------------------------------------------


def may_read_history(
    *, coordinator: bool, role: Role, municipality_ids: Iterable[int], action_comune: int | None
) -> bool:
    """docs/AUTHORIZATION.md: an action's history (updates, notes, photos) is for the coordinator,
    for its Comune's people and the Union's staff; an intercommunal action's for every member.
    /azioni's «Storico» button and the dashboard's action page both ask this."""
    if coordinator or action_comune is None or role == Role.STAFF:
        return True
    return action_comune in set(municipality_ids)


def may_report(*, role: Role, coordinator: bool) -> bool:
    """Progress is given by the technicians; the coordinator gives it too (the intercommunal
    actions are theirs to report)."""
    return role == Role.TECNICO or coordinator


class ActionPlace(Protocol):
    """What `may_update` reads of an action: an `Action`, or the dialogue's plain copy of one."""

    @property
    def union_id(self) -> int: ...
    @property
    def municipality_id(self) -> int | None: ...
    @property
    def archived_at(self) -> datetime | None: ...


def may_update(
    *,
    role: Role,
    coordinator: bool,
    union_id: int,
    municipality_ids: Iterable[int],
    action: ActionPlace,
) -> bool:
    """Whether this member may give this action's progress: an open action of their Union, of
    one of their Comuni (a technician) or intercommunal."""
    if action.archived_at is not None or action.union_id != union_id:
        return False
    if coordinator or action.municipality_id is None:
        return may_report(role=role, coordinator=coordinator)
    return role == Role.TECNICO and action.municipality_id in set(municipality_ids)


# --- the coordinator's typed edits --------------------------------------------------------------

EDIT_FIELD_KEYS = (
    "title",
    "sector",
    "responsible",
    "start_on",
    "end_on",
    "energy_saved_mwh",
    "renewable_mwh",
    "co2_avoided_t",
    "cost_eur",
)
MAX_CODE = 32
MAX_TITLE = 300


def parse_field(field: str, text: str) -> tuple[str | None, Any]:
    """(error message template, value) for one typed field, with the importer's rules."""
    empty = text in ("-", "—")
    if field == "title":
        if empty:
            return N_("Il titolo non può essere vuoto."), None
        return (N_("Troppo lungo (massimo 300 caratteri).") if len(text) > 300 else None), text
    if field in ("sector", "responsible"):
        limit = 120 if field == "sector" else 200
        if len(text) > limit:
            return N_("Troppo lungo."), None
        return None, None if empty else text
    if field in ("start_on", "end_on"):
        if empty:
            return None, None
        try:
            return None, importer.parse_date(text, end=field == "end_on")
        except ValueError:
            return importer.E_BAD_DATE, None
    if empty:
        return None, None
    places = 2 if field == "cost_eur" else 3
    try:
        value: Decimal | None = importer.parse_decimal(text, places)
    except (ValueError, ArithmeticError):
        return importer.E_BAD_NUMBER, None
    if value is not None and value < 0:
        return importer.E_NEGATIVE, None
    return None, value
