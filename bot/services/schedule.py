"""When each kind of the tick's work is due: the rules behind "a quiet tick costs one query".

The tick (bot.jobs) asks the database one question (storage.repositories.schedule.read) and runs
only the kinds of work this module finds due; the others cost nothing. A kind is due when

- it has never run in this process (the first tick after a start runs everything: catch-up), or
  the clock went back since the last tick (a hint computed in the "future" is not trusted);
- its **probe** finds rows in a due state (an open poll past its deadline, a pending outbox row
  due, a round past its deadline without its summary): work that ends by changing those rows;
- its **hint** is due: the moment stored after its last run (the earliest by the calendar it may
  have something to do: the Union's day and hour of the monthly poll, a round's reminders, the
  day before a meeting) has come, or a write since then woke it (`wakes`: a new meeting, changed
  settings, a technician approved during a round); a missed moment stays due until it runs, so
  a tick that comes late (the bot was down, the clock jumped forward) catches it up;
- it waits for sends (`after_sends`) and this instance sent outbox messages since the last tick
  (only the scheduler's instance sends: bot.jobs).

Nothing here decides *what* to do: each kind's work still reads and claims as before, so a kind
run when it had nothing to do does nothing (claims, the outbox's dedup keys and status
transitions keep every effect once). Running early is harmless; running late is the fault
these rules must not have: a hint is never later than the moment the work would find something,
and every write that could bring it forward wakes it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.localtime import local_to_utc
from bot.services.meetings import rules as meeting_rules
from bot.services.meetings.agenda import convocation_bounds
from bot.services.meetings.attendance import CHECK_IN_OPENS_BEFORE
from bot.services.meetings.pins import PIN_DONE, PIN_LOOKBACK, PIN_OWED
from bot.services.meetings.tasks import ROUND_CLAIM as TASK_ROUND_CLAIM
from bot.services.progress import rules as round_rules
from bot.services.progress.rounds import UNREACHABLE_CLAIM, settings_of_row
from bot.services.progress.status import INVITE_PREFIX
from storage.repositories import agenda as agenda_repo
from storage.repositories import meetings as meetings_repo
from storage.repositories import minutes as minutes_repo
from storage.repositories import schedule as repo
from storage.repositories import tasks as tasks_repo
from storage.repositories.schedule import Hint, Snapshot

NextDue = Callable[[AsyncSession, datetime], Awaitable[datetime | None]]
Probe = Callable[[datetime], ColumnElement[bool]]


@dataclass(frozen=True)
class Wake:
    """A write to `table` wakes the kind: an insert or a delete, or an update of `columns`
    (any column when None)."""

    table: str
    columns: tuple[str, ...] | None = None


@dataclass(frozen=True)
class WhenDue:
    probe: Probe | None = None
    next_due: NextDue | None = None
    wakes: tuple[Wake, ...] = ()
    after_sends: bool = False

    @property
    def hinted(self) -> bool:
        """Kept in `due_work` (a moment, or wakes)."""
        return self.next_due is not None or bool(self.wakes)


# --- the rule ---------------------------------------------------------------------------------


def due_kinds(
    kinds: Iterable[str],
    *,
    when: Mapping[str, WhenDue],
    hints: Mapping[str, Hint],
    probed: frozenset[str] | set[str],
    sent: bool,
    now: datetime,
    last_tick: datetime | None,
) -> frozenset[str]:
    """The kinds to run at `now`. `last_tick`: the previous tick's moment in this process (None
    on the first); `sent`: this instance sent outbox messages since then. A kind with no
    `WhenDue` runs at every tick, as before this module."""
    kinds = list(kinds)
    if last_tick is None or now < last_tick:
        return frozenset(kinds)
    due = set()
    for kind in kinds:
        rule = when.get(kind)
        if rule is None:
            due.add(kind)
            continue
        if (
            (rule.hinted and _hint_due(hints.get(kind), now))
            or kind in probed
            or (rule.after_sends and sent)
        ):
            due.add(kind)
    return frozenset(due)


def _hint_due(hint: Hint | None, now: datetime) -> bool:
    """No row yet, woken by a write, or its moment has come (or passed: caught up)."""
    return hint is None or hint.awake or (hint.due_at is not None and hint.due_at <= now)


def earliest(moments: Iterable[datetime | None], *, after: datetime) -> datetime | None:
    """The first of `moments` strictly after `after` (those at or before it were due now and
    were done by the run that asks)."""
    ahead = [m for m in moments if m is not None and m > after]
    return min(ahead) if ahead else None


# --- the calendar of each kind (pure) ---------------------------------------------------------


def next_month(year: int, month: int) -> tuple[int, int]:
    return year + (month == 12), month % 12 + 1


def monthly_poll_moments(now: datetime, tz: ZoneInfo, *, day: int, hour: int) -> list[datetime]:
    """This month's and next month's automatic poll moments, in the Union's zone."""
    local = now.astimezone(tz)
    months = [(local.year, local.month), next_month(local.year, local.month)]
    return [
        meeting_rules.monthly_poll_opens(year=y, month=m, tz=tz, day=day, hour=hour)
        for y, m in months
    ]


def poll_reminder_moment(deadline_at: datetime) -> datetime:
    """A poll's reminder goes out in its last 24 hours (bot.services.meetings.reminders)."""
    return deadline_at - meeting_rules.DEADLINE_MARGIN


def meeting_moments(starts_at: datetime) -> list[datetime]:
    """The day-before and hour-before reminders, and the start (reminders missed are settled)."""
    return [starts_at - timedelta(hours=24), starts_at - timedelta(hours=1), starts_at]


def round_opening_moments(
    now: datetime, tz: ZoneInfo, settings: round_rules.RoundSettings
) -> list[datetime]:
    """When a Union's round may open with nothing else changing: this month's fallback opening
    and its deadline (a round not opened by then is settled as skipped), and the start of next
    month (a new period to decide). A meeting fixed meanwhile wakes the kind instead."""
    period = round_rules.period_of(now, tz)
    opening = round_rules.fallback_opening(period, tz, settings)
    skip = opening + timedelta(days=max(settings.fallback_deadline_days, 1))
    month_end = round_rules.month_bounds(period, tz)[1]
    return [opening, skip, month_end] if settings.enabled else [month_end]


def round_duty_moments(opened_at: datetime, deadline_at: datetime) -> list[datetime]:
    """An open round's reminders and its close (bot.services.progress.rules)."""
    return [
        opened_at + round_rules.FIRST_REMINDER_AFTER,
        deadline_at - round_rules.LAST_REMINDER_BEFORE,
        deadline_at,
    ]


def next_local_midnight(now: datetime, tz: ZoneInfo) -> datetime:
    day = now.astimezone(tz).date() + timedelta(days=1)
    return local_to_utc(day, time(0), tz)


def next_utc_midnight(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(0), UTC)


# --- the hints' reads (after a kind ran: never on a quiet tick) --------------------------------


async def _monthly_poll(session: AsyncSession, now: datetime) -> datetime | None:
    moments: list[datetime] = []
    for union, settings in await meetings_repo.all_settings(session):
        if settings.auto_poll_enabled:
            moments += monthly_poll_moments(
                now,
                ZoneInfo(union.timezone),
                day=settings.auto_poll_day,
                hour=settings.auto_poll_hour,
            )
    return earliest(moments, after=now)


async def _poll_reminders(session: AsyncSession, now: datetime) -> datetime | None:
    deadlines = await repo.open_poll_deadlines(session)
    return earliest((poll_reminder_moment(d) for d in deadlines), after=now)


async def _meeting_reminders(session: AsyncSession, now: datetime) -> datetime | None:
    starts = await repo.meeting_starts_after(session, after=now)
    return earliest((m for s in starts for m in meeting_moments(s)), after=now)


async def _attendance_lists(session: AsyncSession, now: datetime) -> datetime | None:
    """A meeting's attendance list goes out when its check-ins open (bot.services.meetings
    .attendance): 30 minutes before its start."""
    starts = await repo.meeting_starts_after(session, after=now)
    return earliest((s - CHECK_IN_OPENS_BEFORE for s in starts), after=now)


async def _rounds_open(session: AsyncSession, now: datetime) -> datetime | None:
    moments: list[datetime] = []
    for tz, row in await repo.round_settings(session):
        moments += round_opening_moments(now, ZoneInfo(tz), settings_of_row(row))
    return earliest(moments, after=now)


async def _round_duties(session: AsyncSession, now: datetime) -> datetime | None:
    rounds = await repo.open_round_moments(session)
    return earliest((m for o, d in rounds for m in round_duty_moments(o, d)), after=now)


async def _covenant(session: AsyncSession, now: datetime) -> datetime | None:
    zones = await repo.paes_timezones(session)
    return earliest((next_local_midnight(now, ZoneInfo(tz)) for tz in zones), after=now)


async def _daily(_session: AsyncSession, now: datetime) -> datetime | None:
    return next_utc_midnight(now)


# --- the kinds ----------------------------------------------------------------------------------

UNION = "municipal_union"

# Kinds of the tick itself (bot.jobs), after the features' work.
REOFFER = "outbox.reoffer_reports"
FLUSH = "outbox.flush"
PROBLEMS = "outbox.report_problems"
PURGE = "housekeeping.purge"
KIT_KINDS = (REOFFER, FLUSH, PROBLEMS, PURGE)
# bot.message_refresh's kind: due while a live message is owed an edit; its probe names the
# tables of the live messages the features registered, so bot.jobs builds it (`rows_marked`)
OWED_EDITS = "messages.owed_edits"

# The minutes' draft lookback lives with the meetings' rules: bot.services.meetings.minutes
# imports the documents' writers, which the tick does not need.
MINUTES_DRAFT_LOOKBACK = meeting_rules.MINUTES_DRAFT_LOOKBACK

# Every kind of the tick's work, IN THE TICK'S ORDER: bot.jobs runs the due ones in the order of
# this dict, whatever the order the areas register them in (`Services.add_due_work` refuses a
# kind that is not here; tests/e2e/test_tick_order.py checks both). The features' work first:
# the private menus and the erasure first; the meetings' own steps in their order (the monthly
# poll before its reminders; a poll closed before the meeting reminders and the pins that
# follow it); the live messages' edits once the meetings changed them; the rounds (opened
# before their duties), the summaries and the announcements' reports. Then the tick's own
# steps: re-offered reports, the outbox flushed, its problems reported, the daily purge.
SCHEDULE: dict[str, WhenDue] = {
    "common.private_menus": WhenDue(probe=lambda _now: repo.menus_owed()),
    "erasure_copies": WhenDue(probe=lambda _now: repo.copies_to_wipe()),
    "meetings.monthly_poll": WhenDue(
        next_due=_monthly_poll,
        wakes=(Wake("meeting_settings"), Wake(UNION, ("timezone",))),
    ),
    "meetings.poll_reminders": WhenDue(
        next_due=_poll_reminders,
        wakes=(Wake("meeting_poll", ("deadline_at", "status")),),
        after_sends=True,  # the report on who could not be reached waits for the reminders
    ),
    "meetings.close_due": WhenDue(probe=repo.polls_past_deadline),
    "meetings.convocations": WhenDue(
        probe=lambda now: agenda_repo.convocations_owed(now, **convocation_bounds(now))
    ),
    "meetings.task_round": WhenDue(
        probe=lambda _now: tasks_repo.rounds_owing_task_question(TASK_ROUND_CLAIM)
    ),
    "meetings.meeting_reminders": WhenDue(
        next_due=_meeting_reminders,
        wakes=(Wake("meeting", ("starts_at",)), Wake("meeting_settings")),  # reminders on/off
    ),
    "meetings.attendance_lists": WhenDue(
        next_due=_attendance_lists, wakes=(Wake("meeting", ("starts_at",)),)
    ),
    "meetings.pins": WhenDue(
        probe=lambda now: repo.pins_owed(PIN_OWED, PIN_DONE, since=now - PIN_LOOKBACK),
        after_sends=True,  # an announcement sent is a pin owed
    ),
    # The minutes (issue 19): a meeting ended without them; approved ones whose files a crash
    # kept from the group.
    "meetings.minutes_drafts": WhenDue(
        probe=lambda now: minutes_repo.drafts_owed(now, now - MINUTES_DRAFT_LOOKBACK)
    ),
    "meetings.minutes_posts": WhenDue(probe=lambda _now: minutes_repo.posts_owed()),
    OWED_EDITS: WhenDue(),  # its probe: bot.jobs
    "update_rounds_open": WhenDue(
        next_due=_rounds_open,
        wakes=(
            Wake("meeting", ("starts_at", "union_id")),
            Wake("update_settings"),
            Wake(UNION, ("timezone",)),
        ),
    ),
    "update_rounds_duties": WhenDue(
        next_due=_round_duties,
        # the report on who could not be reached, once the invitations were all tried
        probe=lambda _now: repo.rounds_owing_report(INVITE_PREFIX, UNREACHABLE_CLAIM),
        wakes=(
            Wake("update_round", ("status", "deadline_at")),
            # late joiners: a technician approved, given a Comune, given a Telegram id (the
            # invitation goes to it), or actions loaded
            Wake("member", ("status", "role")),
            Wake("member_municipality"),
            Wake("person", ("telegram_user_id",)),
            Wake("paes_action", ("municipality_id", "archived_at", "union_id")),
        ),
    ),
    "summaries.scheduled": WhenDue(probe=repo.summaries_owed),
    "summaries.covenant_clock": WhenDue(
        next_due=_covenant, wakes=(Wake(UNION, ("paes_approved_on", "timezone")),)
    ),
    "summaries.announcement_reports": WhenDue(probe=lambda _now: repo.announcements_to_report()),
    # The tick's own steps (bot.jobs): the outbox's probes are built there.
    REOFFER: WhenDue(),
    FLUSH: WhenDue(),
    PROBLEMS: WhenDue(),
    PURGE: WhenDue(next_due=_daily),
}


def install_wakes(schedule: Mapping[str, WhenDue]) -> None:
    """Tell the storage's wake listener which writes wake which kinds (idempotent)."""
    for kind, rule in schedule.items():
        for wake in rule.wakes:
            repo.watch(kind, wake.table, wake.columns)


install_wakes(SCHEDULE)


async def look(
    session: AsyncSession,
    *,
    when: Mapping[str, WhenDue],
    kit_probes: Mapping[str, ColumnElement[bool]],
    now: datetime,
    report_prefixes: Sequence[str],
    reports_since: datetime,
) -> Snapshot:
    """The tick's one statement: hints, every probe, the outbox's counts."""
    probes = {k: rule.probe(now) for k, rule in when.items() if rule.probe is not None}
    return await repo.read(
        session,
        probes={**probes, **kit_probes},
        owed_prefixes=report_prefixes,
        owed_since=reports_since,
    )


async def settle(
    session: AsyncSession, *, kind: str, rule: WhenDue, hint: Hint | None, now: datetime
) -> None:
    """After `kind` ran without error: store when it is next due (hinted kinds only)."""
    if not rule.hinted:
        return
    due_at = await rule.next_due(session, now) if rule.next_due is not None else None
    await repo.settle(session, kind=kind, due_at=due_at, woken=hint.woken if hint else 0)


async def add_missing(session: AsyncSession, kinds: Iterable[str]) -> None:
    await repo.add_missing(session, kinds)


__all__ = [
    "KIT_KINDS",
    "OWED_EDITS",
    "SCHEDULE",
    "Hint",
    "Snapshot",
    "Wake",
    "WhenDue",
    "due_kinds",
    "earliest",
    "install_wakes",
    "look",
    "settle",
]
