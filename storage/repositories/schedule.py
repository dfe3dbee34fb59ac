"""The tick's one question — which kinds of scheduled work are due now — asked in one statement,
and the bookkeeping that keeps that question cheap (bot.services.schedule has the rules).

Two sources answer it:

- **probes**: a kind whose work is "rows in this state" (an open poll past its deadline, a
  pending outbox row due, a message owed an edit) is due while such a row exists: an EXISTS in
  the one statement;
- **hints** (table `due_work`): a kind whose work comes due by the calendar (the month's poll on
  the Union's day and hour, a round's reminders, a meeting's reminders) stores after each run the
  earliest moment it may have something to do; a write that may bring that moment forward wakes
  it (`awake`), in the writer's own transaction, through the listener below.

The wake listener: `watch(kind, table, columns)` says that a write to `table` (an insert or a
delete, or an update of one of `columns`; any update when None) wakes `kind`. Every Session
collects the tables it writes (ORM flushes and DML statements run through `session.execute`)
and, before its COMMIT, raises `awake` and counts `woken` for the kinds they wake: one UPDATE,
only in transactions that wrote a watched table (never a vote or an update step's
percentage). `woken` lets the tick store a new hint only if no wake came in meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    case,
    cast,
    event,
    exists,
    func,
    inspect,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.session import ORMExecuteState
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.elements import ColumnElement

from storage.models import (
    DueWork,
    JobClaim,
    Meeting,
    MeetingPoll,
    MenuOwed,
    OutboxMessage,
    OutboxStatus,
    PollStatus,
    RoundStatus,
    Union,
    UpdateRound,
    UpdateSettings,
)
from storage.models.base import UTCDateTime
from storage.repositories import actions as actions_repo
from storage.repositories import registration as registration_repo
from storage.repositories import summaries as summaries_repo
from storage.repositories.common import insert_ignore
from storage.repositories.outbox import (
    due_where,
    expired_where,
    offerable_where,
    owed_where,
    unreported_where,
)

# --- waking ---------------------------------------------------------------------------------

# table → kind → the columns whose update wakes it (None: any update)
_WATCHED: dict[str, dict[str, frozenset[str] | None]] = {}
_WOKEN = "storage.schedule.woken"


def watch(kind: str, table: str, columns: Iterable[str] | None = None) -> None:
    """A write to `table` (an insert, a delete, an update of `columns` or of any column when
    None) wakes `kind`. Idempotent; process-wide, as the models are."""
    _WATCHED.setdefault(table, {})[kind] = None if columns is None else frozenset(columns)


def _woken(session: Session) -> set[str]:
    woken: set[str] = session.info.setdefault(_WOKEN, set())
    return woken


@event.listens_for(Session, "before_flush")
def _collect_flush(session: Session, _context: Any, _instances: Any) -> None:
    if not _WATCHED:
        return
    for obj in (*session.new, *session.deleted):
        kinds = _WATCHED.get(getattr(obj, "__tablename__", ""))
        if kinds:
            _woken(session).update(kinds)
    for obj in session.dirty:
        kinds = _WATCHED.get(getattr(obj, "__tablename__", ""))
        if not kinds or not session.is_modified(obj):
            continue
        attrs = _changed(obj)
        _woken(session).update(k for k, cols in kinds.items() if cols is None or cols & attrs)


def _changed(obj: object) -> frozenset[str]:
    state = inspect(obj)
    return frozenset(a.key for a in state.attrs if a.history.has_changes())


@event.listens_for(Session, "do_orm_execute")
def _collect_statement(state: ORMExecuteState) -> None:
    if not _WATCHED or not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    kinds = _WATCHED.get(getattr(table, "name", ""))
    if not kinds:
        return
    statement = state.statement
    if not isinstance(statement, Update):  # an insert or a delete wakes every kind watching
        _woken(state.session).update(kinds)
        return
    names = _set_columns(statement, state.parameters)
    _woken(state.session).update(k for k, cols in kinds.items() if cols is None or cols & names)


def _set_columns(statement: Update, parameters: Any) -> frozenset[str]:
    """The columns an UPDATE sets: its SET clause (`.values(...)`, whatever the value: a
    parameter, `col + 1`, a CASE), or the keys of an ORM bulk update's rows
    (`session.execute(update(Model), [{"id": …, "status": …}])`). SQLAlchemy has no public
    accessor for the SET clause; its compiled parameters are no substitute (an expression's
    column has none, only its literals: `attempts_1`)."""
    names = {getattr(column, "key", str(column)) for column in statement._values or ()}
    rows = parameters if isinstance(parameters, Sequence) else [parameters or {}]
    for row in rows:
        names.update(row)
    return frozenset(names)


@event.listens_for(Session, "before_commit")
def _wake(session: Session) -> None:
    if not _WATCHED:
        return
    session.flush()  # what the COMMIT would flush next: its tables count too
    kinds = session.info.pop(_WOKEN, None)
    if kinds:
        _JUST_WOKEN.update(kinds)
        session.execute(
            update(DueWork)
            .where(DueWork.kind.in_(sorted(kinds)))
            .values(awake=True, woken=DueWork.woken + 1)
        )


# Kinds woken in this process since the tick last looked: a kind later in the tick's list than
# the work that woke it runs in the same tick (a poll closed on a date opens the round at once).
# Process-wide like the listener; another bot's wake in the same process only makes a kind run
# once more, early, which is harmless.
_JUST_WOKEN: set[str] = set()


def take_woken() -> set[str]:
    """The kinds woken by writes in this process since the last call."""
    woken = set(_JUST_WOKEN)
    _JUST_WOKEN.clear()
    return woken


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_WOKEN, None)


# --- the one question -------------------------------------------------------------------------


@dataclass(frozen=True)
class Hint:
    kind: str
    due_at: datetime | None
    awake: bool
    woken: int


@dataclass(frozen=True)
class Snapshot:
    """What the tick's one statement found."""

    hints: dict[str, Hint]
    probed: frozenset[str]  # the kinds whose probe found rows
    outbox: dict[str, int]  # pending / sending / uncertain rows, by status
    reports_owed: int


async def read(
    session: AsyncSession,
    *,
    probes: Mapping[str, ColumnElement[bool]],
    owed_prefixes: Sequence[str],
    owed_since: datetime,
) -> Snapshot:
    """The hints, the probes, the outbox's counts for the health file: one statement."""
    text, when = String(64), cast(null(), UTCDateTime())
    parts: list[Any] = [
        select(
            literal("hint", text),
            DueWork.kind,
            DueWork.due_at,
            case((DueWork.awake, 1), else_=0),
            DueWork.woken,
        )
    ]
    for name, clause in probes.items():
        parts.append(
            select(
                literal("probe", text),
                literal(name, text),
                when,
                case((clause, 1), else_=0),
                literal(0, Integer()),
            )
        )
    status = cast(OutboxMessage.status, text)
    parts.append(
        select(literal("outbox", text), status, when, literal(0, Integer()), func.count())
        .where(
            OutboxMessage.status.in_(
                [OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.UNCERTAIN]
            )
        )
        .group_by(status)
    )
    parts.append(
        select(
            literal("owed", text), literal("", text), when, literal(0, Integer()), func.count()
        ).where(*owed_where(owed_prefixes, owed_since))
    )
    hints: dict[str, Hint] = {}
    probed: set[str] = set()
    outbox: dict[str, int] = {}
    owed = 0
    for tag, name, due_at, flag, number in (await session.execute(union_all(*parts))).all():
        if tag == "hint":
            hints[name] = Hint(name, due_at, bool(flag), int(number))
        elif tag == "probe" and flag:
            probed.add(name)
        elif tag == "outbox":
            outbox[str(name)] = int(number)
        elif tag == "owed":
            owed = int(number)
    return Snapshot(hints, frozenset(probed), outbox, owed)


async def add_missing(session: AsyncSession, kinds: Iterable[str]) -> None:
    """Rows for kinds that have none yet (due, awake): a wake can only raise an existing row."""
    for kind in kinds:
        await insert_ignore(
            session, DueWork, {"kind": kind, "due_at": None, "awake": True, "woken": 0}, ["kind"]
        )


async def settle(session: AsyncSession, *, kind: str, due_at: datetime | None, woken: int) -> bool:
    """The kind ran: it is next due at `due_at` (None: only a wake brings it back). Not stored
    when a wake came in since the tick read `woken` (it stays awake: it runs again). True when
    stored."""
    result = await session.execute(
        update(DueWork)
        .where(DueWork.kind == kind, DueWork.woken == woken)
        .values(due_at=due_at, awake=False)
    )
    return bool(getattr(result, "rowcount", 0))


# --- probes: "rows in this state make the kind due" -------------------------------------------


def polls_past_deadline(now: datetime) -> ColumnElement[bool]:
    return exists().where(MeetingPoll.status == PollStatus.OPEN, MeetingPoll.deadline_at <= now)


def pins_owed(owed_kind: str, done_kind: str, *, since: datetime) -> ColumnElement[bool]:
    """A pin claimed as owed since `since` and not settled (Telegram failed it: retried with a
    backoff; the work looks back as far)."""
    done = aliased(JobClaim)
    return exists().where(
        JobClaim.kind == owed_kind,
        JobClaim.claimed_at >= since,
        ~exists().where(
            done.kind == done_kind,
            done.union_id == JobClaim.union_id,
            done.period == JobClaim.period,
        ),
    )


def rounds_owing_report(invite_prefix: str, claim_kind: str) -> ColumnElement[bool]:
    """An open round owing its report on who could not be reached (the rule:
    storage.repositories.actions.round_owes_unreachable_report)."""
    return exists().where(*actions_repo.round_owes_unreachable_report(invite_prefix, claim_kind))


def summaries_owed(now: datetime) -> ColumnElement[bool]:
    """A round past its deadline without its scheduled summary (nor skipped), a recent summary
    whose pictures are not queued yet, or an update that asks for a decision not made a
    Decision yet: storage.repositories.summaries' three reads, with their own conditions."""
    return or_(
        exists().where(*summaries_repo.round_owes_summary(now)),
        exists().where(*summaries_repo.summary_owes_pictures(now)),
        exists().where(*summaries_repo.update_owes_decision()),
    )


def announcements_to_report() -> ColumnElement[bool]:
    return exists().where(*summaries_repo.announcement_owes_report())


def copies_to_wipe() -> ColumnElement[bool]:
    return exists().where(*registration_repo.copy_to_wipe())


def menus_owed() -> ColumnElement[bool]:
    """A private chat owed its own command menu (bot.handlers.common: `menu_owed`)."""
    return exists().where(MenuOwed.chat_id.is_not(None))


def rows_marked(models: Iterable[Any]) -> ColumnElement[bool]:
    """A tracked message owed an edit (bot.message_refresh: `dirty_since` set)."""
    return or_(*(exists().where(m.dirty_since.is_not(None)) for m in models))


def outbox_due(now: datetime) -> ColumnElement[bool]:
    """A pending row due by now, or one whose moment passed (withdrawn by the flush)."""
    return or_(exists().where(*due_where(now)), exists().where(*expired_where(now)))


def problems_unreported(exclude: Sequence[tuple[str, Sequence[str]]]) -> ColumnElement[bool]:
    """storage.repositories.outbox.unreported_problems, as a probe (the same conditions)."""
    return exists().where(*unreported_where(exclude))


def reports_to_offer(prefixes: Sequence[str], since: datetime) -> ColumnElement[bool]:
    """An owed report the tick would offer again (bot.delivery.reoffer_reports)."""
    return exists().where(*owed_where(prefixes, since), offerable_where())


# --- what the hints are computed from (read only after a kind ran) ----------------------------


async def open_poll_deadlines(session: AsyncSession) -> list[datetime]:
    rows = await session.execute(
        select(MeetingPoll.deadline_at).where(MeetingPoll.status == PollStatus.OPEN)
    )
    return list(rows.scalars())


async def meeting_starts_after(session: AsyncSession, *, after: datetime) -> list[datetime]:
    rows = await session.execute(select(Meeting.starts_at).where(Meeting.starts_at > after))
    return list(rows.scalars())


async def round_settings(session: AsyncSession) -> list[tuple[str, UpdateSettings | None]]:
    """(time zone, its round settings or None for the defaults) of every Union."""
    rows = await session.execute(
        select(Union.timezone, UpdateSettings).outerjoin(
            UpdateSettings, UpdateSettings.union_id == Union.id
        )
    )
    return [(tz, s) for tz, s in rows.all()]


async def open_round_moments(session: AsyncSession) -> list[tuple[datetime, datetime]]:
    """(opened at, deadline) of every open round."""
    rows = await session.execute(
        select(UpdateRound.opened_at, UpdateRound.deadline_at).where(
            UpdateRound.status == RoundStatus.OPEN
        )
    )
    return [(o, d) for o, d in rows.all()]


async def paes_timezones(session: AsyncSession) -> list[str]:
    rows = await session.execute(
        select(Union.timezone).where(Union.paes_approved_on.is_not(None)).distinct()
    )
    return list(rows.scalars())
