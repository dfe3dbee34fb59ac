"""Meeting polls, slots, votes, poll messages and fixed meetings. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    CursorResult,
    String,
    and_,
    bindparam,
    cast,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.db import connection_of, run_hot
from storage.models import (
    Answer,
    JobClaim,
    Meeting,
    MeetingPoll,
    MeetingSettings,
    Member,
    MemberStatus,
    Person,
    PollMessage,
    PollStatus,
    PollTable,
    Role,
    Slot,
    Union,
    Vote,
)
from storage.models.base import UTCDateTime
from storage.repositories.common import dialect_insert, insert_ignore
from storage.repositories.core import comuni_by_member
from storage.repositories.people import present_name


def default_settings(union_id: int) -> MeetingSettings:
    """The settings a Union has until the coordinator changes them (not added to the session)."""
    return MeetingSettings(
        union_id=union_id,
        auto_poll_enabled=True,
        auto_poll_day=1,
        auto_poll_hour=9,
        auto_poll_table=PollTable.BOTH,
        weekdays="1,3",
        slot_hour=17,
        slot_minute=0,
        duration_minutes=120,
        deadline_days=5,
        remind_day_before=True,
        remind_hour_before=True,
    )


async def settings_of(session: AsyncSession, union_id: int) -> MeetingSettings:
    return await session.get(MeetingSettings, union_id) or default_settings(union_id)


async def all_settings(session: AsyncSession) -> list[tuple[Union, MeetingSettings]]:
    """Every Union with its meeting settings (defaults where none were saved)."""
    rows = await session.execute(
        select(Union, MeetingSettings)
        .outerjoin(MeetingSettings, MeetingSettings.union_id == Union.id)
        .order_by(Union.id)
    )
    return [(u, s or default_settings(u.id)) for u, s in rows.all()]


# --- who sits at the table ---------------------------------------------------------------


@dataclass(frozen=True)
class TableMember:
    member_id: int
    person_id: int
    telegram_user_id: int | None
    name: str
    language: str | None
    telegram_language: str | None
    reachable: bool
    role: str
    is_coordinator: bool
    municipality_ids: tuple[int, ...]


async def active_members(session: AsyncSession, union_id: int) -> list[TableMember]:
    rows = await session.execute(
        select(Member, Person)
        .join(Person, Person.id == Member.person_id)
        .where(Member.union_id == union_id, Member.status == MemberStatus.ACTIVE)
        .order_by(Member.id)
    )
    pairs = list(rows.all())
    by_member = await comuni_by_member(session, [m.id for m, _p in pairs])
    return [
        TableMember(
            member_id=m.id,
            person_id=p.id,
            telegram_user_id=p.telegram_user_id,
            name=present_name(p),
            language=p.language,
            telegram_language=p.telegram_language,
            reachable=p.reachable,
            role=m.role.value,
            is_coordinator=m.is_coordinator,
            municipality_ids=by_member.get(m.id, ()),
        )
        for m, p in pairs
    ]


# --- polls -------------------------------------------------------------------------------


async def create_poll(
    session: AsyncSession,
    *,
    union_id: int,
    table: PollTable,
    title: str,
    agenda: str | None,
    place: str | None,
    deadline_at: datetime,
    slots: Sequence[tuple[datetime, datetime]],
    created_by_member_id: int | None,
    now: datetime,
    period: str | None = None,
) -> MeetingPoll | None:
    """A new open poll with its slots. None when this Union already has the period's poll."""
    values = {
        "union_id": union_id,
        "table": table,
        "title": title,
        "agenda": agenda,
        "place": place,
        "status": PollStatus.OPEN,
        "period": period,
        "deadline_at": deadline_at,
        "created_by_member_id": created_by_member_id,
        "created_at": now,
    }
    if period is not None:
        if not await insert_ignore(session, MeetingPoll, values, ["union_id", "period"]):
            return None
        poll = (
            await session.execute(
                select(MeetingPoll).where(
                    MeetingPoll.union_id == union_id, MeetingPoll.period == period
                )
            )
        ).scalar_one()
    else:
        poll = MeetingPoll(**values)
        session.add(poll)
        await session.flush()
    for starts_at, ends_at in sorted(set(slots)):
        session.add(Slot(poll_id=poll.id, starts_at=starts_at, ends_at=ends_at))
    await session.flush()
    return poll


async def slots_of(session: AsyncSession, poll_id: int) -> list[Slot]:
    rows = await session.execute(
        select(Slot).where(Slot.poll_id == poll_id).order_by(Slot.starts_at, Slot.id)
    )
    return list(rows.scalars())


async def add_slot(
    session: AsyncSession, *, poll_id: int, starts_at: datetime, ends_at: datetime
) -> bool:
    """False when the poll already has a slot at that time."""
    return await insert_ignore(
        session,
        Slot,
        {"poll_id": poll_id, "starts_at": starts_at, "ends_at": ends_at},
        ["poll_id", "starts_at"],
    )


async def votes_of(session: AsyncSession, poll_id: int) -> list[Vote]:
    rows = await session.execute(
        select(Vote).join(Slot, Slot.id == Vote.slot_id).where(Slot.poll_id == poll_id)
    )
    return list(rows.scalars())


async def cast_vote(
    session: AsyncSession, *, slot_id: int, member_id: int, answer: Answer, now: datetime
) -> None:
    """One answer per slot and member: a new answer replaces the old one (atomic upsert)."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    stmt = dialect_insert(dialect)(Vote).values(
        slot_id=slot_id, member_id=member_id, answer=answer, updated_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["slot_id", "member_id"],
        set_={"answer": stmt.excluded.answer, "updated_at": stmt.excluded.updated_at},
    )
    await session.execute(stmt)


async def open_polls(session: AsyncSession) -> list[MeetingPoll]:
    rows = await session.execute(
        select(MeetingPoll).where(MeetingPoll.status == PollStatus.OPEN).order_by(MeetingPoll.id)
    )
    return list(rows.scalars())


async def polls_closed_since(session: AsyncSession, *, since: datetime) -> list[MeetingPoll]:
    """Polls closed (with or without a date) at `since` or later, oldest first."""
    rows = await session.execute(
        select(MeetingPoll)
        .where(
            MeetingPoll.status.in_([PollStatus.CLOSED, PollStatus.NO_DATE]),
            MeetingPoll.closed_at >= since,
        )
        .order_by(MeetingPoll.id)
    )
    return list(rows.scalars())


async def transition(
    session: AsyncSession,
    *,
    poll_id: int,
    to: PollStatus,
    now: datetime,
    chosen_slot_id: int | None = None,
) -> bool:
    """open → closed | no_date | cancelled, exactly once: False when it was no longer open."""
    values: dict[str, object] = {"status": to, "closed_at": now}
    if chosen_slot_id is not None:
        values["chosen_slot_id"] = chosen_slot_id
    result = await session.execute(
        update(MeetingPoll)
        .where(MeetingPoll.id == poll_id, MeetingPoll.status == PollStatus.OPEN)
        .values(**values)
    )
    return isinstance(result, CursorResult) and result.rowcount == 1


# --- where polls are shown (coalesced edits) -----------------------------------------------


async def add_poll_message(
    session: AsyncSession,
    *,
    poll_id: int,
    chat_id: int,
    message_id: int,
    member_id: int | None = None,
) -> None:
    """Remember where the poll is shown: in a group (`member_id` None), or one member's
    private copy."""
    await insert_ignore(
        session,
        PollMessage,
        {"poll_id": poll_id, "chat_id": chat_id, "message_id": message_id, "member_id": member_id},
        ["chat_id", "message_id"],
    )


async def replace_copy(
    session: AsyncSession, *, poll_id: int, member_id: int, chat_id: int, message_id: int
) -> None:
    """A member's newest private copy of the poll is the one that follows their answers; an
    older copy is forgotten (its buttons still vote, and a press on it adopts it again)."""
    await session.execute(
        delete(PollMessage).where(
            PollMessage.poll_id == poll_id,
            PollMessage.member_id == member_id,
            PollMessage.message_id != message_id,
        )
    )
    await add_poll_message(
        session, poll_id=poll_id, chat_id=chat_id, message_id=message_id, member_id=member_id
    )


async def has_poll_for_period(session: AsyncSession, *, union_id: int, period: str) -> bool:
    """Whether the Union already has the poll of this period (the automatic monthly one)."""
    found = await session.execute(
        select(MeetingPoll.id).where(MeetingPoll.union_id == union_id, MeetingPoll.period == period)
    )
    return found.first() is not None


async def poll_messages(
    session: AsyncSession, poll_id: int, *, groups_only: bool = False
) -> list[PollMessage]:
    """Where the poll is shown (`groups_only`: not the members' private copies)."""
    stmt = select(PollMessage).where(PollMessage.poll_id == poll_id)
    if groups_only:
        stmt = stmt.where(PollMessage.member_id.is_(None))
    rows = await session.execute(stmt.order_by(PollMessage.id))
    return list(rows.scalars())


async def mark_dirty(session: AsyncSession, *, poll_id: int, now: datetime) -> list[int]:
    """Owe an edit on every message of the poll, its private copies too (a change of the poll
    itself: a date, the deadline, the close); returns their ids.

    `dirty_since` keeps the oldest owed change; bot.message_refresh clears it once the edit
    is shown (storage.repositories.dirty_messages).
    """
    await session.execute(
        _MARK_DIRTY,
        {"b_poll_id": poll_id, "b_now": now},
        execution_options={"synchronize_session": "fetch"},
    )
    rows = await session.execute(select(PollMessage.id).where(PollMessage.poll_id == poll_id))
    return list(rows.scalars())


async def mark_vote_dirty(
    session: AsyncSession, *, poll_id: int, member_id: int, now: datetime
) -> None:
    """Owe an edit on what one member's vote changes: the poll's group messages and that
    member's private copies (`record_vote` does it in the vote's own statement)."""
    await session.execute(
        _MARK_VOTE_DIRTY,
        {"b_poll_id": poll_id, "b_now": now, "b_member": member_id},
        execution_options={"synchronize_session": "fetch"},
    )


# --- meetings ----------------------------------------------------------------------------


async def create_meeting(
    session: AsyncSession,
    *,
    poll: MeetingPoll,
    slot: Slot,
    uid_domain: str,
    now: datetime,
) -> Meeting:
    meeting = Meeting(
        union_id=poll.union_id,
        poll_id=poll.id,
        table=poll.table,
        title=poll.title,
        agenda=poll.agenda,
        place=poll.place,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        ics_uid=f"poll-{poll.id}-{slot.id}@{uid_domain}",
        created_at=now,
    )
    session.add(meeting)
    await session.flush()
    return meeting


async def upcoming_meetings(
    session: AsyncSession, *, union_id: int | None, now: datetime, limit: int = 20
) -> list[Meeting]:
    stmt = select(Meeting).where(Meeting.starts_at > now, Meeting.cancelled_at.is_(None))
    if union_id is not None:
        stmt = stmt.where(Meeting.union_id == union_id)
    rows = await session.execute(stmt.order_by(Meeting.starts_at, Meeting.id).limit(limit))
    return list(rows.scalars())


async def recent_meetings(session: AsyncSession, *, since: datetime) -> list[Meeting]:
    rows = await session.execute(
        select(Meeting).where(Meeting.created_at >= since).order_by(Meeting.id)
    )
    return list(rows.scalars())


async def meetings_starting_between(
    session: AsyncSession, *, after: datetime, until: datetime
) -> list[Meeting]:
    rows = await session.execute(
        select(Meeting)
        .where(
            Meeting.starts_at > after, Meeting.starts_at <= until, Meeting.cancelled_at.is_(None)
        )
        .order_by(Meeting.starts_at, Meeting.id)
    )
    return list(rows.scalars())


async def meetings_missing_claims(
    session: AsyncSession, *, after: datetime, until: datetime, kinds: Sequence[str]
) -> list[Meeting]:
    """Meetings starting in (after, until], not cancelled, that miss a claim (period = the
    meeting id) of one of `kinds`: one query, however many meetings are settled already."""
    missing = [
        ~select(JobClaim.kind)
        .where(
            JobClaim.kind == kind,
            JobClaim.union_id == Meeting.union_id,
            JobClaim.period == cast(Meeting.id, String),
        )
        .exists()
        for kind in kinds
    ]
    rows = await session.execute(
        select(Meeting)
        .where(
            Meeting.starts_at > after,
            Meeting.starts_at <= until,
            Meeting.cancelled_at.is_(None),
            or_(*missing),
        )
        .order_by(Meeting.starts_at, Meeting.id)
    )
    return list(rows.scalars())


# --- the vote press (hot path: Core statements, built once) -------------------------------


@dataclass(frozen=True)
class ShownAt:
    """One message showing a poll, as the vote transaction sees it."""

    id: int
    chat_id: int
    message_id: int
    dirty: bool
    member_id: int | None = None  # set on the voter's own private copy


@dataclass(frozen=True)
class VoteContext:
    """Everything a vote press is checked against, read in one query.

    `member_*` are None when the presser is no active member of the poll's Union.
    """

    slot_id: int
    starts_at: datetime
    poll_id: int
    union_id: int
    table: PollTable
    status: PollStatus
    deadline_at: datetime
    timezone: str
    member_id: int | None
    member_role: Role | None
    member_is_coordinator: bool
    messages: tuple[ShownAt, ...]
    # The presser's answers to the poll before this vote: (date id, its start, answer or None).
    answers: tuple[tuple[int, datetime, Answer | None], ...] = ()


_Dates = aliased(Slot)
_Given = aliased(Vote)
_VOTE_CONTEXT = (
    select(
        Slot.id,
        Slot.starts_at,
        MeetingPoll.id,
        MeetingPoll.union_id,
        MeetingPoll.table,
        MeetingPoll.status,
        MeetingPoll.deadline_at,
        Union.timezone,
        Person.language,
        Member.id,
        Member.role,
        Member.is_coordinator,
        PollMessage.id,
        PollMessage.chat_id,
        PollMessage.message_id,
        PollMessage.dirty_since,
        PollMessage.member_id,
        _Dates.id,
        _Dates.starts_at,
        _Given.answer,
    )
    .select_from(Slot)
    .join(MeetingPoll, MeetingPoll.id == Slot.poll_id)
    .join(Union, Union.id == MeetingPoll.union_id)
    .outerjoin(Person, Person.telegram_user_id == bindparam("telegram_user_id"))
    .outerjoin(
        Member,
        and_(
            Member.person_id == Person.id,
            Member.union_id == MeetingPoll.union_id,
            Member.status == MemberStatus.ACTIVE,
        ),
    )
    # The poll's group messages, and the voter's own private copies (not the others' copies:
    # a vote changes nothing that they show).
    .outerjoin(
        PollMessage,
        and_(
            PollMessage.poll_id == MeetingPoll.id,
            or_(PollMessage.member_id.is_(None), PollMessage.member_id == Member.id),
        ),
    )
    # Every date of the poll with the presser's answer: the toast says them all.
    .outerjoin(_Dates, _Dates.poll_id == MeetingPoll.id)
    .outerjoin(_Given, and_(_Given.slot_id == _Dates.id, _Given.member_id == Member.id))
    .where(Slot.id == bindparam("slot_id"))
    .order_by(PollMessage.id, _Dates.starts_at, _Dates.id)
)

_PERSON_LANGUAGE = select(Person.language).where(
    Person.telegram_user_id == bindparam("telegram_user_id")
)


async def vote_context(
    session: AsyncSession, *, slot_id: int, telegram_user_id: int
) -> tuple[VoteContext | None, str | None]:
    """(the slot's poll, Union, the presser's active membership, the poll's messages and the
    presser's answers, the presser's chosen language): one round trip (a row per message and
    date), two when the slot does not exist."""
    conn = await connection_of(session)
    params = {"slot_id": slot_id, "telegram_user_id": telegram_user_id}
    rows = await run_hot(conn, _VOTE_CONTEXT, params)
    if not rows:
        found = await run_hot(conn, _PERSON_LANGUAGE, params)
        return None, found[0][0] if found else None
    first = rows[0]
    shown = {
        r[12]: ShownAt(
            id=r[12], chat_id=r[13], message_id=r[14], dirty=r[15] is not None, member_id=r[16]
        )
        for r in rows
        if r[12] is not None
    }
    dates = {r[17]: (r[17], r[18], Answer(r[19]) if r[19] is not None else None) for r in rows}
    messages = tuple(shown.values())
    context = VoteContext(
        slot_id=first[0],
        starts_at=first[1],
        poll_id=first[2],
        union_id=first[3],
        table=first[4],
        status=first[5],
        deadline_at=first[6],
        timezone=first[7],
        member_id=first[9],
        member_role=first[10],
        member_is_coordinator=bool(first[11]),
        messages=messages,
        answers=tuple(sorted(dates.values(), key=lambda d: (d[1], d[0]))),
    )
    return context, first[8]


_VOTE_COLUMNS = ("slot_id", "member_id", "answer", "updated_at")


@cache
def _upsert_vote(dialect: str) -> Any:
    stmt = dialect_insert(dialect)(Vote)
    return stmt.on_conflict_do_update(
        index_elements=["slot_id", "member_id"],
        set_={"answer": stmt.excluded.answer, "updated_at": stmt.excluded.updated_at},
    )


# Every message of the poll, even one already owed: the row is then locked like any update,
# so on PostgreSQL a change waits for an edit being cleared (dirty_messages.lock) and sets the
# flag again after it. With `dirty_since IS NULL` in the WHERE clause the change would skip the
# row from its snapshot, and the clear would swallow its edit. (A vote on PostgreSQL takes a
# lock it shares with other votes instead: `_upsert_vote_marking_dirty`.)
_MARK_DIRTY = (
    update(PollMessage)
    .where(PollMessage.poll_id == bindparam("b_poll_id"))
    .values(
        dirty_since=func.coalesce(PollMessage.dirty_since, bindparam("b_now", type_=UTCDateTime()))
    )
)
# What a vote changes: the poll's group messages and the voter's own private copies.
_SHOWS_VOTE = or_(PollMessage.member_id.is_(None), PollMessage.member_id == bindparam("b_member"))
_MARK_VOTE_DIRTY = _MARK_DIRTY.where(_SHOWS_VOTE)


@cache
def _upsert_vote_marking_dirty() -> Any:
    """PostgreSQL: the vote's upsert and its owed edits in one statement (a data-modifying WITH
    runs once, to completion, whether or not the outer statement reads it).

    Votes on one poll must not queue behind each other, and none may be swallowed by an edit
    being cleared. So the poll's messages are locked `FOR KEY SHARE`, all of them (MATERIALIZED:
    the lock is taken on every row before any filter), which other votes share but an edit's
    clear (dirty_messages.lock, FOR UPDATE) does not: a clear in progress is waited for, and the
    rows are then read as it left them; a clear that comes later waits for this vote's commit
    and re-renders with it. Only a message not yet owing an edit is then written (a burst's first
    vote after each edit): the others already owe one. `_MARK_DIRTY` instead writes every row of
    the poll, and concurrent votes on a poll waited for each other's COMMIT (bench/README.md,
    "Session 5").
    """
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    # The voter is `b_member` (the outer UPDATE of poll_message has a member_id column too).
    stmt = pg_insert(Vote).values(
        slot_id=bindparam("slot_id"),
        member_id=bindparam("b_member"),
        answer=bindparam("answer"),
        updated_at=bindparam("updated_at"),
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=["slot_id", "member_id"],
        set_={"answer": stmt.excluded.answer, "updated_at": stmt.excluded.updated_at},
    )
    shown = (
        select(PollMessage.id, PollMessage.dirty_since)
        .where(PollMessage.poll_id == bindparam("b_poll_id"), _SHOWS_VOTE)
        .with_for_update(read=True, key_share=True)
        .cte("shown")
        .prefix_with("MATERIALIZED")
    )
    not_owing = select(shown.c.id).where(shown.c.dirty_since.is_(None))
    return (
        update(PollMessage)
        .where(PollMessage.id.in_(not_owing))
        .values(
            dirty_since=func.coalesce(
                PollMessage.dirty_since, bindparam("b_now", type_=UTCDateTime())
            )
        )
        .add_cte(upsert.returning(Vote.id).cte("vote_upsert"))
    )


async def record_vote(
    session: AsyncSession,
    *,
    context: VoteContext,
    member_id: int,
    answer: Answer,
    now: datetime,
) -> list[int]:
    """Upsert the vote and owe an edit on the poll's group messages and the voter's private
    copies (those `vote_context` read); returns their ids.

    Like `cast_vote` + `mark_dirty`, without re-reading the messages `vote_context` already
    read in this transaction. On SQLite the transaction holds the write lock from its first
    statement (BEGIN IMMEDIATE), so what it read is still true: the update is skipped when every
    message already owes an edit. On PostgreSQL a tally edit may clear `dirty_since` meanwhile:
    one statement locks the messages and owes the edit where none is owed any more
    (`_upsert_vote_marking_dirty`).
    """
    conn = await connection_of(session)
    dialect = conn.dialect.name
    vote = {"slot_id": context.slot_id, "member_id": member_id, "answer": answer, "updated_at": now}
    mark = {"b_poll_id": context.poll_id, "b_now": now, "b_member": member_id}
    if dialect == "postgresql":
        del vote["member_id"]  # it is `b_member` there
        await conn.execute(_upsert_vote_marking_dirty(), vote | mark)  # one round trip
    else:
        await run_hot(conn, _upsert_vote(dialect), vote, column_keys=_VOTE_COLUMNS)
        if any(not m.dirty for m in context.messages):
            await run_hot(conn, _MARK_VOTE_DIRTY, mark)
    return [m.id for m in context.messages]


_ANSWERS_OF_MEMBER = (
    select(Slot.id, Slot.starts_at, Vote.answer)
    .select_from(Slot)
    .outerjoin(Vote, and_(Vote.slot_id == Slot.id, Vote.member_id == bindparam("member_id")))
    .where(Slot.poll_id == bindparam("poll_id"))
    .order_by(Slot.starts_at, Slot.id)
)


async def answers_of_member(
    session: AsyncSession, *, poll_id: int, member_id: int
) -> list[tuple[int, datetime, Answer | None]]:
    """(date id, its start, the member's answer or None) for every date of the poll, in order:
    one round trip (the vote's toast says all of one's answers)."""
    conn = await connection_of(session)
    rows = await conn.execute(_ANSWERS_OF_MEMBER, {"poll_id": poll_id, "member_id": member_id})
    return [(r[0], r[1], Answer(r[2]) if r[2] is not None else None) for r in rows]


async def planned_dates_between(
    session: AsyncSession, *, union_id: int, start: datetime, end: datetime
) -> list[tuple[datetime, PollTable]]:
    """(start, table) in [start, end) of the Union's meetings (not cancelled) and of its open
    polls' candidate dates: what says a month already has a table's meeting, or is deciding
    it."""
    meetings = select(Meeting.starts_at, Meeting.table).where(
        Meeting.union_id == union_id,
        Meeting.cancelled_at.is_(None),
        Meeting.starts_at >= start,
        Meeting.starts_at < end,
    )
    candidates = (
        select(Slot.starts_at, MeetingPoll.table)
        .join(MeetingPoll, MeetingPoll.id == Slot.poll_id)
        .where(
            MeetingPoll.union_id == union_id,
            MeetingPoll.status == PollStatus.OPEN,
            Slot.starts_at >= start,
            Slot.starts_at < end,
        )
    )
    rows = await session.execute(meetings.union_all(candidates))
    return sorted((r[0], PollTable(r[1])) for r in rows)
