"""An RFC 5545 calendar invitation (`.ics`) for a meeting, written by hand.

One VEVENT with a stable UID (so re-sending updates the same calendar entry), local start and
end with TZID and the zone's VTIMEZONE (daylight-saving rules included), CRLF line endings,
lines folded at 75 octets without splitting a UTF-8 character, and TEXT values escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

PRODID = "-//Team Energia di Unione//Bot riunioni//IT"
_MAX_OCTETS = 75


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


def escape_text(value: str) -> str:
    """TEXT escaping (RFC 5545 3.3.11): backslash, semicolon, comma, newline."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line at 75 octets (continuations start with a space), UTF-8 safe."""
    data = line.encode("utf-8")
    if len(data) <= _MAX_OCTETS:
        return line
    parts: list[str] = []
    current = ""
    size = 0
    limit = _MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append(current)
            current, size = "", 0
            limit = _MAX_OCTETS - 1  # the leading space of a continuation counts
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def _utc_stamp(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _local_stamp(dt: datetime) -> str:
    return dt.strftime("%Y%m%dT%H%M%S")


def _offset(delta: timedelta | None) -> str:
    minutes = int((delta or timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{mins:02d}"


def _last_sunday(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    day = nxt - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def _follows_eu_rules(tz: ZoneInfo, year: int) -> bool:
    """Summer time from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday
    of October, as in every EU zone (Europe/Rome included)."""
    for month in (3, 10):
        change = datetime.combine(_last_sunday(year, month), datetime.min.time(), UTC)
        change += timedelta(hours=1)
        before = (change - timedelta(minutes=1)).astimezone(tz).utcoffset()
        after = change.astimezone(tz).utcoffset()
        if before == after:
            return False
    return True


def vtimezone(tz_name: str, year: int) -> list[str] | None:
    """The VTIMEZONE lines for a zone, or None when it cannot be described (then UTC is used)."""
    tz = ZoneInfo(tz_name)
    winter = datetime(year, 1, 15, 12, tzinfo=UTC).astimezone(tz)
    summer = datetime(year, 7, 15, 12, tzinfo=UTC).astimezone(tz)
    std, dst = winter.utcoffset(), summer.utcoffset()
    if std == dst:
        return [
            "BEGIN:VTIMEZONE",
            f"TZID:{tz_name}",
            "BEGIN:STANDARD",
            "DTSTART:19700101T000000",
            f"TZOFFSETFROM:{_offset(std)}",
            f"TZOFFSETTO:{_offset(std)}",
            f"TZNAME:{winter.tzname()}",
            "END:STANDARD",
            "END:VTIMEZONE",
        ]
    if not _follows_eu_rules(tz, year):
        return None
    # Local wall times of the changes: 01:00 UTC expressed in the offset in force before it.
    to_dst = (datetime(1970, 3, 29, 1) + (std or timedelta())).strftime("%Y%m%dT%H%M%S")
    to_std = (datetime(1970, 10, 25, 1) + (dst or timedelta())).strftime("%Y%m%dT%H%M%S")
    return [
        "BEGIN:VTIMEZONE",
        f"TZID:{tz_name}",
        f"X-LIC-LOCATION:{tz_name}",
        "BEGIN:DAYLIGHT",
        f"TZOFFSETFROM:{_offset(std)}",
        f"TZOFFSETTO:{_offset(dst)}",
        f"TZNAME:{summer.tzname()}",
        f"DTSTART:{to_dst}",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
        "END:DAYLIGHT",
        "BEGIN:STANDARD",
        f"TZOFFSETFROM:{_offset(dst)}",
        f"TZOFFSETTO:{_offset(std)}",
        f"TZNAME:{winter.tzname()}",
        f"DTSTART:{to_std}",
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
        "END:STANDARD",
        "END:VTIMEZONE",
    ]


def build_ics(event: CalendarEvent, *, stamp: datetime) -> bytes:
    """The whole `.ics` file, UTF-8 with CRLF line endings."""
    tz = ZoneInfo(event.timezone)
    start = event.starts_at.astimezone(tz)
    end = event.ends_at.astimezone(tz)
    zone = vtimezone(event.timezone, start.year)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    if zone is not None:
        lines += zone
    lines += [
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"DTSTAMP:{_utc_stamp(stamp)}",
        f"SEQUENCE:{event.sequence}",
    ]
    if zone is not None:
        lines += [
            f"DTSTART;TZID={event.timezone}:{_local_stamp(start)}",
            f"DTEND;TZID={event.timezone}:{_local_stamp(end)}",
        ]
    else:
        lines += [f"DTSTART:{_utc_stamp(start)}", f"DTEND:{_utc_stamp(end)}"]
    lines.append(f"SUMMARY:{escape_text(event.title)}")
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.url:
        lines.append(f"URL:{event.url.strip()}")
    lines += [
        f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        f"DESCRIPTION:{escape_text(event.title)}",
        "TRIGGER:-PT1H",
        "END:VALARM",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode("utf-8")


def looks_like_url(text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith(("https://", "http://")) and " " not in stripped
