"""The Italian date parser on the phrases people actually type."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.i18n import format_datetime
from bot.services.italian_dates import ParsedWhen, ParseProblem, parse_when

ROME = ZoneInfo("Europe/Rome")
# Thursday 26 November 2026, 10:00 in Rome.
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def _ok(text: str, now: datetime = NOW, **kwargs: object) -> datetime:
    result = parse_when(text, now=now, tz=ROME, **kwargs)  # type: ignore[arg-type]
    assert isinstance(result, ParsedWhen), f"{text!r}: {result}"
    return result.local.replace(tzinfo=None)


def _problem(text: str, now: datetime = NOW, **kwargs: object) -> ParseProblem:
    result = parse_when(text, now=now, tz=ROME, **kwargs)  # type: ignore[arg-type]
    assert isinstance(result, ParseProblem), f"{text!r}: {result}"
    return result


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9/12 17:00", datetime(2026, 12, 9, 17)),
        ("mercoledì 9 dicembre ore 17", datetime(2026, 12, 9, 17)),
        ("mercoledi 9 dicembre alle 17", datetime(2026, 12, 9, 17)),
        ("9 dic 17:30", datetime(2026, 12, 9, 17, 30)),
        ("9 dic. 17", datetime(2026, 12, 9, 17)),
        ("domani alle 18", datetime(2026, 11, 27, 18)),
        ("dopodomani ore 9.30", datetime(2026, 11, 28, 9, 30)),
        ("giovedì alle 17", datetime(2026, 11, 26, 17)),  # today, still ahead
        ("giovedì alle 9", datetime(2026, 12, 3, 9)),  # today's 9:00 is gone: next week
        ("giovedì prossimo alle 17", datetime(2026, 12, 3, 17)),
        ("martedì alle 17", datetime(2026, 12, 1, 17)),
        ("9.12 17.30", datetime(2026, 12, 9, 17, 30)),
        ("9.12.2026 17.30", datetime(2026, 12, 9, 17, 30)),
        ("09/12/26 ore 17", datetime(2026, 12, 9, 17)),
        ("2026-12-09 17:00", datetime(2026, 12, 9, 17)),
        ("ore 17 e 30 del 9/12", datetime(2026, 12, 9, 17, 30)),
        ("9/12 alle 17 e mezza", datetime(2026, 12, 9, 17, 30)),
        ("1° dicembre ore 9", datetime(2026, 12, 1, 9)),
        ("primo dicembre alle 9", datetime(2026, 12, 1, 9)),
        ("mer 9 dic, 17:00", datetime(2026, 12, 9, 17)),
        ("12 gennaio 17:00", datetime(2027, 1, 12, 17)),  # nearest future: next year
        ("3 mar 17h", datetime(2027, 3, 3, 17)),  # "mar" after a number is March
        ("17h30 del 4/12", datetime(2026, 12, 4, 17, 30)),
        ("  DOMANI   ALLE 18  ", datetime(2026, 11, 27, 18)),
    ],
)
def test_phrases(text: str, expected: datetime) -> None:
    assert _ok(text) == expected


def test_default_time_when_none_given() -> None:
    result = parse_when("9 dic", now=NOW, tz=ROME, default_time=time(17))
    assert isinstance(result, ParsedWhen) and result.used_default_time
    assert result.local.replace(tzinfo=None) == datetime(2026, 12, 9, 17)
    assert _problem("9 dic").kind == "no_time"


def test_weekday_and_date_must_agree() -> None:
    problem = _problem("martedì 9 dicembre ore 17")  # 9 Dec 2026 is a Wednesday
    assert problem.kind == "weekday_mismatch"
    assert problem.day == date(2026, 12, 9) and problem.weekday == 1
    assert problem.at is not None  # the date as written, at its time: the wizard offers it
    assert problem.at.replace(tzinfo=None) == datetime(2026, 12, 9, 17)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("banana", "unknown_words"),
        ("martedì a casa di Mario alle 17", "unknown_words"),
        ("alle 17", "no_date"),
        ("31/11 17:00", "bad_date"),
        ("30 febbraio ore 10", "bad_date"),
        ("9/13 17:00", "bad_date"),
        ("9/12 25:00", "bad_time"),
        ("9/12 17:75", "bad_time"),
        ("9/12/2025 17:00", "past"),
        ("20/11 10:00", "past"),  # six days ago, not next year
        ("oggi alle 8", "past"),
        ("28/3/2027 2:30", "dst_gap"),
        ("9/12/2030 17:00", "too_far"),
    ],
)
def test_problems(text: str, kind: str) -> None:
    assert _problem(text).kind == kind


def test_unknown_words_are_reported() -> None:
    assert _problem("martedì a casa di Mario alle 17").words == ("casa", "mario")


def test_dst_both_sides_give_the_right_utc() -> None:
    october = datetime(2026, 10, 1, 8, tzinfo=UTC)
    winter = parse_when("30/3/2027 17:00", now=october, tz=ROME)
    summer = parse_when("27/10/2026 17:00", now=october, tz=ROME)
    assert isinstance(winter, ParsedWhen) and isinstance(summer, ParsedWhen)
    assert winter.utc == datetime(2027, 3, 30, 15, tzinfo=UTC)  # CEST, +2
    assert summer.utc == datetime(2026, 10, 27, 16, tzinfo=UTC)  # CET, +1 (after 25 Oct)


def test_echo_in_italian_format() -> None:
    result = parse_when("9/12 17:00", now=NOW, tz=ROME)
    assert isinstance(result, ParsedWhen)
    assert format_datetime(result.utc, ROME, "it", year=True) == "mer 9 dic 2026, 17:00"


MONTH_WORDS = [
    "gen",
    "febbraio",
    "mar",
    "aprile",
    "mag",
    "giugno",
    "lug",
    "agosto",
    "set",
    "ottobre",
    "nov",
    "dicembre",
]


@given(
    offset=st.integers(min_value=2, max_value=300),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 45]),
    form=st.sampled_from(["slash", "words", "dot"]),
)
def test_any_future_date_reads_back(offset: int, hour: int, minute: int, form: str) -> None:
    day = (NOW.astimezone(ROME) + timedelta(days=offset)).date()
    if form == "slash":
        text = f"{day.day}/{day.month} {hour}:{minute:02d}"
    elif form == "words":
        text = f"{day.day} {MONTH_WORDS[day.month - 1]} ore {hour}:{minute:02d}"
    else:
        text = f"{day.day}.{day.month}.{day.year} {hour}.{minute:02d}"
    result = parse_when(text, now=NOW, tz=ROME)
    if isinstance(result, ParseProblem):
        assert result.kind == "dst_gap"  # 02:xx on the last Sunday of March
        return
    assert result.local.date() == day
    assert (result.local.hour, result.local.minute) == (hour, minute)
    assert result.utc > NOW


@given(st.text(max_size=40))
def test_never_raises(text: str) -> None:
    result = parse_when(text, now=NOW, tz=ROME)
    assert isinstance(result, ParsedWhen | ParseProblem)
    if isinstance(result, ParsedWhen):
        assert result.utc > NOW
