"""Property-based tests for the parsers the other unit tests do not already fuzz: callback
data, message splitting, the PAES approval date, iCalendar text. (Italian dates, the action
importer, names and invite tokens have theirs in their own test files.)"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

import icalendar
from hypothesis import given
from hypothesis import strategies as st

from bot import callback_data as cb
from bot.services.ics import CalendarEvent, build_ics
from bot.services.settings import parse_italian_date
from bot.views.html_split import plain_text, split_sections, telegram_length
from tests.fakes.tg_html import parse_html

PART = st.from_regex(r"[A-Za-z0-9_.\-]{1,12}", fullmatch=True)


@given(st.text(max_size=200))
def test_callback_decode_never_raises(data: str) -> None:
    decoded = cb.decode(data)
    if decoded is not None:
        assert len(data.encode("utf-8")) <= cb.MAX_BYTES
        assert ":".join([decoded.area, decoded.action, *decoded.args]) == data
        for i in range(len(decoded.args) + 1):
            value = decoded.int_arg(i)
            assert value is None or value == int(decoded.args[i]) >= 0


# Ids fit the databases' integers (callback_data.int_arg refuses larger numbers as garbage).
@given(PART, PART, st.lists(st.one_of(PART, st.integers(0, cb.MAX_ID)), max_size=4))
def test_callback_round_trip(area: str, action: str, args: list[object]) -> None:
    try:
        data = cb.encode(area, action, *args)
    except cb.CallbackDataError:
        assert len(":".join([area, action, *map(str, args)]).encode()) > cb.MAX_BYTES
        return
    decoded = cb.decode(data)
    assert decoded is not None
    assert (decoded.area, decoded.action) == (area, action)
    assert decoded.args == tuple(str(a) for a in args)
    for i, arg in enumerate(args):
        if isinstance(arg, int):
            assert decoded.int_arg(i) == arg


@given(st.integers(cb.MAX_ID + 1, 10**40))
def test_a_number_beyond_any_stored_id_is_garbage(number: int) -> None:
    decoded = cb.decode(f"pub:show:{number}"[: cb.MAX_BYTES])
    assert decoded is None or decoded.int_arg(0) is None


@given(st.text(min_size=65, max_size=300))
def test_callback_data_over_64_bytes_is_garbage(data: str) -> None:
    assert cb.decode(data) is None


# Rows as the renderers build them: escaped user text, sometimes inside a tag.
ROW = st.tuples(
    st.sampled_from(["", "b", "i", "code"]),
    st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=120),
).map(lambda t: f"<{t[0]}>{html.escape(t[1])}</{t[0]}>" if t[0] else html.escape(t[1]))


@given(
    st.lists(st.lists(ROW, min_size=1, max_size=6), min_size=1, max_size=6), st.integers(20, 200)
)
def test_split_messages_fit_parse_and_keep_every_character(
    sections: list[list[str]], limit: int
) -> None:
    messages = split_sections(sections, limit=limit)
    for message in messages:
        assert telegram_length(message) <= limit
        parse_html(message)  # strict Telegram HTML: raises on a tag cut in half
    shown = "".join(plain_text(m) for m in messages)
    for section in sections:
        for row in section:
            for char in plain_text(row):
                if not char.isspace():
                    assert char in shown


@given(st.text(max_size=40))
def test_paes_date_never_raises(text: str) -> None:
    result = parse_italian_date(text)
    assert result is None or isinstance(result, date)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31)))
def test_paes_date_reads_what_people_write(day: date) -> None:
    assert parse_italian_date(f"{day.day}/{day.month}/{day.year}") == day
    assert parse_italian_date(f" {day.day:02d}.{day.month:02d}.{day.year} ") == day
    assert parse_italian_date(day.isoformat()) == day


@given(st.text(st.characters(exclude_categories=["Cs"]), max_size=300))
def test_ics_text_stays_text(value: str) -> None:
    """Whatever a title, place or agenda holds: one event, lines of at most 75 octets, and
    the text read back as it was (line breaks as \\n)."""
    data = build_ics(
        CalendarEvent(
            uid="u@x",
            title=value or "t",
            starts_at=datetime(2026, 12, 9, 16, tzinfo=UTC),
            ends_at=datetime(2026, 12, 9, 18, tzinfo=UTC),
            location=value,
            description=value,
            url=value,
        ),
        stamp=datetime(2026, 12, 1, tzinfo=UTC),
    )
    for physical in data.split(b"\r\n"):
        assert len(physical) <= 75
    events = [c for c in icalendar.Calendar.from_ical(data).walk() if c.name == "VEVENT"]
    assert len(events) == 1
    expected = value.replace("\r\n", "\n").replace("\r", "\n")
    if value:
        assert str(events[0]["LOCATION"]) == expected
        assert str(events[0]["SUMMARY"]) == expected
    assert "ATTENDEE" not in events[0]


def test_a_pattern_of_verbs_matches_only_those_verbs() -> None:
    regex = re.compile(cb.pattern("mbr", "remove", "show"))
    for data in ("mbr:remove", "mbr:remove:7", "mbr:show:7:1"):
        assert regex.match(data), data
    for data in ("mbr:removed:7", "mbr:rem:7", "xmbr:show:7", "team:show:7", "mbr:"):
        assert not regex.match(data), data
    assert re.match(cb.pattern("mbr"), "mbr:anything")
