"""Meeting polls as plain rules: who votes, tallies, the best slot, holidays, suggestions.

No Telegram and no database here: the use cases beside this module pass plain data in and get
plain data back, so every rule is tested on its own (tests/unit/test_meeting_rules.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from bot.localtime import exists, local_to_utc
from bot.services.start_links import make_link, parse_link
from storage.models.core import Role, TableKind
from storage.models.meetings import Answer, MeetingPoll, PollTable

# A meeting that ended longer ago gets no minutes' draft (the bot was down for a week, or the
# meeting is older than the minutes): nobody would remember it well enough to correct it.
MINUTES_DRAFT_LOOKBACK = timedelta(days=7)

MIN_SLOTS = 2
MAX_SLOTS = 8
DEADLINE_MARGIN = timedelta(hours=24)  # the deadline is at least this long before the first slot
DEFAULT_DEADLINE_DAYS = 5
DEFAULT_WEEKDAYS = (1, 3)  # Tuesday, Thursday (Mon=0)


def is_one_line(text: str) -> bool:
    """A title or a place is one line: no line break of any kind (\\n, \\r, the vertical tab,
    form feed, U+0085, U+2028, U+2029 … — whatever `str.splitlines` splits at). The agenda may
    have several lines; in the .ics every text is escaped anyway (bot/services/ics.py)."""
    return len(text.splitlines()) <= 1


# --- who sits at which table ---------------------------------------------------------------


def sits_at(table: PollTable, *, role: Role, is_coordinator: bool) -> bool:
    """Whether a member votes in a poll for this table.

    Political: Sindaci and Assessori (an Assessore stands in for the Sindaco of the same
    Comune); technical: Funzionari tecnici; the coordinator sits at both; `both`: everyone.
    """
    if is_coordinator or table == PollTable.BOTH:
        return True
    if table == PollTable.POLITICAL:
        return role in (Role.SINDACO, Role.ASSESSORE)
    return role == Role.TECNICO


def table_kinds(table: PollTable) -> tuple[TableKind, ...]:
    """The linked groups a poll for this table goes to."""
    if table == PollTable.POLITICAL:
        return (TableKind.POLITICAL,)
    if table == PollTable.TECHNICAL:
        return (TableKind.TECHNICAL,)
    return (TableKind.POLITICAL, TableKind.TECHNICAL)


def tables_a_member_may_propose(*, role: Role, is_coordinator: bool) -> tuple[PollTable, ...]:
    """The coordinator proposes for any table; a Sindaco for the political table."""
    if is_coordinator:
        return (PollTable.POLITICAL, PollTable.TECHNICAL, PollTable.BOTH)
    if role == Role.SINDACO:
        return (PollTable.POLITICAL,)
    return ()


def may_manage(poll: MeetingPoll, *, member_id: int, is_coordinator: bool) -> bool:
    """Close, extend, add a date, cancel, see who is missing: the coordinator or the proposer."""
    return is_coordinator or poll.created_by_member_id == member_id


def monthly_poll_table(*, usual: PollTable, planned: Iterable[PollTable]) -> PollTable | None:
    """The table this month's automatic poll is for. Planning is per table: a table that already
    has its meeting this month (or an open poll deciding it, `planned`) gets no poll; the other
    table still does. So the usual table (both, by default) when neither is planned; the table
    still without a meeting when one is; None when nothing is left to plan."""
    taken = {kind for table in planned for kind in table_kinds(table)}
    left = [kind for kind in table_kinds(usual) if kind not in taken]
    if not left:
        return None
    if len(left) == len(table_kinds(usual)):
        return usual
    return PollTable.POLITICAL if left == [TableKind.POLITICAL] else PollTable.TECHNICAL


def may_pin(*, status: str, can_pin_messages: bool | None) -> bool:
    """Whether the bot may pin in a group, from its own membership there (getChatMember):
    Telegram lets only an administrator with the «Fissa messaggi» right pin (in a basic group
    every administrator has it, so an unset right counts as given)."""
    if status == "creator":
        return True
    return status == "administrator" and can_pin_messages is not False


# --- links that open the bot in private (t.me/<bot>?start=<payload>) -----------------------

# What a link from a poll opens: its management (⚙️ Gestisci) or one's own answers (👤).
LINK_MANAGE = "mg"
LINK_MY_ANSWERS = "pv"
POLL_LINKS = (LINK_MANAGE, LINK_MY_ANSWERS)


def start_link(kind: str, poll_id: int) -> str:
    """The payload of a link to a poll (`mg-123`, bot.services.start_links)."""
    return make_link(kind, poll_id, POLL_LINKS)


def parse_start_link(payload: str | None) -> tuple[str, int] | None:
    """(kind, poll id) of a link to a poll; None for anything else (checked before any lookup)."""
    return parse_link(payload, POLL_LINKS)


def deadline_passed(poll: MeetingPoll, now: datetime) -> bool:
    return now >= poll.deadline_at


# --- tallies and the best slot -----------------------------------------------------------


@dataclass(frozen=True)
class Voter:
    member_id: int
    municipality_ids: tuple[int, ...]


@dataclass(frozen=True)
class SlotTally:
    slot_id: int
    starts_at: datetime
    yes: int = 0
    maybe: int = 0
    no: int = 0
    covered: frozenset[int] = field(default_factory=frozenset)  # Comuni with a Sì or Se necessario
    covered_yes: frozenset[int] = field(default_factory=frozenset)  # Comuni with a Sì

    def key(self) -> tuple[int, int, int, int, float]:
        """Larger is better: Comuni, Comuni by Sì, Sì, fewest Se necessario, earliest."""
        return (
            len(self.covered),
            len(self.covered_yes),
            self.yes,
            -self.maybe,
            -self.starts_at.timestamp(),
        )


def tally(
    *,
    slot_id: int,
    starts_at: datetime,
    answers: Mapping[int, Answer],
    voters: Mapping[int, Voter],
) -> SlotTally:
    """Count one slot. Answers of people who no longer sit at the table are ignored."""
    yes = maybe = no = 0
    covered: set[int] = set()
    covered_yes: set[int] = set()
    for member_id, answer in answers.items():
        voter = voters.get(member_id)
        if voter is None:
            continue
        if answer == Answer.YES:
            yes += 1
            covered.update(voter.municipality_ids)
            covered_yes.update(voter.municipality_ids)
        elif answer == Answer.MAYBE:
            maybe += 1
            covered.update(voter.municipality_ids)
        else:
            no += 1
    return SlotTally(
        slot_id=slot_id,
        starts_at=starts_at,
        yes=yes,
        maybe=maybe,
        no=no,
        covered=frozenset(covered),
        covered_yes=frozenset(covered_yes),
    )


def best_slot(tallies: Sequence[SlotTally]) -> SlotTally | None:
    """The slot the most Comuni can attend (then the tie-breaks in SlotTally.key).

    None when no slot covers any Comune: the coordinator must propose other dates.
    """
    candidates = [t for t in tallies if t.covered]
    if not candidates:
        return None
    return max(candidates, key=SlotTally.key)


@dataclass(frozen=True)
class MissingComune:
    municipality_id: int
    represented: bool  # someone of this Comune already answered
    missing_member_ids: tuple[int, ...]


def who_is_missing(
    *, voters: Mapping[int, Voter], answered: Iterable[int]
) -> tuple[list[MissingComune], list[int]]:
    """Per Comune, the table members who have not answered at all; plus those with no Comune."""
    done = set(answered)
    by_comune: dict[int, list[int]] = {}
    represented: set[int] = set()
    no_comune: list[int] = []
    for voter in voters.values():
        if not voter.municipality_ids and voter.member_id not in done:
            no_comune.append(voter.member_id)
        for mid in voter.municipality_ids:
            if voter.member_id in done:
                represented.add(mid)
            else:
                by_comune.setdefault(mid, []).append(voter.member_id)
    result = [
        MissingComune(
            municipality_id=mid,
            represented=mid in represented,
            missing_member_ids=tuple(sorted(ids)),
        )
        for mid, ids in sorted(by_comune.items())
    ]
    return result, sorted(no_comune)


# --- Italian public holidays -------------------------------------------------------------


def easter_sunday(year: int) -> date:
    """Gregorian Easter (anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


@cache
def italian_holidays(year: int) -> frozenset[date]:
    """National public holidays in Italy (not the local patron saints)."""
    easter = easter_sunday(year)
    days = {
        date(year, 1, 1),  # Capodanno
        date(year, 1, 6),  # Epifania
        easter,  # Pasqua
        easter + timedelta(days=1),  # Lunedì dell'Angelo
        date(year, 4, 25),  # Liberazione
        date(year, 5, 1),  # Festa del lavoro
        date(year, 6, 2),  # Festa della Repubblica
        date(year, 8, 15),  # Ferragosto
        date(year, 11, 1),  # Ognissanti
        date(year, 12, 8),  # Immacolata
        date(year, 12, 25),  # Natale
        date(year, 12, 26),  # Santo Stefano
    }
    if year >= 2026:
        days.add(date(year, 10, 4))  # San Francesco, national holiday again from 2026 (L. 151/2025)
    return frozenset(days)


def is_holiday(day: date) -> bool:
    return day in italian_holidays(day.year)


# --- suggestions and deadlines -----------------------------------------------------------


@dataclass(frozen=True)
class SlotPlan:
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC


def parse_weekdays(raw: str) -> tuple[int, ...]:
    """'1,3' → (1, 3); garbage falls back to Tuesday and Thursday."""
    days = sorted({int(p) for p in raw.split(",") if p.strip().isdigit() and int(p) <= 6})
    return tuple(days) or DEFAULT_WEEKDAYS


def suggest_slots(
    *,
    tz: ZoneInfo,
    first_day: date,
    last_day: date,
    weekdays: Sequence[int],
    at: time,
    duration: timedelta,
    not_before: datetime,
    limit: int,
) -> list[SlotPlan]:
    """Slots on the preferred weekdays between two local days, skipping public holidays and
    anything starting before `not_before` (UTC)."""
    slots: list[SlotPlan] = []
    day = first_day
    while day <= last_day and len(slots) < limit:
        if day.weekday() in weekdays and not is_holiday(day):
            start = local_to_utc(day, at, tz)
            # A meeting is not set at a wall time the spring change skips.
            if exists(day, at, tz) and start >= not_before:
                slots.append(SlotPlan(starts_at=start, ends_at=start + duration))
        day += timedelta(days=1)
    return slots


def wizard_suggestions(
    *,
    now: datetime,
    tz: ZoneInfo,
    weekdays: Sequence[int],
    at: time,
    duration: timedelta,
    count: int = 8,
) -> list[SlotPlan]:
    """Candidate slots for a poll made by hand: from the day after tomorrow, the next weeks.

    Starting two days out leaves room for a deadline at least 24 hours before the first slot.
    """
    today = now.astimezone(tz).date()
    return suggest_slots(
        tz=tz,
        first_day=today + timedelta(days=2),
        last_day=today + timedelta(days=42),
        weekdays=weekdays,
        at=at,
        duration=duration,
        not_before=now + DEADLINE_MARGIN + timedelta(hours=1),
        limit=count,
    )


def monthly_period(local_day: date) -> str:
    return f"{local_day.year:04d}-{local_day.month:02d}"


def month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return first, nxt - timedelta(days=1)


def month_span(year: int, month: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The local month as a UTC interval [start, end): from midnight of the 1st to midnight
    of the next month's 1st, in the Union's time zone."""
    first, last = month_bounds(year, month)
    return local_to_utc(first, time(0), tz), local_to_utc(last + timedelta(days=1), time(0), tz)


def monthly_slots(
    *,
    year: int,
    month: int,
    now: datetime,
    tz: ZoneInfo,
    weekdays: Sequence[int],
    at: time,
    duration: timedelta,
    count: int = 4,
) -> list[SlotPlan]:
    """The automatic poll's slots: the preferred weekdays of the 2nd and 3rd week (days 8–21).

    When the poll opens late (the bot was down), slots already too close are dropped and the
    rest of the month fills in, so a late poll still has choices.
    """
    not_before = now + DEADLINE_MARGIN + timedelta(hours=1)
    first, last = month_bounds(year, month)
    slots = suggest_slots(
        tz=tz,
        first_day=first + timedelta(days=7),
        last_day=first + timedelta(days=20),
        weekdays=weekdays,
        at=at,
        duration=duration,
        not_before=not_before,
        limit=count,
    )
    if len(slots) < count:
        slots += suggest_slots(
            tz=tz,
            first_day=first + timedelta(days=21),
            last_day=last,
            weekdays=weekdays,
            at=at,
            duration=duration,
            not_before=not_before,
            limit=count - len(slots),
        )
    return slots


def monthly_poll_due(
    *, now: datetime, tz: ZoneInfo, day: int, hour: int
) -> tuple[str, int, int] | None:
    """(period, year, month) when this month's automatic poll should be open by now.

    Catch-up rule: it opens whenever the bot sees it due while its month is not over.
    """
    local = now.astimezone(tz)
    if now < monthly_poll_opens(year=local.year, month=local.month, tz=tz, day=day, hour=hour):
        return None
    return monthly_period(local.date()), local.year, local.month


def monthly_poll_opens(*, year: int, month: int, tz: ZoneInfo, day: int, hour: int) -> datetime:
    """The moment (UTC) a month's automatic poll is due: the set day (the month's last, for a
    day it does not have) at the set hour, local time."""
    first, last = month_bounds(year, month)
    opening_day = min(max(day, 1), last.day)
    # An opening hour in the spring-forward gap moves on by the gap (02:00 → 03:00).
    return local_to_utc(first.replace(day=opening_day), time(hour=min(max(hour, 0), 23)), tz)


def latest_deadline(first_slot: datetime) -> datetime:
    return first_slot - DEADLINE_MARGIN


def add_local_days(moment: datetime, days: int, tz: ZoneInfo) -> datetime:
    """The same wall-clock time `days` later in `tz` (DST-safe), as UTC.

    09:00 on Saturday before the change to winter time plus two days is 09:00 on Monday, not
    08:00. A wall time that does not exist (spring-forward gap) moves an hour on.
    """
    local = moment.astimezone(tz)
    day = local.date() + timedelta(days=days)
    at = local.time().replace(tzinfo=None)
    return local_to_utc(day, at, tz)


def default_deadline(
    *, now: datetime, first_slot: datetime, tz: ZoneInfo, days: int = DEFAULT_DEADLINE_DAYS
) -> datetime | None:
    """Five days from now (rounded to the minute), but at least 24 hours before the first slot.

    None when the first slot is too close to leave any time to answer (under an hour).
    """
    wanted = add_local_days(now, days, tz).replace(second=0, microsecond=0)
    deadline = min(wanted, latest_deadline(first_slot))
    if deadline < now + timedelta(hours=1):
        return None
    return deadline


def deadline_problem(*, now: datetime, deadline: datetime, first_slot: datetime) -> str | None:
    """'past' | 'too_late' | None for a deadline someone chose."""
    if deadline <= now:
        return "past"
    if deadline > latest_deadline(first_slot):
        return "too_late"
    return None


def deadline_options(
    *, now: datetime, first_slot: datetime, tz: ZoneInfo, days: Iterable[int] = (2, 3, 5, 7)
) -> list[datetime]:
    """Deadlines to offer as buttons: N days from now, only those valid for the first slot."""
    latest = latest_deadline(first_slot)
    options = []
    for n in days:
        candidate = add_local_days(now, n, tz).replace(second=0, microsecond=0)
        if now < candidate <= latest:
            options.append(candidate)
    if not options and latest > now + timedelta(hours=1):
        options.append(latest)
    return options
