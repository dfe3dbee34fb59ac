"""PAES actions, their history, update rounds and answers. Never commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Protocol

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import connection_of, run_hot
from storage.models import (
    Action,
    ActionStatus,
    Conversation,
    JobClaim,
    Meeting,
    Member,
    MemberMunicipality,
    MemberStatus,
    Municipality,
    OutboxMessage,
    OutboxStatus,
    Person,
    ProgressUpdate,
    Role,
    RoundResponse,
    RoundStatus,
    Union,
    UpdateAttachment,
    UpdateNote,
    UpdateRound,
    UpdateSettings,
    UpdateSource,
)
from storage.repositories.common import insert_ignore
from storage.repositories.people import ShownName, shown_name

# The fields an import or an edit may set (status and progress move only through updates).
ACTION_FIELDS = (
    "code",
    "title",
    "sector",
    "municipality_id",
    "responsible",
    "start_on",
    "end_on",
    "energy_saved_mwh",
    "renewable_mwh",
    "co2_avoided_t",
    "cost_eur",
)

UNION_WIDE = -1  # filter value: intercommunal actions only
ROUND_SKIP_CLAIM = "upd_round_skip"  # a round whose deadline passed before it could open


# --- actions ------------------------------------------------------------------------------


async def list_actions(
    session: AsyncSession,
    *,
    union_id: int,
    municipality_id: int | None = None,
    status: ActionStatus | None = None,
    include_archived: bool = False,
) -> list[Action]:
    """The Union's actions, by code. `municipality_id=UNION_WIDE` gives the intercommunal ones."""
    stmt = select(Action).where(Action.union_id == union_id)
    if municipality_id == UNION_WIDE:
        stmt = stmt.where(Action.municipality_id.is_(None))
    elif municipality_id is not None:
        stmt = stmt.where(Action.municipality_id == municipality_id)
    if status is not None:
        stmt = stmt.where(Action.status == status)
    if not include_archived:
        stmt = stmt.where(Action.archived_at.is_(None))
    rows = await session.execute(stmt.order_by(Action.code, Action.id))
    return list(rows.scalars())


async def get_action(session: AsyncSession, *, union_id: int, action_id: int) -> Action | None:
    """The action, only if it belongs to this Union (ids come from buttons: never trusted)."""
    action = await session.get(Action, action_id)
    return action if action is not None and action.union_id == union_id else None


async def actions_by_code(session: AsyncSession, union_id: int) -> dict[str, Action]:
    """Every action of the Union (archived too), keyed by the code folded to lower case."""
    rows = await session.execute(select(Action).where(Action.union_id == union_id))
    return {a.code.casefold(): a for a in rows.scalars()}


# A press's context as plain columns, on the transaction's connection: a step is pressed every
# few seconds by every technician in a round, and ORM objects (their loading, the session's
# identity map, its autoflush) cost more CPU than the statement itself (bench/README.md,
# "Session 10").
_STEP_CONTEXT = (
    select(
        Person.language,
        Person.telegram_language,
        Action.id,
        Action.union_id,
        Action.municipality_id,
        Action.code,
        Action.title,
        Action.status,
        Action.progress,
        Action.archived_at,
        Member.id,
        Member.union_id,
        Member.role,
        Member.is_coordinator,
        MemberMunicipality.municipality_id,
        Conversation.flow,
        Conversation.step,
        Conversation.data,
        Conversation.updated_at,
        Conversation.expires_at,
        Union.timezone,
    )
    .select_from(Person)
    .outerjoin(Action, Action.id == bindparam("action_id", type_=Integer))
    .outerjoin(
        Member,
        and_(
            Member.person_id == Person.id,
            Member.union_id == func.coalesce(Action.union_id, bindparam("union_id", type_=Integer)),
            Member.status == MemberStatus.ACTIVE,
        ),
    )
    .outerjoin(Union, Union.id == Member.union_id)
    .outerjoin(MemberMunicipality, MemberMunicipality.member_id == Member.id)
    .outerjoin(
        Conversation,
        and_(
            Conversation.telegram_user_id == Person.telegram_user_id,
            Conversation.chat_id == bindparam("chat_id", type_=BigInteger),
        ),
    )
    .where(Person.telegram_user_id == bindparam("telegram_user_id", type_=BigInteger))
)


@dataclass(frozen=True)
class PressedAction:
    """The action a press names, as the dialogue uses it (no ORM object)."""

    id: int
    union_id: int
    municipality_id: int | None
    code: str
    title: str
    status: ActionStatus
    progress: int
    archived_at: datetime | None


@dataclass(frozen=True)
class Membership:
    """An active membership, as a press re-reads it."""

    member_id: int
    union_id: int
    role: Role
    coordinator: bool


@dataclass(frozen=True)
class Dialogue:
    """A conversation row as read (`conversation`), expired or not."""

    flow: str
    step: str
    data: dict[str, Any]
    updated_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class StepContext:
    """What a press in the update flow needs, read in one round trip (bench/README.md)."""

    language: str | None  # the presser's, chosen with /lingua
    telegram_language: str | None
    action: PressedAction | None  # None when the press names no action, or one that is gone
    member: Membership | None  # the presser's active membership in the action's (or named) Union
    municipality_ids: tuple[int, ...]  # the member's Comuni
    conversation: Dialogue | None  # the presser's dialogue in this chat, expired or not
    timezone: str | None  # the membership's Union's


async def step_context(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    chat_id: int,
    action_id: int | None,
    union_id: int | None,
) -> StepContext | None:
    """The presser's languages, the pressed action, their membership in its Union (or in
    `union_id` when no action is named) and its time zone, their Comuni and their dialogue in
    this chat: one query, one row per Comune, on the transaction's connection (ORM changes not flushed yet are
    not seen). None when the presser is not a known person."""
    params = {
        "action_id": action_id,
        "union_id": union_id,
        "telegram_user_id": telegram_user_id,
        "chat_id": chat_id,
    }
    rows = await run_hot(await connection_of(session), _STEP_CONTEXT, params)
    if not rows:
        return None
    r = rows[0]
    return StepContext(
        language=r[0],
        telegram_language=r[1],
        action=PressedAction(*r[2:10]) if r[2] is not None else None,
        member=Membership(r[10], r[11], r[12], r[13]) if r[10] is not None else None,
        municipality_ids=tuple(row[14] for row in rows if row[14] is not None),
        conversation=Dialogue(r[15], r[16], r[17], r[18], r[19]) if r[15] is not None else None,
        timezone=r[20],
    )


async def upsert_actions(
    session: AsyncSession,
    *,
    union_id: int,
    rows: Sequence[dict[str, object]],
    now: datetime,
) -> tuple[int, int]:
    """Create or update actions by code (case-insensitive). Never deletes; re-activates archived.

    Returns (created, updated). History rows are untouched: they hang on the action id.
    """
    existing = await actions_by_code(session, union_id)
    created = updated = 0
    for values in rows:
        code = str(values["code"])
        action = existing.get(code.casefold())
        if action is None:
            action = Action(
                union_id=union_id,
                status=ActionStatus.NOT_STARTED,
                progress=0,
                created_at=now,
                updated_at=now,
                **{k: values.get(k) for k in ACTION_FIELDS},
            )
            session.add(action)
            existing[code.casefold()] = action
            created += 1
            continue
        changed = action.archived_at is not None
        for key in ACTION_FIELDS:
            if getattr(action, key) != values.get(key):
                setattr(action, key, values.get(key))
                changed = True
        if changed:
            action.archived_at = None
            action.updated_at = now
            updated += 1
    await session.flush()
    return created, updated


# --- the round's list ----------------------------------------------------------------------


@dataclass(frozen=True)
class ListedAction:
    """An action as the round's list shows it (columns only: no ORM object to load)."""

    id: int
    code: str
    title: str
    municipality_id: int | None
    status: ActionStatus
    progress: int
    comune: str | None  # its Comune's name; None: intercommunal
    done: bool  # updated (or confirmed) in the round, by anyone


def _mine(
    union_id: Any, municipality_ids: Sequence[int] | Sequence[BindParameter[Any]]
) -> list[object]:
    """Open actions of these Comuni plus the intercommunal ones: what a technician reports on
    (the Comuni's ids, or a bind parameter for each; none: intercommunal only)."""
    where: list[object] = [Action.union_id == union_id, Action.archived_at.is_(None)]
    if municipality_ids:
        where.append(
            or_(Action.municipality_id.in_(municipality_ids), Action.municipality_id.is_(None))
        )
    else:
        where.append(Action.municipality_id.is_(None))
    return where


@cache
def _round_list(in_round: bool, comuni: int | None) -> Any:
    """round_list's statement, built once per shape (a step of the round shows the list):
    `in_round` whether it tells the actions answered in a round (`round_id`); `comuni` the
    number of a technician's Comuni (`id_0`, `id_1` …: one bound parameter each, so the
    statement is compiled once, where an expanding IN is rendered per call; 0: intercommunal
    actions only), None for every open action of the Union."""
    done = (
        exists().where(
            ProgressUpdate.round_id == bindparam("round_id", type_=Integer),
            ProgressUpdate.action_id == Action.id,
        )
        if in_round
        else literal(False)
    )
    where: list[object] = [Action.union_id == bindparam("union_id"), Action.archived_at.is_(None)]
    if comuni is not None:
        ids = [bindparam(f"id_{n}", type_=Integer) for n in range(comuni)]
        where = _mine(bindparam("union_id"), ids)
    return (
        select(
            Action.id,
            Action.code,
            Action.title,
            Action.municipality_id,
            Action.status,
            Action.progress,
            Municipality.name,
            done,
        )
        .outerjoin(Municipality, Municipality.id == Action.municipality_id)
        .where(*where)  # type: ignore[arg-type]
        .order_by(Action.municipality_id.is_(None), Action.code, Action.id)
    )


async def round_list(
    session: AsyncSession,
    *,
    union_id: int,
    municipality_ids: Sequence[int] | None,
    round_id: int | None,
) -> list[ListedAction]:
    """The technician's actions in list order, each with its Comune's name and whether it was
    answered in the round: one statement, plain rows, on the transaction's connection (a step
    of the round shows this list). `municipality_ids` None: every open action of the Union, in
    the same order (read once for all of a round's technicians)."""
    ids = sorted(set(municipality_ids)) if municipality_ids is not None else None
    stmt = _round_list(round_id is not None, len(ids) if ids is not None else None)
    params: dict[str, Any] = {"union_id": union_id, "round_id": round_id}
    params |= {f"id_{n}": i for n, i in enumerate(ids or ())}
    rows = await run_hot(await connection_of(session), stmt, params)
    return [
        ListedAction(
            id=i,
            code=code,
            title=title,
            municipality_id=mun,
            status=status,
            progress=progress,
            comune=name,
            done=bool(is_done),
        )
        for i, code, title, mun, status, progress, name, is_done in rows
    ]


# An answer in the history: its INSERT and the columns it gives (confirm_unchanged's too).
_ADD_UPDATE = insert(ProgressUpdate).returning(ProgressUpdate.id)
_ADD_UPDATE_COLUMNS = (
    "action_id",
    "member_id",
    "round_id",
    "source",
    "previous_status",
    "status",
    "previous_progress",
    "progress",
    "note",
    "needs_decision",
    "decision_question",
    "created_at",
)


async def confirm_unchanged(
    session: AsyncSession,
    *,
    union_id: int,
    municipality_ids: Sequence[int],
    round_id: int,
    member_id: int,
    now: datetime,
) -> int:
    """«Il resto è invariato»: a confirmation (status and percentage carried over, no note) for
    each of these actions not yet answered in the round — one INSERT … SELECT. Returns how many."""
    answered = exists().where(
        ProgressUpdate.round_id == round_id, ProgressUpdate.action_id == Action.id
    )
    column = ProgressUpdate.__table__.c
    rows = select(
        Action.id,
        literal(member_id, column.member_id.type),
        literal(round_id, column.round_id.type),
        literal(UpdateSource.PRIVATE, column.source.type),
        Action.status,
        Action.status,
        Action.progress,
        Action.progress,
        literal(False, column.needs_decision.type),
        literal(now, column.created_at.type),
    ).where(*_mine(union_id, municipality_ids), ~answered)  # type: ignore[arg-type]
    # A confirmation has no note and no question: the answer's columns without those two.
    confirmed = [c for c in _ADD_UPDATE_COLUMNS if c not in ("note", "decision_question")]
    result = await session.execute(insert(ProgressUpdate).from_select(confirmed, rows))
    return int(getattr(result, "rowcount", 0) or 0)


@cache
def _amend(columns: tuple[str, ...]) -> Any:
    """amend_update's statement for these columns, built once per set of them."""
    return (
        update(ProgressUpdate)
        .where(
            ProgressUpdate.id == bindparam("b_id"),
            ProgressUpdate.action_id == bindparam("b_action_id"),
            ProgressUpdate.member_id == bindparam("b_member_id"),
        )
        .values({c: bindparam(f"b_{c}") for c in columns})
        .returning(ProgressUpdate.id)  # whether it matched (run_hot gives rows, not a count)
    )


_ACTION_PROGRESS = (
    update(Action)
    .where(Action.id == bindparam("b_action_id"))
    .values(progress=bindparam("b_progress"), updated_at=bindparam("b_now"))
)


async def amend_update(
    session: AsyncSession,
    *,
    update_id: int,
    action_id: int,
    member_id: int,
    progress: int | None = None,
    note: str | None = None,
    question: str | None = None,
    now: datetime,
) -> bool:
    """Complete an answer just saved (its percentage, its note, the question for the political
    table): the same history row, and the action's percentage with it. False when the row is
    not this member's answer on this action. Core statements on the transaction's connection:
    ORM objects of that row or action loaded in this session are not refreshed."""
    values: dict[str, object] = {}
    if progress is not None:
        values["b_progress"] = progress
    if note is not None:
        values["b_note"] = note
    if question is not None:
        values["b_needs_decision"], values["b_decision_question"] = True, question
    if not values:
        return False
    conn = await connection_of(session)
    keys = {"b_id": update_id, "b_action_id": action_id, "b_member_id": member_id}
    if not await run_hot(conn, _amend(tuple(k[2:] for k in values)), {**keys, **values}):
        return False
    if progress is not None:
        await run_hot(
            conn, _ACTION_PROGRESS, {"b_action_id": action_id, "b_progress": progress, "b_now": now}
        )
    return True


async def add_attachment(
    session: AsyncSession, *, update_id: int, attachment: AttachmentIn
) -> None:
    await session.execute(
        insert(UpdateAttachment).values(
            update_id=update_id,
            kind=attachment.kind,
            file_id=attachment.file_id,
            file_unique_id=attachment.file_unique_id,
            file_name=attachment.file_name,
            mime_type=attachment.mime_type,
        )
    )


# --- progress updates (the history) -------------------------------------------------------


@dataclass(frozen=True)
class AttachmentIn:
    kind: str
    file_id: str
    file_unique_id: str
    file_name: str | None = None
    mime_type: str | None = None


class CurrentState(Protocol):
    """What recording an update reads of its action: an `Action` or the dialogue's copy."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> ActionStatus: ...
    @property
    def progress(self) -> int: ...


_ACTION_STATE = (
    update(Action)
    .where(Action.id == bindparam("b_action_id"))
    .values(
        status=bindparam("b_status"),
        progress=bindparam("b_progress"),
        updated_at=bindparam("b_now"),
    )
)


async def record_update(
    session: AsyncSession,
    *,
    action: CurrentState,
    member_id: int | None,
    round_id: int | None,
    source: UpdateSource,
    status: ActionStatus,
    progress: int,
    note: str | None,
    now: datetime,
    needs_decision: bool = False,
    decision_question: str | None = None,
    attachments: Sequence[AttachmentIn] = (),
) -> int:
    """Append one update to the history and move the action's current state (latest stands);
    returns the update's id. Core statements on the transaction's connection (an answer is the
    round's hot path): an `Action` loaded in this session keeps the state it was read with."""
    conn = await connection_of(session)
    added = await run_hot(
        conn,
        _ADD_UPDATE,
        {
            "action_id": action.id,
            "member_id": member_id,
            "round_id": round_id,
            "source": source,
            "previous_status": action.status,
            "status": status,
            "previous_progress": action.progress,
            "progress": progress,
            "note": note,
            "needs_decision": needs_decision,
            "decision_question": decision_question,
            "created_at": now,
        },
        column_keys=_ADD_UPDATE_COLUMNS,
    )
    update_id = int(added[0][0])
    await run_hot(
        conn,
        _ACTION_STATE,
        {"b_action_id": action.id, "b_status": status, "b_progress": progress, "b_now": now},
    )
    for a in attachments:
        await add_attachment(session, update_id=update_id, attachment=a)
    return update_id


@dataclass(frozen=True)
class HistoryEntry:
    update: ProgressUpdate
    author: ShownName  # FORMER_MEMBER once the author left (or when unknown)
    attachments: int


async def history(session: AsyncSession, *, action_id: int, limit: int = 50) -> list[HistoryEntry]:
    """Newest first."""
    rows = await session.execute(
        select(ProgressUpdate, Person)
        .outerjoin(Member, Member.id == ProgressUpdate.member_id)
        .outerjoin(Person, Person.id == Member.person_id)
        .where(ProgressUpdate.action_id == action_id)
        .order_by(ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc())
        .limit(limit)
    )
    entries = list(rows.all())
    counts: dict[int, int] = {}
    if entries:
        count_rows = await session.execute(
            select(UpdateAttachment.update_id, func.count())
            .where(UpdateAttachment.update_id.in_([u.id for u, _p in entries]))
            .group_by(UpdateAttachment.update_id)
        )
        counts = {uid: n for uid, n in count_rows.all()}
    return [
        HistoryEntry(update=u, author=shown_name(person), attachments=counts.get(u.id, 0))
        for u, person in entries
    ]


# --- settings, rounds ---------------------------------------------------------------------


async def settings_of(session: AsyncSession, union_id: int) -> UpdateSettings | None:
    return await session.get(UpdateSettings, union_id)


async def all_unions(session: AsyncSession) -> list[Union]:
    rows = await session.execute(select(Union).order_by(Union.id))
    return list(rows.scalars())


async def meetings_between(
    session: AsyncSession, *, union_id: int, start: datetime, end: datetime
) -> list[Meeting]:
    rows = await session.execute(
        select(Meeting)
        .where(
            Meeting.union_id == union_id,
            Meeting.cancelled_at.is_(None),
            Meeting.starts_at >= start,
            Meeting.starts_at < end,
        )
        .order_by(Meeting.starts_at)
    )
    return list(rows.scalars())


async def round_for_period(
    session: AsyncSession, *, union_id: int, period: str
) -> UpdateRound | None:
    return (
        await session.execute(
            select(UpdateRound).where(
                UpdateRound.union_id == union_id, UpdateRound.period == period
            )
        )
    ).scalar_one_or_none()


async def create_round(
    session: AsyncSession,
    *,
    union_id: int,
    period: str,
    meeting_id: int | None,
    deadline_at: datetime,
    now: datetime,
) -> UpdateRound | None:
    """The round of this period, created now; None when it already existed (never two)."""
    won = await insert_ignore(
        session,
        UpdateRound,
        {
            "union_id": union_id,
            "period": period,
            "meeting_id": meeting_id,
            "opened_at": now,
            "deadline_at": deadline_at,
            "status": RoundStatus.OPEN,
        },
        ["union_id", "period"],
    )
    if not won:
        return None
    return await round_for_period(session, union_id=union_id, period=period)


async def settled_periods(session: AsyncSession, *, periods: Iterable[str]) -> set[tuple[int, str]]:
    """(Union, period) pairs with nothing left to decide: a round exists, or it was skipped."""
    wanted = list(periods)
    if not wanted:
        return set()
    rounds = await session.execute(
        select(UpdateRound.union_id, UpdateRound.period).where(UpdateRound.period.in_(wanted))
    )
    skipped = await session.execute(
        select(JobClaim.union_id, JobClaim.period).where(
            JobClaim.kind == ROUND_SKIP_CLAIM, JobClaim.period.in_(wanted)
        )
    )
    return {(u, p) for u, p in rounds.all()} | {(u, p) for u, p in skipped.all()}


async def skipped_with_meetings_ahead(
    session: AsyncSession, *, periods: Iterable[str], after: datetime
) -> list[tuple[int, str, datetime]]:
    """(Union, skipped period, meeting start) for each meeting starting after `after` in a
    Union with a skipped round and no round for that period: a meeting fixed after the skip
    may still earn its round (the caller checks the month and the deadline)."""
    wanted = list(periods)
    if not wanted:
        return []
    has_round = (
        select(UpdateRound.id)
        .where(UpdateRound.union_id == JobClaim.union_id, UpdateRound.period == JobClaim.period)
        .exists()
    )
    rows = await session.execute(
        select(JobClaim.union_id, JobClaim.period, Meeting.starts_at)
        .join(Meeting, Meeting.union_id == JobClaim.union_id)
        .where(
            JobClaim.kind == ROUND_SKIP_CLAIM,
            JobClaim.period.in_(wanted),
            ~has_round,
            Meeting.cancelled_at.is_(None),
            Meeting.starts_at > after,
        )
    )
    return [(u, p, starts) for u, p, starts in rows.all()]


async def open_rounds(session: AsyncSession) -> list[UpdateRound]:
    rows = await session.execute(
        select(UpdateRound).where(UpdateRound.status == RoundStatus.OPEN).order_by(UpdateRound.id)
    )
    return list(rows.scalars())


async def current_round(
    session: AsyncSession, *, union_id: int, now: datetime
) -> UpdateRound | None:
    """The Union's open round whose deadline is ahead (answers count for it)."""
    return (
        await session.execute(
            select(UpdateRound)
            .where(
                UpdateRound.union_id == union_id,
                UpdateRound.status == RoundStatus.OPEN,
                UpdateRound.deadline_at > now,
            )
            .order_by(UpdateRound.opened_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def latest_round(session: AsyncSession, *, union_id: int) -> UpdateRound | None:
    return (
        await session.execute(
            select(UpdateRound)
            .where(UpdateRound.union_id == union_id)
            .order_by(UpdateRound.opened_at.desc(), UpdateRound.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def round_by_announcement(
    session: AsyncSession, *, chat_id: int, message_id: int
) -> UpdateRound | None:
    return (
        await session.execute(
            select(UpdateRound).where(
                UpdateRound.announcement_chat_id == chat_id,
                UpdateRound.announcement_message_id == message_id,
            )
        )
    ).scalar_one_or_none()


# --- who answers --------------------------------------------------------------------------


@dataclass(frozen=True)
class Technician:
    member: Member
    person: Person
    municipality_ids: tuple[int, ...]


async def technicians(session: AsyncSession, union_id: int) -> list[Technician]:
    """Active Funzionari tecnici of the Union, with the Comuni they serve."""
    rows = await session.execute(
        select(Member, Person)
        .join(Person, Person.id == Member.person_id)
        .where(
            Member.union_id == union_id,
            Member.status == MemberStatus.ACTIVE,
            Member.role == Role.TECNICO,
        )
        .order_by(Person.display_name, Member.id)
    )
    pairs = list(rows.all())
    links: dict[int, list[int]] = {}
    if pairs:
        link_rows = await session.execute(
            select(MemberMunicipality.member_id, MemberMunicipality.municipality_id).where(
                MemberMunicipality.member_id.in_([m.id for m, _p in pairs])
            )
        )
        for member_id, municipality_id in link_rows.all():
            links.setdefault(member_id, []).append(municipality_id)
    return [
        Technician(member=m, person=p, municipality_ids=tuple(sorted(links.get(m.id, []))))
        for m, p in pairs
    ]


def round_owes_unreachable_report(invite_prefix: str, claim_kind: str) -> list[ColumnElement[bool]]:
    """Conditions on `UpdateRound`: an open round whose invitations (outbox keys
    `<invite_prefix><round id>:…`) were all tried — there is one, and none is pending or being
    sent — and whose report on who could not be reached is not claimed yet (`claim_kind`, by
    Union and period). The one rule for the round's duties
    (bot.services.progress.rounds: `_report_unreachable`, through `owes_unreachable_report`)
    and the tick's probe (storage.repositories.schedule.rounds_owing_report). The invitations'
    keys as an index range per round, as outbox.key_starts_with builds it."""
    key = literal(invite_prefix, String()) + cast(UpdateRound.id, String())
    invitations = and_(
        OutboxMessage.dedup_key >= key + literal(":", String()),
        OutboxMessage.dedup_key < key + literal(";", String()),
    )
    return [
        UpdateRound.status == RoundStatus.OPEN,
        ~exists().where(
            JobClaim.kind == claim_kind,
            JobClaim.union_id == UpdateRound.union_id,
            JobClaim.period == UpdateRound.period,
        ),
        exists().where(invitations),
        ~exists().where(
            invitations,
            OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
        ),
    ]


async def owes_unreachable_report(
    session: AsyncSession, *, round_id: int, invite_prefix: str, claim_kind: str
) -> bool:
    """Whether this round's report on who could not be reached is due now
    (`round_owes_unreachable_report`)."""
    conditions = round_owes_unreachable_report(invite_prefix, claim_kind)
    return bool(
        await session.scalar(select(exists().where(UpdateRound.id == round_id, *conditions)))
    )


async def updated_in_round(session: AsyncSession, round_id: int) -> set[int]:
    """Action ids with at least one update in this round (by anyone: the latest answer stands)."""
    rows = await session.execute(
        select(ProgressUpdate.action_id).where(ProgressUpdate.round_id == round_id).distinct()
    )
    return set(rows.scalars())


async def changed_in_round(session: AsyncSession, round_id: int) -> set[int]:
    """Action ids whose state moved in this round: an update with a status or a percentage
    other than the one before it (a first update ever counts). A confirmation («Invariata»,
    «Il resto è invariato») carries both over and is not a change."""
    u = ProgressUpdate
    rows = await session.execute(
        select(u.action_id)
        .where(
            u.round_id == round_id,
            or_(
                u.previous_status.is_(None),
                u.status != u.previous_status,
                u.progress.is_distinct_from(u.previous_progress),
            ),
        )
        .distinct()
    )
    return set(rows.scalars())


async def no_news_members(session: AsyncSession, round_id: int) -> set[int]:
    rows = await session.execute(
        select(RoundResponse.member_id).where(
            RoundResponse.round_id == round_id, RoundResponse.no_news.is_(True)
        )
    )
    return set(rows.scalars())


async def set_no_news(
    session: AsyncSession, *, round_id: int, member_id: int, now: datetime
) -> bool:
    """Record "nothing new this month"; False when it was already recorded."""
    existing = (
        await session.execute(
            select(RoundResponse).where(
                RoundResponse.round_id == round_id, RoundResponse.member_id == member_id
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        was = existing.no_news
        existing.no_news, existing.created_at = True, now
        return not was
    return await insert_ignore(
        session,
        RoundResponse,
        {"round_id": round_id, "member_id": member_id, "no_news": True, "created_at": now},
        ["round_id", "member_id"],
    )


async def recent_notes_by(
    session: AsyncSession,
    *,
    union_id: int,
    municipality_id: int | None,
    member_id: int,
    since: datetime,
) -> list[UpdateNote]:
    """This member's notes on one Comune (or the Union's own) since `since` — the candidates a
    retry is compared with (bot.services.repeats); the (union, Comune, created_at) index
    hands them over."""
    comune = (
        UpdateNote.municipality_id.is_(None)
        if municipality_id is None
        else UpdateNote.municipality_id == municipality_id
    )
    rows = await session.execute(
        select(UpdateNote)
        .where(
            UpdateNote.union_id == union_id,
            comune,
            UpdateNote.created_at >= since,
            UpdateNote.member_id == member_id,
        )
        .order_by(UpdateNote.id)
    )
    return list(rows.scalars())


async def add_note(
    session: AsyncSession,
    *,
    union_id: int,
    round_id: int | None,
    member_id: int | None,
    municipality_id: int | None,
    source: UpdateSource,
    text: str,
    chat_id: int,
    message_id: int,
    now: datetime,
) -> UpdateNote:
    note = UpdateNote(
        union_id=union_id,
        round_id=round_id,
        member_id=member_id,
        municipality_id=municipality_id,
        source=source,
        text=text,
        chat_id=chat_id,
        message_id=message_id,
        created_at=now,
    )
    session.add(note)
    await session.flush()
    return note
