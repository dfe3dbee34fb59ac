"""The hand-written .ics, read back with the icalendar library."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar

from bot.services.ics import CalendarEvent, build_ics, escape_text, fold

ROME = ZoneInfo("Europe/Rome")
STAMP = datetime(2026, 12, 1, 8, tzinfo=UTC)


def _event(start: datetime, end: datetime, **kwargs: object) -> CalendarEvent:
    return CalendarEvent(
        uid="meeting-42@team-energia",
        title="Riunione del Team energia, tavolo politico",
        starts_at=start,
        ends_at=end,
        **kwargs,  # type: ignore[arg-type]
    )


def _parse(data: bytes) -> icalendar.Event:
    cal = icalendar.Calendar.from_ical(data)
    events = [c for c in cal.walk() if c.name == "VEVENT"]
    assert len(events) == 1
    return events[0]


def test_local_time_on_both_sides_of_dst() -> None:
    # 27 October 2026 is after the change to winter time, 30 March 2027 after summer time.
    for start_utc, local_hour in (
        (datetime(2026, 10, 27, 16, tzinfo=UTC), 17),
        (datetime(2027, 3, 30, 15, tzinfo=UTC), 17),
        (datetime(2027, 3, 23, 16, tzinfo=UTC), 17),  # before the spring change
    ):
        data = build_ics(_event(start_utc, start_utc.replace(hour=start_utc.hour + 2)), stamp=STAMP)
        event = _parse(data)
        start = event.decoded("DTSTART")
        assert start.tzinfo is not None
        assert start.astimezone(UTC) == start_utc
        assert start.astimezone(ROME).hour == local_hour
        assert event.decoded("DTEND").astimezone(UTC) == start_utc.replace(hour=start_utc.hour + 2)
        assert b"DTSTART;TZID=Europe/Rome:" in data


def test_vtimezone_rules_are_right() -> None:
    data = build_ics(
        _event(datetime(2026, 12, 9, 16, tzinfo=UTC), datetime(2026, 12, 9, 18, tzinfo=UTC)),
        stamp=STAMP,
    )
    cal = icalendar.Calendar.from_ical(data)
    tz = next(c for c in cal.walk() if c.name == "VTIMEZONE")
    assert str(tz["TZID"]) == "Europe/Rome"
    # icalendar turns the VTIMEZONE into a working tzinfo: check it against zoneinfo.
    tzinfo = tz.to_tz()
    for when in (
        datetime(2027, 3, 28, 0, 59),
        datetime(2027, 3, 28, 1, 1),
        datetime(2026, 10, 25, 0, 59),
        datetime(2026, 10, 25, 1, 1),
        datetime(2027, 7, 1),
    ):
        utc = when.replace(tzinfo=UTC)
        assert utc.astimezone(tzinfo).utcoffset() == utc.astimezone(ROME).utcoffset(), when


def test_fields_escaping_and_uid() -> None:
    data = build_ics(
        _event(
            datetime(2026, 12, 9, 16, tzinfo=UTC),
            datetime(2026, 12, 9, 18, tzinfo=UTC),
            location="Sala consiliare, piazza Garibaldi 1; Castel Maggiore",
            description="1. PAES: stato delle azioni\n2. Varie, eventuali \\ altro",
            url="https://meet.example.org/team-energia",
        ),
        stamp=STAMP,
    )
    event = _parse(data)
    assert str(event["UID"]) == "meeting-42@team-energia"
    assert str(event["LOCATION"]) == "Sala consiliare, piazza Garibaldi 1; Castel Maggiore"
    assert str(event["DESCRIPTION"]) == "1. PAES: stato delle azioni\n2. Varie, eventuali \\ altro"
    assert str(event["SUMMARY"]) == "Riunione del Team energia, tavolo politico"
    assert str(event["URL"]) == "https://meet.example.org/team-energia"
    assert event.decoded("DTSTAMP") == STAMP


def test_crlf_and_folding() -> None:
    long_title = "Riunione sull'efficienza energetica degli edifici pubblici — àèìòù " * 4
    data = build_ics(
        _event(
            datetime(2026, 12, 9, 16, tzinfo=UTC), datetime(2026, 12, 9, 18, tzinfo=UTC)
        ).__class__(
            uid="x@y",
            title=long_title,
            starts_at=datetime(2026, 12, 9, 16, tzinfo=UTC),
            ends_at=datetime(2026, 12, 9, 18, tzinfo=UTC),
        ),
        stamp=STAMP,
    )
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    for line in data.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # never a broken character
    assert str(_parse(data)["SUMMARY"]) == long_title


def test_fold_and_escape_units() -> None:
    assert fold("A" * 75) == "A" * 75
    folded = fold("B" * 200)
    assert all(len(p.encode()) <= 75 for p in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == "B" * 200
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_other_zone_without_eu_rules_falls_back_to_utc() -> None:
    data = build_ics(
        CalendarEvent(
            uid="u@x",
            title="t",
            starts_at=datetime(2026, 12, 9, 16, tzinfo=UTC),
            ends_at=datetime(2026, 12, 9, 18, tzinfo=UTC),
            timezone="America/New_York",
        ),
        stamp=STAMP,
    )
    assert _parse(data).decoded("DTSTART") == datetime(2026, 12, 9, 16, tzinfo=UTC)
