"""The .ics the bot sends, written with the icalendar library and read back: escaping, folding,
time zones, and text that tries to break out of its property (issue 14)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar

from bot.services.ics import CalendarEvent, build_ics, looks_like_url

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


def _unfolded_lines(data: bytes) -> list[str]:
    return data.decode("utf-8").replace("\r\n ", "").split("\r\n")


def test_special_characters_are_escaped_on_the_wire() -> None:
    data = build_ics(
        _event(
            datetime(2026, 12, 9, 16, tzinfo=UTC),
            datetime(2026, 12, 9, 18, tzinfo=UTC),
            location="Sala A; piano 1, Comune\\Unione",
            description="riga uno\r\nriga due\rriga tre\nfine",
        ),
        stamp=STAMP,
    )
    lines = _unfolded_lines(data)
    assert "LOCATION:Sala A\\; piano 1\\, Comune\\\\Unione" in lines
    assert "DESCRIPTION:riga uno\\nriga due\\nriga tre\\nfine" in lines
    event = _parse(data)
    assert str(event["LOCATION"]) == "Sala A; piano 1, Comune\\Unione"
    assert str(event["DESCRIPTION"]).splitlines() == ["riga uno", "riga due", "riga tre", "fine"]


def test_long_lines_fold_at_75_octets_without_breaking_characters() -> None:
    agenda = "Punto sull'illuminazione pubblica a LED: è già più che a metà, ò " * 20
    data = build_ics(
        _event(
            datetime(2026, 12, 9, 16, tzinfo=UTC),
            datetime(2026, 12, 9, 18, tzinfo=UTC),
            description=agenda,
            location="Palazzo municipale — Sala consiliare «Enrico Berlinguer», " * 3,
        ),
        stamp=STAMP,
    )
    raw_lines = data.split(b"\r\n")
    assert max(len(line) for line in raw_lines) <= 75
    assert any(line.startswith(b" ") for line in raw_lines)  # folded, really
    for line in raw_lines:
        line.decode("utf-8")  # a fold never splits a character
    assert str(_parse(data)["DESCRIPTION"]) == agenda


def test_a_place_that_tries_to_add_properties_and_events_stays_text() -> None:
    place = (
        "https://meet.example.org/x\r\n"
        "ATTENDEE;CN=Mallory:mailto:mallory@example.org\n"
        "DTSTART:20200101T000000Z\r"
        "END:VEVENT\u2028BEGIN:VEVENT\n"
        "SUMMARY:Falso"
    )
    data = build_ics(
        _event(
            datetime(2026, 12, 9, 16, tzinfo=UTC),
            datetime(2026, 12, 9, 18, tzinfo=UTC),
            location=place,
            url=place,  # not one address: left out
            description=place,
        ),
        stamp=STAMP,
    )
    cal = icalendar.Calendar.from_ical(data)
    events = [c for c in cal.walk() if c.name == "VEVENT"]
    assert len(events) == 1
    event = events[0]
    assert "ATTENDEE" not in event and "URL" not in event
    assert len([line for line in _unfolded_lines(data) if line.startswith("DTSTART;")]) == 1
    assert str(event["SUMMARY"]) == "Riunione del Team energia, tavolo politico"
    assert "ATTENDEE;CN=Mallory:mailto:mallory@example.org" in str(event["LOCATION"])
    assert str(event["LOCATION"]).startswith("https://meet.example.org/x")


def test_looks_like_url_is_one_address_only() -> None:
    assert looks_like_url("https://meet.jit.si/team-energia")
    assert looks_like_url("  HTTP://example.org/a?b=c&d=e  ")
    for not_one in (
        "https://x.org/a b",
        "https://x.org\nATTENDEE:mailto:a@b",
        "https://x.org\u2028x",
        "https://x.org\x85x",
        "https://x.org\x0bx",
        "Sala consiliare",
        "ftp://x.org",
        "https://",
    ):
        assert not looks_like_url(not_one), not_one


def test_cancelled_meeting_and_alarm() -> None:
    data = build_ics(
        _event(
            datetime(2026, 12, 9, 16, tzinfo=UTC),
            datetime(2026, 12, 9, 18, tzinfo=UTC),
            cancelled=True,
            sequence=2,
        ),
        stamp=STAMP,
    )
    event = _parse(data)
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 2
    alarm = next(c for c in event.walk() if c.name == "VALARM")
    assert alarm.decoded("TRIGGER") == -timedelta(hours=1)


def test_other_zones_keep_their_local_time() -> None:
    for zone, local in (("America/New_York", 11), ("Asia/Kolkata", 21), ("UTC", 16)):
        data = build_ics(
            CalendarEvent(
                uid="u@x",
                title="t",
                starts_at=datetime(2026, 12, 9, 16, tzinfo=UTC),
                ends_at=datetime(2026, 12, 9, 18, tzinfo=UTC),
                timezone=zone,
            ),
            stamp=STAMP,
        )
        start = _parse(data).decoded("DTSTART")
        assert start == datetime(2026, 12, 9, 16, tzinfo=UTC), zone
        assert start.astimezone(ZoneInfo(zone)).hour == local
