"""The best-slot rule, who sits at which table, holidays, suggestions and deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.localtime import exists, local_to_utc
from bot.services.meetings.rules import (
    SlotTally,
    Voter,
    add_local_days,
    best_slot,
    deadline_options,
    deadline_problem,
    default_deadline,
    easter_sunday,
    is_holiday,
    italian_holidays,
    may_pin,
    month_span,
    monthly_poll_due,
    monthly_poll_table,
    monthly_slots,
    parse_start_link,
    sits_at,
    start_link,
    suggest_slots,
    tally,
    who_is_missing,
    wizard_suggestions,
)
from storage.models import Answer, PollTable, Role

ROME = ZoneInfo("Europe/Rome")
Y, M, N = Answer.YES, Answer.MAYBE, Answer.NO


def _at(day: int, hour: int = 16) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=UTC)


# Six people from three Comuni (1: members 1, 2; 2: members 3, 4; 3: members 5, 6).
VOTERS = {m: Voter(member_id=m, municipality_ids=((m + 1) // 2,)) for m in range(1, 7)}


def test_most_comuni_beats_most_people() -> None:
    # Slot A: five Sì, all from Comuni 1 and 2. Slot B: three Sì, one from each Comune.
    a = tally(slot_id=1, starts_at=_at(8), answers={1: Y, 2: Y, 3: Y, 4: Y, 5: N}, voters=VOTERS)
    b = tally(slot_id=2, starts_at=_at(10), answers={1: Y, 3: Y, 5: Y, 2: N}, voters=VOTERS)
    assert a.yes > b.yes
    assert len(a.covered) == 2 and len(b.covered) == 3
    chosen = best_slot([a, b])
    assert chosen is not None and chosen.slot_id == 2


def test_maybe_covers_a_comune_but_yes_breaks_ties() -> None:
    a = tally(slot_id=1, starts_at=_at(8), answers={1: M, 3: M, 5: M}, voters=VOTERS)
    b = tally(slot_id=2, starts_at=_at(10), answers={1: Y, 3: Y, 5: M}, voters=VOTERS)
    c = tally(slot_id=3, starts_at=_at(15), answers={1: Y, 3: Y}, voters=VOTERS)
    assert len(a.covered) == 3 and len(a.covered_yes) == 0
    chosen = best_slot([a, b, c])
    assert chosen is not None and chosen.slot_id == 2


def test_tie_breaks_most_yes_then_fewest_maybe_then_earliest() -> None:
    more_yes = tally(slot_id=1, starts_at=_at(15), answers={1: Y, 2: Y, 3: Y}, voters=VOTERS)
    fewer = tally(slot_id=2, starts_at=_at(8), answers={1: Y, 3: Y}, voters=VOTERS)
    assert best_slot([fewer, more_yes]).slot_id == 1  # type: ignore[union-attr]
    with_maybe = tally(slot_id=3, starts_at=_at(8), answers={1: Y, 3: Y, 2: M}, voters=VOTERS)
    without = tally(slot_id=4, starts_at=_at(15), answers={1: Y, 3: Y}, voters=VOTERS)
    assert best_slot([with_maybe, without]).slot_id == 4  # type: ignore[union-attr]
    early = tally(slot_id=5, starts_at=_at(8), answers={1: Y}, voters=VOTERS)
    late = tally(slot_id=6, starts_at=_at(15), answers={2: Y}, voters=VOTERS)
    assert best_slot([late, early]).slot_id == 5  # type: ignore[union-attr]


def test_no_slot_covering_a_comune_gives_no_date() -> None:
    a = tally(slot_id=1, starts_at=_at(8), answers={1: N, 2: N}, voters=VOTERS)
    b = tally(slot_id=2, starts_at=_at(10), answers={}, voters=VOTERS)
    assert best_slot([a, b]) is None
    assert best_slot([]) is None


def test_votes_of_people_no_longer_at_the_table_are_ignored() -> None:
    t = tally(slot_id=1, starts_at=_at(8), answers={99: Y, 1: Y}, voters=VOTERS)
    assert t.yes == 1 and t.covered == frozenset({1})


def test_assessore_stands_in_for_the_sindaco() -> None:
    # Comune 7: the Sindaco (10) is silent, the Assessore (11) answers: Comune covered.
    voters = {
        10: Voter(member_id=10, municipality_ids=(7,)),
        11: Voter(member_id=11, municipality_ids=(7,)),
    }
    t = tally(slot_id=1, starts_at=_at(8), answers={11: M}, voters=voters)
    assert t.covered == frozenset({7})
    missing, _ = who_is_missing(voters=voters, answered=[11])
    assert missing[0].represented and missing[0].missing_member_ids == (10,)
    assert sits_at(PollTable.POLITICAL, role=Role.ASSESSORE, is_coordinator=False)


def test_who_sits_at_which_table() -> None:
    assert sits_at(PollTable.POLITICAL, role=Role.SINDACO, is_coordinator=False)
    assert not sits_at(PollTable.POLITICAL, role=Role.TECNICO, is_coordinator=False)
    assert sits_at(PollTable.TECHNICAL, role=Role.TECNICO, is_coordinator=False)
    assert not sits_at(PollTable.TECHNICAL, role=Role.SINDACO, is_coordinator=False)
    assert sits_at(PollTable.TECHNICAL, role=Role.STAFF, is_coordinator=True)
    assert sits_at(PollTable.POLITICAL, role=Role.TECNICO, is_coordinator=True)
    assert sits_at(PollTable.BOTH, role=Role.STAFF, is_coordinator=False)


def test_who_is_missing_by_comune() -> None:
    missing, no_comune = who_is_missing(
        voters={**VOTERS, 9: Voter(member_id=9, municipality_ids=())}, answered=[1, 3, 4]
    )
    assert [(m.municipality_id, m.represented, m.missing_member_ids) for m in missing] == [
        (1, True, (2,)),
        (3, False, (5, 6)),
    ]
    assert no_comune == [9]


answers_st = st.dictionaries(st.integers(1, 6), st.sampled_from([Y, M, N]), max_size=6)


@given(st.lists(answers_st, min_size=1, max_size=8))
def test_best_slot_is_never_beaten_on_comuni(all_answers: list[dict[int, Answer]]) -> None:
    tallies = [
        tally(slot_id=i, starts_at=_at(1 + i), answers=a, voters=VOTERS)
        for i, a in enumerate(all_answers)
    ]
    chosen = best_slot(tallies)
    if chosen is None:
        assert all(not t.covered for t in tallies)
        return
    for t in tallies:
        assert len(t.covered) <= len(chosen.covered)
        if len(t.covered) == len(chosen.covered):
            assert len(t.covered_yes) <= len(chosen.covered_yes)
    # Order of the slots does not change the choice.
    assert best_slot(list(reversed(tallies))) == chosen


def test_slot_tally_key_orders_earlier_first() -> None:
    a = SlotTally(slot_id=1, starts_at=_at(8), yes=1, covered=frozenset({1}))
    b = SlotTally(slot_id=2, starts_at=_at(9), yes=1, covered=frozenset({1}))
    assert a.key() > b.key()


# --- holidays ---


def test_easter_dates() -> None:
    assert easter_sunday(2024) == date(2024, 3, 31)
    assert easter_sunday(2025) == date(2025, 4, 20)
    assert easter_sunday(2026) == date(2026, 4, 5)
    assert easter_sunday(2027) == date(2027, 3, 28)
    assert easter_sunday(2038) == date(2038, 4, 25)


def test_italian_holidays() -> None:
    days = italian_holidays(2026)
    assert date(2026, 4, 6) in days  # Lunedì dell'Angelo
    assert date(2026, 12, 8) in days and date(2026, 6, 2) in days
    assert date(2026, 10, 4) in days  # San Francesco, again a national holiday from 2026
    assert date(2025, 10, 4) not in italian_holidays(2025)
    assert not is_holiday(date(2026, 12, 9))
    assert len(days) == 13


def test_suggestions_skip_holidays_and_keep_weekdays() -> None:
    # 1 Dec 2026 (a Tuesday): Tuesday 8 December is the Immacolata.
    now = datetime(2026, 12, 1, 8, tzinfo=UTC)
    slots = wizard_suggestions(
        now=now, tz=ROME, weekdays=(1, 3), at=time(17), duration=timedelta(hours=2)
    )
    days = [s.starts_at.astimezone(ROME).date() for s in slots]
    assert date(2026, 12, 8) not in days
    assert date(2026, 12, 3) in days and date(2026, 12, 10) in days
    assert all(d.weekday() in (1, 3) for d in days)
    assert all(s.starts_at.astimezone(ROME).hour == 17 for s in slots)
    assert all(s.ends_at - s.starts_at == timedelta(hours=2) for s in slots)
    assert len(slots) == 8
    assert all(s.starts_at > now + timedelta(hours=24) for s in slots)


def test_monthly_slots_second_and_third_week() -> None:
    now = datetime(2027, 3, 1, 8, tzinfo=UTC)
    slots = monthly_slots(
        year=2027,
        month=3,
        now=now,
        tz=ROME,
        weekdays=(1, 3),
        at=time(17),
        duration=timedelta(hours=2),
    )
    days = [s.starts_at.astimezone(ROME).date() for s in slots]
    assert days == [date(2027, 3, 9), date(2027, 3, 11), date(2027, 3, 16), date(2027, 3, 18)]
    # After the change to summer time (28 March 2027) 17:00 is still 17:00 locally.
    late = monthly_slots(
        year=2027,
        month=3,
        now=datetime(2027, 3, 20, 8, tzinfo=UTC),
        tz=ROME,
        weekdays=(1, 3),
        at=time(17),
        duration=timedelta(hours=2),
    )
    assert [s.starts_at for s in late] == [
        datetime(2027, 3, 23, 16, tzinfo=UTC),
        datetime(2027, 3, 25, 16, tzinfo=UTC),
        datetime(2027, 3, 30, 15, tzinfo=UTC),
    ]


def test_monthly_poll_due_catch_up_only_within_the_month() -> None:
    assert (
        monthly_poll_due(now=datetime(2026, 12, 1, 7, 59, tzinfo=UTC), tz=ROME, day=1, hour=9)
        is None
    )
    assert monthly_poll_due(
        now=datetime(2026, 12, 1, 8, 0, tzinfo=UTC), tz=ROME, day=1, hour=9
    ) == (
        "2026-12",
        2026,
        12,
    )
    # Down for two weeks: the month is not over, the poll still opens (for this month).
    assert (
        monthly_poll_due(now=datetime(2026, 12, 15, 8, tzinfo=UTC), tz=ROME, day=1, hour=9)[0]
        == "2026-12"
    )  # type: ignore[index]
    # 31 December 23:30 UTC is already January in Rome: January's poll, not December's.
    due = monthly_poll_due(now=datetime(2026, 12, 31, 23, 30, tzinfo=UTC), tz=ROME, day=1, hour=0)
    assert due is not None and due[0] == "2027-01"


def test_monthly_poll_hour_in_the_spring_gap_opens_when_the_clock_reaches_it() -> None:
    # 28 March 2027: 02:00 does not exist in Rome; the poll opens at 03:00 CEST (01:00 UTC).
    before = datetime(2027, 3, 28, 0, 59, tzinfo=UTC)
    assert monthly_poll_due(now=before, tz=ROME, day=28, hour=2) is None
    at = datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
    assert monthly_poll_due(now=at, tz=ROME, day=28, hour=2) == ("2027-03", 2027, 3)


def test_no_slot_suggested_at_a_wall_time_the_spring_change_skips() -> None:
    sunday = date(2027, 3, 28)
    common = {
        "tz": ROME,
        "first_day": sunday,
        "last_day": sunday + timedelta(days=7),
        "weekdays": (6,),
        "duration": timedelta(hours=2),
        "not_before": datetime(2027, 3, 1, tzinfo=UTC),
        "limit": 5,
    }
    slots = suggest_slots(at=time(2, 30), **common)  # type: ignore[arg-type]
    assert [s.starts_at for s in slots] == [datetime(2027, 4, 4, 0, 30, tzinfo=UTC)]


def test_month_span_is_the_local_month() -> None:
    assert month_span(2026, 12, ROME) == (
        datetime(2026, 11, 30, 23, tzinfo=UTC),
        datetime(2026, 12, 31, 23, tzinfo=UTC),
    )
    # March 2027 changes to summer time on the 28th: the month ends at 22:00 UTC.
    assert month_span(2027, 3, ROME)[1] == datetime(2027, 3, 31, 22, tzinfo=UTC)


def test_deadlines() -> None:
    now = datetime(2026, 12, 1, 8, tzinfo=UTC)
    first = datetime(2026, 12, 10, 16, tzinfo=UTC)
    assert default_deadline(now=now, tz=ROME, first_slot=first) == now + timedelta(days=5)
    near = datetime(2026, 12, 3, 16, tzinfo=UTC)
    assert default_deadline(now=now, tz=ROME, first_slot=near) == near - timedelta(hours=24)
    assert (
        default_deadline(now=now, tz=ROME, first_slot=now + timedelta(hours=24, minutes=30)) is None
    )
    assert (
        deadline_problem(now=now, deadline=now - timedelta(minutes=1), first_slot=first) == "past"
    )
    assert (
        deadline_problem(now=now, deadline=first - timedelta(hours=23), first_slot=first)
        == "too_late"
    )
    assert deadline_problem(now=now, deadline=first - timedelta(hours=24), first_slot=first) is None
    options = deadline_options(now=now, tz=ROME, first_slot=first)
    assert options == [now + timedelta(days=d) for d in (2, 3, 5, 7)]
    assert deadline_options(now=now, tz=ROME, first_slot=near) == [near - timedelta(hours=24)]


def test_local_to_utc_across_dst() -> None:
    # The one local-time helper (bot/localtime.py) is what the meeting rules use.
    assert local_to_utc(date(2026, 10, 27), time(17), ROME) == datetime(
        2026, 10, 27, 16, tzinfo=UTC
    )
    assert local_to_utc(date(2027, 3, 30), time(17), ROME) == datetime(2027, 3, 30, 15, tzinfo=UTC)
    assert not exists(date(2027, 3, 28), time(2, 30), ROME)  # does not exist
    # A wall time in the gap moves forward by the gap, as a wall clock would.
    assert local_to_utc(date(2027, 3, 28), time(2, 30), ROME) == datetime(
        2027, 3, 28, 1, 30, tzinfo=UTC
    )
    # The autumn overlap takes the first (summer-time) 02:30.
    assert local_to_utc(date(2026, 10, 25), time(2, 30), ROME) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )


def test_deadlines_keep_the_wall_clock_across_dst() -> None:
    # Friday 23 October 2026, 09:00 in Rome (07:00 UTC, summer time); winter time from the 25th.
    now = datetime(2026, 10, 23, 7, tzinfo=UTC)
    later = add_local_days(now, 5, ROME)
    assert later.astimezone(ROME).hour == 9 and later == datetime(2026, 10, 28, 8, tzinfo=UTC)
    first = datetime(2026, 11, 10, 16, tzinfo=UTC)
    assert default_deadline(now=now, tz=ROME, first_slot=first) == later
    assert [
        d.astimezone(ROME).hour for d in deadline_options(now=now, tz=ROME, first_slot=first)
    ] == [9, 9, 9, 9]
    # Into the spring gap: 02:30 does not exist on 28 March 2027, an hour later does.
    gap = add_local_days(datetime(2027, 3, 27, 1, 30, tzinfo=UTC), 1, ROME)
    assert gap.astimezone(ROME).hour == 3 and gap.astimezone(ROME).minute == 30


def test_the_monthly_poll_is_for_the_tables_still_without_a_meeting() -> None:
    both, political, technical = PollTable.BOTH, PollTable.POLITICAL, PollTable.TECHNICAL
    assert monthly_poll_table(usual=both, planned=[]) == both
    assert monthly_poll_table(usual=both, planned=[technical]) == political
    assert monthly_poll_table(usual=both, planned=[political, political]) == technical
    assert monthly_poll_table(usual=both, planned=[political, technical]) is None
    assert monthly_poll_table(usual=both, planned=[both]) is None
    assert monthly_poll_table(usual=political, planned=[technical]) == political
    assert monthly_poll_table(usual=political, planned=[both]) is None
    assert monthly_poll_table(usual=technical, planned=[political]) == technical


def test_poll_links_are_short_and_strict() -> None:
    assert start_link("mg", 123) == "mg-123"
    assert parse_start_link("mg-123") == ("mg", 123)
    assert parse_start_link("pv-999999999") == ("pv", 999999999)
    for payload in (
        None,
        "",
        "mg-0",
        "mg-01",
        "mg-1234567890",  # 10 digits: past PostgreSQL's INTEGER, never looked up
        "mg-1234567890123",
        "mg-12\n",
        "mg-12 ",
        "MG-12",
        "xx-12",
        "mg_12",
        "mg-12-1",
        "pv-",
        "mg-١٢",  # digits, but not ASCII ones
        "A" * 32,  # an invite token
    ):
        assert parse_start_link(payload) is None, payload


@given(st.integers(min_value=1, max_value=10**9 - 1), st.sampled_from(["mg", "pv"]))
def test_every_poll_link_fits_telegram(poll_id: int, kind: str) -> None:
    payload = start_link(kind, poll_id)
    assert len(payload) <= 64 and payload.isascii()
    assert all(c.isalnum() or c in "_-" for c in payload)
    assert parse_start_link(payload) == (kind, poll_id)


def test_who_may_pin() -> None:
    assert may_pin(status="administrator", can_pin_messages=True)
    assert may_pin(status="administrator", can_pin_messages=None)  # a basic group's admin
    assert may_pin(status="creator", can_pin_messages=None)
    assert not may_pin(status="administrator", can_pin_messages=False)
    assert not may_pin(status="member", can_pin_messages=None)
    assert not may_pin(status="restricted", can_pin_messages=True)
    assert not may_pin(status="left", can_pin_messages=None)
