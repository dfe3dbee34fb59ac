"""The minutes' queries (issue 19): what a meeting left behind, read for its minutes; the
minutes' row, its number in the Union's year, the approved ones of a Union; the tick's probes.

Attendance, agenda items, guests and tasks are written by the attendance, agenda and tasks
parts; the minutes read the agenda and the tasks here, and attendance and guests with
storage.repositories.attendance (whose use case also writes the coordinator's corrections).
Never commits: the caller's transaction does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, cast, exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import (
    AgendaItem,
    AgendaStatus,
    Decision,
    JobClaim,
    Meeting,
    MeetingTask,
    Member,
    MemberStatus,
    Minutes,
    MinutesStatus,
    Municipality,
    Person,
    TaskStatus,
    Union,
)
from storage.repositories.common import insert_ignore, lock_one
from storage.repositories.core import comuni_by_member

# The outbox keys of the approved minutes' files: `minutes:<meeting>:<table>:<odt|pdf>[:p<person>]`.
POSTED_PREFIX = "minutes:"


@dataclass(frozen=True)
class Someone:
    """A member as the minutes name them: `person` None or erased reads «ex membro»."""

    member: Member
    person: Person | None
    comune_ids: tuple[int, ...]


async def meeting_and_union(session: AsyncSession, meeting_id: int) -> tuple[Meeting, Union] | None:
    row = (
        await session.execute(
            select(Meeting, Union)
            .join(Union, Union.id == Meeting.union_id)
            .where(Meeting.id == meeting_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def lock_minutes(session: AsyncSession, meeting_id: int) -> Minutes | None:
    """The meeting's minutes, their row locked until the transaction ends and their values
    read again (PostgreSQL: FOR UPDATE; SQLite's write transactions run one at a time anyway):
    of two approvals at once, the second waits for the first and then finds them approved."""
    minutes: Minutes | None = await lock_one(
        session, select(Minutes).where(Minutes.meeting_id == meeting_id)
    )
    return minutes


async def minutes_of(session: AsyncSession, meeting_id: int) -> Minutes | None:
    return (
        await session.execute(select(Minutes).where(Minutes.meeting_id == meeting_id))
    ).scalar_one_or_none()


async def start_draft(session: AsyncSession, *, meeting: Meeting, now: datetime) -> bool:
    """The minutes' draft row; False when it exists already (another tick made it)."""
    return await insert_ignore(
        session,
        Minutes,
        {
            "meeting_id": meeting.id,
            "union_id": meeting.union_id,
            "status": MinutesStatus.DRAFT,
            "created_at": now,
        },
        ["meeting_id"],
    )


async def members_of(session: AsyncSession, union_id: int) -> list[Someone]:
    """The Union's active members, with their Comuni."""
    rows = await session.execute(
        select(Member, Person)
        .join(Person, Person.id == Member.person_id)
        .where(Member.union_id == union_id, Member.status == MemberStatus.ACTIVE)
        .order_by(Member.id)
    )
    return await _with_comuni(session, [(m, p) for m, p in rows.all()])


async def members_by_id(session: AsyncSession, member_ids: Sequence[int]) -> list[Someone]:
    """These members whatever their status now (one who left reads «ex membro»)."""
    if not member_ids:
        return []
    rows = await session.execute(
        select(Member, Person)
        .outerjoin(Person, Person.id == Member.person_id)
        .where(Member.id.in_(sorted(set(member_ids))))
        .order_by(Member.id)
    )
    return await _with_comuni(session, [(m, p) for m, p in rows.all()])


async def _with_comuni(
    session: AsyncSession, pairs: list[tuple[Member, Person | None]]
) -> list[Someone]:
    by_member = await comuni_by_member(session, [m.id for m, _p in pairs])
    return [Someone(m, p, by_member.get(m.id, ())) for m, p in pairs]


async def members_of_person(session: AsyncSession, person_id: int) -> list[Member]:
    rows = await session.execute(select(Member).where(Member.person_id == person_id))
    return list(rows.scalars())


async def comuni_of(session: AsyncSession, union_id: int) -> list[Municipality]:
    """The Union's Comuni sitting at the table (not archived), by name."""
    rows = await session.execute(
        select(Municipality)
        .where(Municipality.union_id == union_id, Municipality.archived_at.is_(None))
        .order_by(Municipality.name_key)
    )
    return list(rows.scalars())


async def agenda_of(
    session: AsyncSession, meeting_id: int
) -> list[tuple[AgendaItem, Decision | None]]:
    """The accepted items in order, each with the decision it stands for or recorded."""
    rows = await session.execute(
        select(AgendaItem, Decision)
        .outerjoin(Decision, Decision.id == AgendaItem.decision_id)
        .where(AgendaItem.meeting_id == meeting_id, AgendaItem.status == AgendaStatus.ACCEPTED)
        .order_by(AgendaItem.position, AgendaItem.id)
    )
    return [(item, decision) for item, decision in rows.all()]


async def agenda_item(session: AsyncSession, item_id: int) -> AgendaItem | None:
    return await session.get(AgendaItem, item_id)


async def tasks_of(session: AsyncSession, meeting_id: int) -> list[MeetingTask]:
    rows = await session.execute(
        select(MeetingTask)
        .where(MeetingTask.meeting_id == meeting_id, MeetingTask.status != TaskStatus.CANCELLED)
        .order_by(MeetingTask.id)
    )
    return list(rows.scalars())


async def next_number(session: AsyncSession, *, union_id: int, year: int) -> int:
    """The next progressive number of the Union's approved minutes in `year`."""
    found = await session.execute(
        select(func.max(Minutes.number)).where(Minutes.union_id == union_id, Minutes.year == year)
    )
    return int(found.scalar_one() or 0) + 1


async def approved_of(session: AsyncSession, union_id: int) -> list[tuple[Minutes, Meeting]]:
    """The Union's approved minutes, newest first."""
    rows = await session.execute(
        select(Minutes, Meeting)
        .join(Meeting, Meeting.id == Minutes.meeting_id)
        .where(Minutes.union_id == union_id, Minutes.status == MinutesStatus.APPROVED)
        .order_by(Minutes.year.desc(), Minutes.number.desc())
    )
    return [(m, mt) for m, mt in rows.all()]


async def drafts_of(session: AsyncSession, union_id: int) -> list[tuple[Minutes, Meeting]]:
    """The Union's minutes still drafts, the latest meeting first."""
    rows = await session.execute(
        select(Minutes, Meeting)
        .join(Meeting, Meeting.id == Minutes.meeting_id)
        .where(Minutes.union_id == union_id, Minutes.status == MinutesStatus.DRAFT)
        .order_by(Meeting.starts_at.desc())
    )
    return [(m, mt) for m, mt in rows.all()]


async def frozen_of_unions(session: AsyncSession, union_ids: Sequence[int]) -> list[Minutes]:
    """The approved minutes of these Unions (an erasure looks for the person's name in them)."""
    rows = await session.execute(
        select(Minutes).where(
            Minutes.union_id.in_(list(union_ids) or [-1]), Minutes.frozen.is_not(None)
        )
    )
    return list(rows.scalars())


# --- the tick's probes and reads --------------------------------------------------------------


def _ended_without_minutes(now: datetime, since: datetime) -> list[ColumnElement[bool]]:
    return [
        Meeting.ends_at <= now,
        Meeting.ends_at > since,
        Meeting.cancelled_at.is_(None),
        ~exists().where(Minutes.meeting_id == Meeting.id),
    ]


def drafts_owed(now: datetime, since: datetime) -> ColumnElement[bool]:
    """A meeting that ended (since `since`) and has no minutes yet."""
    return exists().where(*_ended_without_minutes(now, since))


async def meetings_owing_draft(
    session: AsyncSession, *, now: datetime, since: datetime
) -> list[Meeting]:
    rows = await session.execute(
        select(Meeting).where(*_ended_without_minutes(now, since)).order_by(Meeting.ends_at)
    )
    return list(rows.scalars())


POSTED_CLAIM = "minutes.posted"  # JobClaim(kind, union, "meeting-<id>"): the files were queued


def posted_period(meeting_id: int) -> str:
    return f"meeting-{meeting_id}"


def _approved_unposted() -> list[ColumnElement[bool]]:
    period = literal("meeting-", String()) + cast(Minutes.meeting_id, String())
    return [
        Minutes.status == MinutesStatus.APPROVED,
        ~exists().where(
            JobClaim.kind == POSTED_CLAIM,
            JobClaim.union_id == Minutes.union_id,
            JobClaim.period == period,
        ),
    ]


def posts_owed() -> ColumnElement[bool]:
    """Approved minutes whose files were not queued to the table's group yet: an approval
    whose posting a crash interrupted (the approval and the queueing are two transactions, the
    files being written in a thread between them)."""
    return exists().where(*_approved_unposted())


async def minutes_to_post(session: AsyncSession) -> list[int]:
    rows = await session.execute(
        select(Minutes.meeting_id).where(*_approved_unposted()).order_by(Minutes.approved_at)
    )
    return list(rows.scalars())
