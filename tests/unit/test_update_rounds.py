"""When the monthly round opens, its deadline, its reminders, who has answered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.progress.rules import (
    DEFAULT_SETTINGS,
    Decision,
    MeetingInfo,
    ReminderKind,
    RoundSettings,
    due_reminder,
    has_answered,
    missed_reminders,
    next_pending,
    parse_progress,
    period_of,
    periods_to_check,
    plan_round,
    previous_period,
)

ROME = ZoneInfo("Europe/Rome")


def rome(*args: int) -> datetime:
    return datetime(*args, tzinfo=ROME).astimezone(UTC)  # type: ignore[misc]


def plan(
    now: datetime,
    meetings: list[MeetingInfo] = (),
    settings: RoundSettings = DEFAULT_SETTINGS,
    period: str | None = None,
):  # type: ignore[no-untyped-def, assignment]
    return plan_round(
        period=period or period_of(now, ROME),
        now=now,
        tz=ROME,
        settings=settings,
        meetings=meetings,
    )


def test_round_opens_when_the_meeting_is_fixed_with_deadline_two_days_before() -> None:
    meeting = MeetingInfo(id=7, starts_at=rome(2026, 12, 16, 17, 0))
    p = plan(rome(2026, 12, 3, 9, 0), [meeting])
    assert p.decision == Decision.OPEN and p.meeting_id == 7
    assert p.deadline_at == rome(2026, 12, 14, 17, 0)


def test_without_meeting_it_waits_until_the_20th_at_ten() -> None:
    assert plan(rome(2026, 12, 20, 9, 59)).decision == Decision.WAIT
    p = plan(rome(2026, 12, 20, 10, 0))
    assert p.decision == Decision.OPEN and p.meeting_id is None
    assert p.deadline_at == rome(2026, 12, 25, 10, 0)


def test_a_meeting_of_another_month_does_not_count() -> None:
    other = MeetingInfo(id=1, starts_at=rome(2027, 1, 12, 17, 0))
    assert plan(rome(2026, 12, 5, 9, 0), [other]).decision == Decision.WAIT


def test_a_meeting_whose_deadline_passed_falls_back_to_the_20th() -> None:
    early = MeetingInfo(id=1, starts_at=rome(2026, 12, 3, 17, 0))
    assert plan(rome(2026, 12, 2, 18, 0), [early]).decision == Decision.WAIT
    p = plan(rome(2026, 12, 21, 8, 0), [early])
    assert p.decision == Decision.OPEN and p.meeting_id is None


def test_catch_up_skips_when_the_deadline_passed() -> None:
    assert plan(rome(2026, 12, 25, 10, 0)).decision == Decision.SKIP
    assert plan(rome(2026, 12, 24, 23, 0)).decision == Decision.OPEN


def test_settings_change_the_fallback_and_can_disable() -> None:
    s = RoundSettings(fallback_day=31, fallback_hour=8, fallback_deadline_days=3)
    p = plan(rome(2027, 2, 28, 8, 0), settings=s)  # day capped at the month's end
    assert p.decision == Decision.OPEN and p.deadline_at == rome(2027, 3, 3, 8, 0)
    assert (
        plan(rome(2026, 12, 21, 8, 0), settings=RoundSettings(enabled=False)).decision
        == Decision.WAIT
    )


def test_periods_and_the_previous_month() -> None:
    assert period_of(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), ROME) == "2027-01"
    assert previous_period("2027-01") == "2026-12"
    assert previous_period("2026-03") == "2026-02"
    assert periods_to_check(rome(2027, 1, 2, 9, 0), ROME) == ["2026-12", "2027-01"]


def test_reminders_three_days_after_and_the_day_before() -> None:
    opened, deadline = rome(2026, 12, 20, 10, 0), rome(2026, 12, 25, 10, 0)
    assert (
        due_reminder(now=opened + timedelta(days=2), opened_at=opened, deadline_at=deadline) is None
    )
    assert (
        due_reminder(now=opened + timedelta(days=3), opened_at=opened, deadline_at=deadline)
        == ReminderKind.FIRST
    )
    assert (
        due_reminder(now=deadline - timedelta(hours=23), opened_at=opened, deadline_at=deadline)
        == ReminderKind.LAST
    )
    assert due_reminder(now=deadline, opened_at=opened, deadline_at=deadline) is None


def test_missed_reminders_are_those_passed_and_not_due_now() -> None:
    """A reminder whose moment passed while the bot was down is skipped, never sent late."""
    opened, deadline = rome(2026, 12, 20, 10, 0), rome(2026, 12, 25, 10, 0)

    def missed(now: datetime) -> list[ReminderKind]:
        return missed_reminders(now=now, opened_at=opened, deadline_at=deadline)

    assert missed(rome(2026, 12, 22, 10, 0)) == []
    assert missed(rome(2026, 12, 23, 12, 0)) == []  # the first is due: it goes out
    assert missed(rome(2026, 12, 24, 12, 0)) == [ReminderKind.FIRST]  # superseded by the last
    assert missed(deadline) == [ReminderKind.FIRST, ReminderKind.LAST]
    # A short round has no first reminder to miss.
    short = rome(2026, 12, 10, 10, 0), rome(2026, 12, 12, 17, 0)
    assert missed_reminders(now=short[1], opened_at=short[0], deadline_at=short[1]) == [
        ReminderKind.LAST
    ]


def test_a_short_round_gets_only_the_last_reminder() -> None:
    opened, deadline = rome(2026, 12, 10, 10, 0), rome(2026, 12, 12, 17, 0)
    assert (
        due_reminder(now=rome(2026, 12, 11, 9, 0), opened_at=opened, deadline_at=deadline) is None
    )
    assert (
        due_reminder(now=rome(2026, 12, 11, 18, 0), opened_at=opened, deadline_at=deadline)
        == ReminderKind.LAST
    )
    # Opened less than a day before its deadline: no reminder at all.
    late = rome(2026, 12, 12, 9, 0)
    assert due_reminder(now=rome(2026, 12, 12, 10, 0), opened_at=late, deadline_at=deadline) is None


def test_answered_means_every_action_or_nothing_new() -> None:
    assert has_answered(required=[1, 2], updated=[1, 2, 3], no_news=False)
    assert not has_answered(required=[1, 2], updated=[2], no_news=False)
    assert has_answered(required=[1, 2], updated=[], no_news=True)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("40", 40),
        ("40%", 40),
        (" 40 % ", 40),
        ("40,0", 40),
        ("100", 100),
        ("0", 0),
        ("101", None),
        ("-5", None),
        ("quaranta", None),
        ("", None),
    ],
)
def test_typed_progress(text: str, value: int | None) -> None:
    assert parse_progress(text) == value


def test_next_pending_wraps_and_skips_done() -> None:
    order = [10, 11, 12, 13]
    assert next_pending(order, done=[]) == 10
    assert next_pending(order, done=[10, 11]) == 12
    assert next_pending(order, done=[12], after=11) == 13
    assert next_pending(order, done=[13], after=12) == 10
    assert next_pending(order, done=order) is None
    assert next_pending(order, done=[10, 11, 12], after=13) is None
