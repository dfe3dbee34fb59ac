"""Local wall time ↔ UTC for schedules, safe across daylight-saving changes.

The tick runs on UTC; people think in Rome's wall time ("the 1st of the month at 09:00").
`local_to_utc` turns a wall time on a day into the UTC instant it means:

- in the spring gap (Europe/Rome, last Sunday of March, 02:00–03:00 does not exist) the time is
  moved forward by the gap (02:30 → 03:30 CEST), as a wall clock would;
- in the autumn overlap (last Sunday of October, 02:00–03:00 happens twice) the first
  occurrence (still CEST) is meant, so a schedule fires once, not twice.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo


def local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall time `at` on `day` in `tz` (see the module docstring).

    PEP 495 semantics with fold=0 give exactly these rules: a time in a gap is read with the
    offset before the change (02:30 CET = 01:30 UTC = 03:30 CEST) and an ambiguous time is
    its first occurrence.
    """
    local = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=tz)
    return local.astimezone(UTC)


def exists(day: date, at: time, tz: ZoneInfo) -> bool:
    """False for a wall time skipped by a spring change (e.g. 02:30 on 29 March 2026 in Rome)."""
    local = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=tz)
    return local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local.replace(tzinfo=None)
