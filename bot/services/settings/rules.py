"""The settings' pure rules: what each +/− button may reach, the weekdays, the PAES date."""

from __future__ import annotations

import re
from datetime import date

# What a button does to its field (its data's last part): a step up or down, on/off, nothing.
from bot.views.settings import DOWN, UP

# field → (minimum, maximum, step) for the +/− buttons
MEETING_RANGES = {
    "auto_poll_day": (1, 28, 1),
    "auto_poll_hour": (0, 23, 1),
    "slot_hour": (7, 21, 1),
    "duration_minutes": (30, 480, 30),
    "deadline_days": (1, 14, 1),
}
MEETING_TOGGLES = ("auto_poll_enabled", "remind_day_before", "remind_hour_before")
UPDATE_RANGES = {
    "fallback_day": (1, 28, 1),
    "fallback_hour": (0, 23, 1),
    "fallback_deadline_days": (1, 14, 1),
    "deadline_days_before_meeting": (1, 7, 1),
}
UPDATE_TOGGLES = ("enabled",)
# A field's short code in a button's data: the data stays well under 64 bytes.
FIELD_CODES = {
    "ae": "auto_poll_enabled",
    "ad": "auto_poll_day",
    "ah": "auto_poll_hour",
    "sh": "slot_hour",
    "du": "duration_minutes",
    "dd": "deadline_days",
    "r1": "remind_day_before",
    "r2": "remind_hour_before",
    "ue": "enabled",
    "fd": "fallback_day",
    "fh": "fallback_hour",
    "fl": "fallback_deadline_days",
    "db": "deadline_days_before_meeting",
}
EARLIEST_PAES = date(1990, 1, 1)


def step_value(value: int, op: str, bounds: tuple[int, int, int]) -> int:
    low, high, step = bounds
    if op == UP:
        return min(high, value + step)
    if op == DOWN:
        return max(low, value - step)
    return value


def toggle_weekday(weekdays: str, day: int) -> str:
    chosen = {int(x) for x in weekdays.split(",") if x.strip().isdigit()}
    chosen ^= {day}
    if not chosen:
        chosen = {day}  # at least one day to propose
    return ",".join(str(d) for d in sorted(chosen))


def parse_italian_date(text: str) -> date | None:
    """'15/3/2024', '15-03-2024', '15.03.2024' or '2024-03-15'."""
    text = text.strip()
    match = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})", text)
    try:
        if match:
            return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
        if match:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
    return None


def paes_date(text: str, today: date) -> date | None:
    """The PAES approval date as written, when it is one: not before 1990, not in the future."""
    day = parse_italian_date(text)
    return day if day is not None and EARLIEST_PAES <= day <= today else None
