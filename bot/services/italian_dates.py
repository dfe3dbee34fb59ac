"""Reading the dates and times people type in Italian: "9/12 17:00", "martedì 9 dicembre ore 17",
"9 dic 17:30", "domani alle 18", "giovedì alle 17".

A general-purpose parser gets these wrong (docs/DESIGN.md, "Reading dates typed in Italian"), so
this one is small and strict: it knows the forms above, picks the future date nearest to now when
the year or the date is left out, checks a weekday against a date, and otherwise says why it did
not understand.
The caller echoes back what was understood ("mar 9 dic 2026, 17:00").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.localtime import exists, local_to_utc

WEEKDAYS = {
    "lunedi": 0,
    "lun": 0,
    "martedi": 1,
    "mar": 1,
    "mercoledi": 2,
    "mer": 2,
    "giovedi": 3,
    "gio": 3,
    "venerdi": 4,
    "ven": 4,
    "sabato": 5,
    "sab": 5,
    "domenica": 6,
    "dom": 6,
}
MONTHS = {
    "gennaio": 1,
    "gen": 1,
    "febbraio": 2,
    "feb": 2,
    "marzo": 3,
    "mar": 3,
    "aprile": 4,
    "apr": 4,
    "maggio": 5,
    "mag": 5,
    "giugno": 6,
    "giu": 6,
    "luglio": 7,
    "lug": 7,
    "agosto": 8,
    "ago": 8,
    "settembre": 9,
    "set": 9,
    "sett": 9,
    "ottobre": 10,
    "ott": 10,
    "novembre": 11,
    "nov": 11,
    "dicembre": 12,
    "dic": 12,
}
RELATIVE = {"oggi": 0, "stasera": 0, "domani": 1, "dopodomani": 2}
# Words that carry no information of their own in "martedì 9 dicembre alle ore 17".
FILLER = {
    "il",
    "lo",
    "la",
    "di",
    "del",
    "dello",
    "della",
    "a",
    "al",
    "alle",
    "all",
    "ore",
    "h",
    "e",
    "giorno",
    "prossimo",
    "prossima",
    "p",
    "v",
    "pv",
    "pomeriggio",
    "sera",
    "mattina",
    "dalle",
    "verso",
    "per",
}
_MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))

# Time forms, tried in order; each match is cut out of the text before dates are read.
_TIME_PREFIXED = re.compile(r"\b(?:ore|alle|all|dalle|h)\s*(\d{1,2})(?:\s*[:.]\s*(\d{2}))?(?!\d)")
_TIME_COLON = re.compile(r"(?<![\d/])(\d{1,2}):(\d{2})(?!\d)")
_TIME_H = re.compile(r"(?<![\d/.])(\d{1,2})h(\d{2})?\b")
_TIME_DOT = re.compile(r"(?<![\d/.])(\d{1,2})\.(\d{2})(?![\d/.])")

_DATE_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_DATE_NUM = re.compile(
    r"(?<![\d:])(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?:\s*[/.\-]\s*(\d{2,4}))?(?![\d:])"
)
_DATE_WORDS = re.compile(rf"\b(\d{{1,2}})\s*(?:°|º)?\s+({_MONTH_ALT})\.?(?:\s+(\d{{4}}))?\b")
_DATE_FIRST = re.compile(rf"\bprimo\s+({_MONTH_ALT})\.?(?:\s+(\d{{4}}))?\b")


RECENT_PAST = timedelta(days=60)


@dataclass(frozen=True)
class ParsedWhen:
    local: datetime  # aware, in the Union's zone
    utc: datetime
    used_default_time: bool = False


@dataclass(frozen=True)
class ParseProblem:
    """Why a text is not a usable date. `kind` selects the message; the rest fills it in.

    kinds: empty, no_date, no_time, bad_time, bad_date, past, weekday_mismatch, unknown_words,
    dst_gap, too_far
    """

    kind: str
    day: date | None = None
    weekday: int | None = None  # the weekday the person wrote
    at: datetime | None = None  # weekday_mismatch: the date as written, at its time (local)
    words: tuple[str, ...] = field(default_factory=tuple)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("’", "'").replace("'", " ")
    return re.sub(r"[,;!?]+|\s+", " ", text).strip()


def _cut(text: str, match: re.Match[str]) -> str:
    return text[: match.start()] + " " + text[match.end() :]


def _year(raw: str | None) -> int | None:
    if raw is None:
        return None
    value = int(raw)
    return 2000 + value if value < 100 else value


_MINUTES_AFTER = re.compile(r"^\s*e\s+(mezza|mezzo|un\s+quarto|\d{2})\b")


def _extract_time(text: str, *, has_date_hint: bool) -> tuple[str, tuple[int, int] | None]:
    """(rest of text, (hour, minute) or None)."""
    for regex in (_TIME_PREFIXED, _TIME_COLON, _TIME_H):
        match = regex.search(text)
        if match:
            hour = int(match.group(1))
            minute = int(match.group(2)) if match.group(2) else 0
            after = text[match.end() :]
            extra = None if match.group(2) else _MINUTES_AFTER.match(after)
            if extra:
                word = extra.group(1)
                minute = 30 if word.startswith("mezz") else 15 if "quarto" in word else int(word)
                after = after[extra.end() :]
            return text[: match.start()] + " " + after, (hour, minute)
    if has_date_hint:
        # "9/12 17.30" or "9.12 17.30": a dot between hour and minutes next to a date; the
        # time comes after the date, so the last such pair is taken.
        matches = list(_TIME_DOT.finditer(text))
        if matches:
            match = matches[-1]
            return _cut(text, match), (int(match.group(1)), int(match.group(2)))
    return text, None


def _has_date_hint(text: str) -> bool:
    words = set(text.split())
    return bool(
        _DATE_ISO.search(text)
        or re.search(r"\d\s*/\s*\d", text)
        or len(_TIME_DOT.findall(text)) >= 2
        or re.search(r"\d\.\d{1,2}\.\d", text)
        or _DATE_WORDS.search(text)
        or _DATE_FIRST.search(text)
        or words & set(RELATIVE)
        or words & set(WEEKDAYS)
    )


def parse_when(
    text: str,
    *,
    now: datetime,
    tz: ZoneInfo,
    default_time: time | None = None,
    horizon_days: int = 400,
) -> ParsedWhen | ParseProblem:
    """Read a date and time typed in Italian, in the zone `tz`, relative to `now` (UTC).

    Without a year, the future date nearest to now. Without a date but with a weekday, the
    next such day (today if the time is still ahead). Without a time, `default_time` when given.
    """
    folded = _fold(text)
    if not folded:
        return ParseProblem("empty")
    local_now = now.astimezone(tz)
    today = local_now.date()

    rest, hm = _extract_time(folded, has_date_hint=_has_date_hint(folded))
    year: int | None = None
    month: int | None = None
    day_num: int | None = None
    relative: int | None = None
    weekday: int | None = None

    match = _DATE_ISO.search(rest)
    if match:
        year, month, day_num = int(match.group(1)), int(match.group(2)), int(match.group(3))
        rest = _cut(rest, match)
    else:
        match = _DATE_WORDS.search(rest)
        if match:
            day_num, month, year = (
                int(match.group(1)),
                MONTHS[match.group(2)],
                _year(match.group(3)),
            )
            rest = _cut(rest, match)
        else:
            match = _DATE_FIRST.search(rest)
            if match:
                day_num, month, year = 1, MONTHS[match.group(1)], _year(match.group(2))
                rest = _cut(rest, match)
            else:
                match = _DATE_NUM.search(rest)
                if match:
                    day_num, month = int(match.group(1)), int(match.group(2))
                    year = _year(match.group(3))
                    rest = _cut(rest, match)

    unknown: list[str] = []
    next_week = False
    for word in rest.split():
        word = word.strip(".")
        if not word:
            continue
        if word in RELATIVE and relative is None:
            relative = RELATIVE[word]
        elif word in WEEKDAYS and weekday is None:
            weekday = WEEKDAYS[word]
        elif word in FILLER:
            next_week = next_week or word in ("prossimo", "prossima")
        else:
            unknown.append(word)
    has_date = day_num is not None or relative is not None or weekday is not None
    if hm is None and has_date and len(unknown) == 1 and unknown[0].isdigit():
        hm = (int(unknown[0]), 0)  # "9 dic 17": a bare hour after the date
        unknown = []
    if unknown:
        return ParseProblem("unknown_words", words=tuple(unknown))

    if hm is None:
        if default_time is None:
            if day_num is None and relative is None and weekday is None:
                return ParseProblem("no_date")
            return ParseProblem("no_time")
        hm = (default_time.hour, default_time.minute)
        used_default = True
    else:
        used_default = False
    hour, minute = hm
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return ParseProblem("bad_time")
    at = time(hour, minute)

    candidates: list[date]
    if day_num is not None and month is not None:
        if not 1 <= month <= 12:
            return ParseProblem("bad_date")
        years = [year] if year is not None else [today.year, today.year + 1]
        candidates = []
        for y in years:
            try:
                candidates.append(date(y, month, day_num))
            except ValueError:
                continue
        if not candidates:
            return ParseProblem("bad_date")
    elif relative is not None:
        candidates = [today + timedelta(days=relative)]
    elif weekday is not None:
        ahead = (weekday - today.weekday()) % 7
        if ahead == 0 and next_week:
            ahead = 7  # "giovedì prossimo" said on a Thursday is next week's
        candidates = [today + timedelta(days=ahead), today + timedelta(days=ahead + 7)]
    else:
        return ParseProblem("no_date")

    chosen: datetime | None = None
    gap_day: date | None = None
    for index, day in enumerate(candidates):
        if not exists(day, at, tz):
            gap_day = day
            continue
        utc = local_to_utc(day, at, tz)
        if utc > now:
            chosen = utc
            break
        if year is None and day_num is not None and index == 0 and now - utc < RECENT_PAST:
            # "20/11" typed on 26 November is a mistake, not next year's 20 November.
            return ParseProblem("past", day=day)
    if chosen is None:
        if gap_day is not None:
            return ParseProblem("dst_gap", day=gap_day)
        return ParseProblem("past", day=candidates[-1])
    local = chosen.astimezone(tz)
    explicit = day_num is not None or relative is not None
    if weekday is not None and explicit and local.weekday() != weekday:
        return ParseProblem("weekday_mismatch", day=local.date(), weekday=weekday, at=local)
    if chosen - now > timedelta(days=horizon_days):
        return ParseProblem("too_far", day=local.date())
    return ParsedWhen(local=local, utc=chosen.astimezone(UTC), used_default_time=used_default)
