"""Daylight-saving changes in Europe/Rome: local schedules fire once, at the right instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.clock import FakeClock
from bot.localtime import exists, local_to_utc
from storage.db import Database
from storage.repositories import core as core_repo

ROME = ZoneInfo("Europe/Rome")
SPRING = date(2026, 3, 29)  # 02:00 CET → 03:00 CEST
AUTUMN = date(2026, 10, 25)  # 03:00 CEST → 02:00 CET


@pytest.mark.parametrize(
    ("day", "at", "expected_utc"),
    [
        (date(2026, 3, 28), time(9, 0), datetime(2026, 3, 28, 8, 0, tzinfo=UTC)),  # CET
        (SPRING, time(1, 59), datetime(2026, 3, 29, 0, 59, tzinfo=UTC)),
        (SPRING, time(2, 30), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),  # gap: 03:30 CEST
        (SPRING, time(3, 0), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
        (SPRING, time(9, 0), datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),  # CEST
        (AUTUMN, time(1, 30), datetime(2026, 10, 24, 23, 30, tzinfo=UTC)),
        (AUTUMN, time(2, 30), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),  # first of two
        (AUTUMN, time(3, 0), datetime(2026, 10, 25, 2, 0, tzinfo=UTC)),
        (AUTUMN, time(9, 0), datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),  # CET
        (date(2026, 10, 26), time(9, 0), datetime(2026, 10, 26, 8, 0, tzinfo=UTC)),
    ],
)
def test_local_to_utc_around_the_changes(day: date, at: time, expected_utc: datetime) -> None:
    assert local_to_utc(day, at, ROME) == expected_utc


def test_the_skipped_hour_does_not_exist_and_the_repeated_one_does() -> None:
    assert not exists(SPRING, time(2, 30), ROME)
    assert exists(SPRING, time(3, 30), ROME)
    assert exists(AUTUMN, time(2, 30), ROME)
    # What a wall clock shows at the computed instant.
    assert local_to_utc(SPRING, time(2, 30), ROME).astimezone(ROME).time() == time(3, 30)


@given(
    day=st.dates(min_value=date(2024, 1, 1), max_value=date(2035, 12, 31)),
    at=st.times(),
)
def test_local_to_utc_round_trips_every_existing_wall_time(day: date, at: time) -> None:
    instant = local_to_utc(day, at, ROME)
    assert instant.tzinfo is UTC
    back = instant.astimezone(ROME)
    if exists(day, at, ROME):
        assert (back.date(), back.time()) == (day, at.replace(fold=0))
    else:  # moved forward by the gap, never backwards, never by more than an hour
        skipped = datetime.combine(day, at)
        assert timedelta(0) < back.replace(tzinfo=None) - skipped <= timedelta(hours=1)


@pytest.mark.parametrize("day", [SPRING, AUTUMN], ids=["march", "october"])
@pytest.mark.parametrize("at", [time(2, 30), time(9, 0)], ids=["0230", "0900"])
async def test_a_daily_schedule_fires_once_through_the_change(
    sqlite_db: Database, day: date, at: time
) -> None:
    """A due-work written as features will write it: every tick (here each 5 minutes of UTC time),
    compute today's local slot with local_to_utc, and claim (job, Union, local date) once it
    is due. Through the night of the change it fires exactly once a day, at the right instant."""
    clock = FakeClock(datetime.combine(day - timedelta(days=1), time(0, 0), tzinfo=ROME))
    fired: list[datetime] = []
    end = datetime.combine(day + timedelta(days=2), time(0, 0), tzinfo=ROME).astimezone(UTC)
    while clock.now() < end:
        now = clock.now()
        local_day = now.astimezone(ROME).date()
        due_at = local_to_utc(local_day, at, ROME)
        if now >= due_at:
            async with sqlite_db.transaction() as session:
                if await core_repo.claim(
                    session, kind="daily", union_id=1, period=local_day.isoformat(), now=now
                ):
                    fired.append(now)
        clock.advance(minutes=5)
    expected = [local_to_utc(day + timedelta(days=n), at, ROME) for n in (-1, 0, 1)]
    assert fired == expected
    # The day of the change fires at the wall time people expect (03:30 in the spring gap).
    shown = fired[1].astimezone(ROME).time()
    assert shown == (time(3, 30) if (day, at) == (SPRING, time(2, 30)) else at)
