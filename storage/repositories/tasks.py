"""Tasks agreed at meetings (meeting_task): the open ones of a member, and the update rounds
that still owe their assignees the question about them. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import String, cast, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import (
    Action,
    JobClaim,
    MeetingTask,
    Member,
    MemberMunicipality,
    Person,
    RoundStatus,
    TaskStatus,
    UpdateRound,
)
from storage.repositories.people import ShownName, shown_name


async def open_tasks_of(session: AsyncSession, member_id: int) -> list[MeetingTask]:
    rows = await session.execute(
        select(MeetingTask)
        .where(MeetingTask.assignee_member_id == member_id, MeetingTask.status == TaskStatus.OPEN)
        .order_by(MeetingTask.due_on, MeetingTask.id)
    )
    return list(rows.scalars())


def _round_owes(claim_kind: str) -> list[ColumnElement[bool]]:
    """An open round of a Union with open tasks, whose question about them is not claimed."""
    return [
        UpdateRound.status == RoundStatus.OPEN,
        exists().where(
            MeetingTask.union_id == UpdateRound.union_id, MeetingTask.status == TaskStatus.OPEN
        ),
        ~exists().where(
            JobClaim.kind == claim_kind,
            JobClaim.union_id == UpdateRound.union_id,
            JobClaim.period == cast(UpdateRound.id, String),
        ),
    ]


def rounds_owing_task_question(claim_kind: str) -> ColumnElement[bool]:
    """The tick's probe (storage.repositories.schedule)."""
    return exists().where(*_round_owes(claim_kind))


async def rounds_to_ask(session: AsyncSession, claim_kind: str) -> list[int]:
    rows = await session.execute(
        select(UpdateRound.id).where(*_round_owes(claim_kind)).order_by(UpdateRound.id)
    )
    return list(rows.scalars())


@dataclass(frozen=True)
class OverdueTask:
    text: str
    due_on: date
    assignee: ShownName  # FORMER_MEMBER once they left
    person_id: int


async def overdue(session: AsyncSession, *, union_id: int, today: date) -> list[OverdueTask]:
    """The Union's open tasks past their date (the summary's short section), oldest first."""
    rows = await session.execute(
        select(MeetingTask.text, MeetingTask.due_on, Person)
        .join(Member, Member.id == MeetingTask.assignee_member_id)
        .join(Person, Person.id == Member.person_id)
        .where(
            MeetingTask.union_id == union_id,
            MeetingTask.status == TaskStatus.OPEN,
            MeetingTask.due_on < today,
        )
        .order_by(MeetingTask.due_on, MeetingTask.id)
    )
    return [
        OverdueTask(text, due_on, shown_name(person), person.id)
        for text, due_on, person in rows.all()
        if due_on is not None  # (the WHERE says so; the type does not)
    ]


async def actions_of_member(
    session: AsyncSession, *, union_id: int, member_id: int, limit: int
) -> list[tuple[int, str, str]]:
    """(id, code, title) of the open actions of the member's Comuni, by code: what a task of
    theirs may be about."""
    comuni = select(MemberMunicipality.municipality_id).where(
        MemberMunicipality.member_id == member_id
    )
    rows = await session.execute(
        select(Action.id, Action.code, Action.title)
        .where(
            Action.union_id == union_id,
            Action.archived_at.is_(None),
            Action.municipality_id.in_(comuni),
        )
        .order_by(Action.code, Action.id)
        .limit(limit)
    )
    return [(i, code, title) for i, code, title in rows.all()]
