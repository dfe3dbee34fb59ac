"""The attendance's pure rules (bot.services.meetings.attendance): the check-in window, the
Comuni represented (the polls' coverage rule), the coordinator's one tap, the roster link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.services.meetings.attendance import (
    CHECK_IN_OPENS_BEFORE,
    LINK_MATERIALS,
    LINK_ROSTER,
    check_in_window,
    may_be_workshop,
    next_mode,
    parse_start_link,
    represented,
    start_link,
)
from bot.services.meetings.rules import Voter
from storage.models import AttendanceMode, PollTable

ROME = ZoneInfo("Europe/Rome")


def test_the_window_opens_half_an_hour_before_and_closes_at_local_midnight() -> None:
    starts = datetime(2026, 12, 10, 16, 0, tzinfo=UTC)  # 17:00 in Rome
    opens, closes = check_in_window(starts_at=starts, ends_at=starts + timedelta(hours=2), tz=ROME)
    assert timedelta(minutes=30) == CHECK_IN_OPENS_BEFORE
    assert opens == datetime(2026, 12, 10, 15, 30, tzinfo=UTC)
    assert closes == datetime(2026, 12, 10, 23, 0, tzinfo=UTC)  # midnight in Rome


def test_a_meeting_past_midnight_closes_at_its_end() -> None:
    starts = datetime(2026, 12, 10, 21, 0, tzinfo=UTC)  # 22:00 in Rome
    ends = starts + timedelta(hours=3)
    assert check_in_window(starts_at=starts, ends_at=ends, tz=ROME)[1] == ends


def test_a_summer_meeting_closes_at_its_own_midnight() -> None:
    starts = datetime(2026, 7, 1, 15, 0, tzinfo=UTC)
    closes = check_in_window(starts_at=starts, ends_at=starts + timedelta(hours=1), tz=ROME)[1]
    assert closes == datetime(2026, 7, 1, 22, 0, tzinfo=UTC)  # CEST


def test_comuni_represented_as_the_coverage_rule_counts_them() -> None:
    voters = {
        1: Voter(1, (10,)),
        2: Voter(2, (10,)),
        3: Voter(3, (20, 30)),  # one person for two Comuni
        4: Voter(4, ()),  # the coordinator, of no Comune
    }
    starts = datetime(2026, 12, 10, 16, 0, tzinfo=UTC)
    assert represented(starts_at=starts, present=[], voters=voters) == frozenset()
    assert represented(starts_at=starts, present=[1, 2], voters=voters) == {10}
    assert represented(starts_at=starts, present=[3, 4], voters=voters) == {20, 30}
    # someone no longer at the table counts for nothing
    assert represented(starts_at=starts, present=[99], voters=voters) == frozenset()


def test_one_tap_cycles_absent_in_person_online() -> None:
    assert next_mode(None) == AttendanceMode.IN_PERSON
    assert next_mode(AttendanceMode.IN_PERSON) == AttendanceMode.ONLINE
    assert next_mode(AttendanceMode.ONLINE) is None


def test_the_start_links_are_strict() -> None:
    assert start_link(LINK_ROSTER, 42) == "pr-42"
    assert start_link(LINK_MATERIALS, 42) == "pm-42"
    assert parse_start_link("pr-42") == ("pr", 42)
    assert parse_start_link("pm-42") == ("pm", 42)
    for payload in ("pr-0", "pr-1234567890", "mg-42", "pr-42x", None, ""):
        assert parse_start_link(payload) is None


def test_a_workshop_is_the_technical_tables() -> None:
    assert may_be_workshop(PollTable.TECHNICAL) and may_be_workshop(PollTable.BOTH)
    assert not may_be_workshop(PollTable.POLITICAL)
