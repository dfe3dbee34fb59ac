"""An RFC 5545 calendar invitation (`.ics`) for a meeting, written with the `icalendar` library.

One VEVENT with a stable UID (so re-sending updates the same calendar entry), local start and
end with TZID and the zone's VTIMEZONE (daylight-saving changes included), CRLF line endings.
The library writes every content line: TEXT values (title, place, agenda) are escaped
(`\\`, `;`, `,`, newlines) and lines folded at 75 octets without splitting a UTF-8 character, so
no text a user typed can end a line and start a property or a component of its own (issue 14:
a place "https://…\\nATTENDEE:…" once added an attendee, a second DTSTART and a second event).
A URL is written only when the place is one plain web address; the library refuses a URI with a
line break in any case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import icalendar

PRODID = "-//Team Energia di Unione//Bot riunioni//IT"

# One web address, nothing else: no whitespace, no control character (C0, DEL, C1), no
# Unicode line or paragraph separator.
_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f-\x9f\u2028\u2029]+", re.IGNORECASE)


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    title: str
    starts_at: datetime  # aware
    ends_at: datetime  # aware
    timezone: str = "Europe/Rome"
    description: str | None = None
    location: str | None = None
    url: str | None = None
    sequence: int = 0
    cancelled: bool = False


def _vtimezone(tz_name: str, start: datetime, end: datetime) -> icalendar.Timezone:
    """The zone's rules from the start of the meeting's year to two years after its end: enough
    for any calendar to place it, without 70 years of transitions in every invitation."""
    import icalendar  # on first use: see build_ics

    return icalendar.Timezone.from_tzid(
        tz_name,
        first_date=date(start.year, 1, 1),
        last_date=date(end.year + 2, 1, 1),
    )


def build_ics(event: CalendarEvent, *, stamp: datetime) -> bytes:
    """The whole `.ics` file, UTF-8 with CRLF line endings.

    `icalendar` (with `dateutil` and `ctypes`, ≈ 3 MB) is imported here, when the first
    invitation is written, not at the bot's start (bench/README.md, «Session 10 — memory»)."""
    import icalendar

    tz = ZoneInfo(event.timezone)
    start = event.starts_at.astimezone(tz)
    end = event.ends_at.astimezone(tz)

    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add_component(_vtimezone(event.timezone, start, end))

    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", stamp.astimezone(UTC))
    vevent.add("sequence", event.sequence)
    vevent.add("dtstart", start)  # a zoneinfo datetime: written with TZID=<zone>
    vevent.add("dtend", end)
    vevent.add("summary", event.title)
    if event.location:
        vevent.add("location", event.location)
    if event.description:
        vevent.add("description", event.description)
    if event.url and looks_like_url(event.url):
        vevent.add("url", event.url.strip())
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    vevent.add("transp", "OPAQUE")

    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", event.title)
    alarm.add("trigger", timedelta(hours=-1))
    vevent.add_component(alarm)
    cal.add_component(vevent)
    return cal.to_ical()


def looks_like_url(text: str) -> bool:
    """True when the text is one web address and nothing else (what goes into URL)."""
    return _URL.fullmatch(text.strip()) is not None
