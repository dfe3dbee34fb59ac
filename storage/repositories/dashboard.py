"""Read queries for the dashboard (the Telegram Mini App and the public progress page), and
the public page's one row. Never commits.

Every function runs a fixed number of statements, whatever the number of Comuni, actions or
months (bench/dashboard.py counts them): rows are fetched in bulk and grouped by the caller.
Rows leave as small frozen dataclasses of plain values, never ORM objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import (
    Action,
    ActionStatus,
    Decision,
    DecisionStatus,
    Meeting,
    Member,
    MemberMunicipality,
    MemberStatus,
    Person,
    PollTable,
    ProgressUpdate,
    PublicPage,
    Role,
    Union,
    UpdateAttachment,
)
from storage.repositories.people import FORMER_MEMBER, ShownName

UNION_WIDE = -1  # filter value: intercommunal actions only (as storage.repositories.actions)


# --- who is looking -------------------------------------------------------------------------


@dataclass(frozen=True)
class ViewerRow:
    """An active member of one Union, as the dashboard needs them."""

    member_id: int
    union_id: int
    union_name: str
    timezone: str
    paes_approved_on: date | None
    role: Role
    is_coordinator: bool
    municipality_ids: tuple[int, ...]
    language: str | None  # chosen with /lingua
    telegram_language: str | None
    unions: int  # how many Unions the person is an active member of


async def viewer(
    session: AsyncSession, *, telegram_user_id: int, union_id: int
) -> ViewerRow | None:
    """This Telegram user's active membership of this Union, with their Comuni: one query."""
    other = aliased(Member)
    unions = (
        select(func.count())
        .where(other.person_id == Person.id, other.status == MemberStatus.ACTIVE)
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            select(
                Member.id,
                Member.role,
                Member.is_coordinator,
                Union.id,
                Union.name,
                Union.timezone,
                Union.paes_approved_on,
                Person.language,
                Person.telegram_language,
                MemberMunicipality.municipality_id,
                unions,
            )
            .join(Person, Person.id == Member.person_id)
            .join(Union, Union.id == Member.union_id)
            .outerjoin(MemberMunicipality, MemberMunicipality.member_id == Member.id)
            .where(
                Person.telegram_user_id == telegram_user_id,
                Person.erased_at.is_(None),
                Member.union_id == union_id,
                Member.status == MemberStatus.ACTIVE,
            )
        )
    ).all()
    if not rows:
        return None
    first = rows[0]
    return ViewerRow(
        member_id=first[0],
        role=first[1],
        is_coordinator=first[2],
        union_id=first[3],
        union_name=first[4],
        timezone=first[5],
        paes_approved_on=first[6],
        language=first[7],
        telegram_language=first[8],
        municipality_ids=tuple(sorted({r[9] for r in rows if r[9] is not None})),
        unions=first[10],
    )


@dataclass(frozen=True)
class MembershipRow:
    union_id: int
    union_name: str
    role: Role
    is_coordinator: bool


@dataclass(frozen=True)
class PersonRow:
    language: str | None
    telegram_language: str | None
    memberships: tuple[MembershipRow, ...]


async def person_memberships(session: AsyncSession, *, telegram_user_id: int) -> PersonRow | None:
    """The person behind a Telegram user, with their active memberships (Unions by name)."""
    rows = (
        await session.execute(
            select(
                Person.language,
                Person.telegram_language,
                Union.id,
                Union.name,
                Member.role,
                Member.is_coordinator,
            )
            .select_from(Person)
            .outerjoin(
                Member,
                and_(Member.person_id == Person.id, Member.status == MemberStatus.ACTIVE),
            )
            .outerjoin(Union, Union.id == Member.union_id)
            .where(Person.telegram_user_id == telegram_user_id, Person.erased_at.is_(None))
            .order_by(Union.name, Union.id)
        )
    ).all()
    if not rows:
        return None
    return PersonRow(
        language=rows[0][0],
        telegram_language=rows[0][1],
        memberships=tuple(
            MembershipRow(union_id=r[2], union_name=r[3], role=r[4], is_coordinator=r[5])
            for r in rows
            if r[2] is not None
        ),
    )


# --- actions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionRow:
    id: int
    code: str
    title: str
    sector: str | None
    municipality_id: int | None
    status: ActionStatus
    progress: int
    co2_avoided_t: Decimal | None
    start_on: date | None
    end_on: date | None
    updated_at: datetime


_ACTION_COLUMNS = (
    Action.id,
    Action.code,
    Action.title,
    Action.sector,
    Action.municipality_id,
    Action.status,
    Action.progress,
    Action.co2_avoided_t,
    Action.start_on,
    Action.end_on,
    Action.updated_at,
)


def _action_row(r: Sequence[object]) -> ActionRow:
    return ActionRow(*r)  # type: ignore[arg-type]


async def action_rows(
    session: AsyncSession,
    *,
    union_id: int,
    municipality_id: int | None = None,
    status: ActionStatus | None = None,
) -> list[ActionRow]:
    """The Union's actions (archived ones left out), by code. `municipality_id=UNION_WIDE`:
    the intercommunal ones only."""
    stmt = select(*_ACTION_COLUMNS).where(Action.union_id == union_id, Action.archived_at.is_(None))
    if municipality_id == UNION_WIDE:
        stmt = stmt.where(Action.municipality_id.is_(None))
    elif municipality_id is not None:
        stmt = stmt.where(Action.municipality_id == municipality_id)
    if status is not None:
        stmt = stmt.where(Action.status == status)
    rows = await session.execute(stmt.order_by(Action.code, Action.id))
    return [_action_row(r) for r in rows.all()]


async def action_row(session: AsyncSession, *, union_id: int, action_id: int) -> ActionRow | None:
    """One action, only if it belongs to this Union (ids come from addresses: never trusted)."""
    row = (
        await session.execute(
            select(*_ACTION_COLUMNS).where(
                Action.id == action_id,
                Action.union_id == union_id,
                Action.archived_at.is_(None),
            )
        )
    ).first()
    return _action_row(row) if row is not None else None


@dataclass(frozen=True)
class CompletionChange:
    """An action entering (True) or leaving (False) the Completata status."""

    action_id: int
    at: datetime
    completed: bool


async def completion_changes(session: AsyncSession, *, union_id: int) -> list[CompletionChange]:
    """Every update of the Union's actions that moved one into or out of Completata, oldest
    first: the few rows the CO₂ curve needs, not the whole history."""
    done = ActionStatus.COMPLETED
    entered = and_(
        ProgressUpdate.status == done,
        or_(ProgressUpdate.previous_status.is_(None), ProgressUpdate.previous_status != done),
    )
    left = and_(ProgressUpdate.previous_status == done, ProgressUpdate.status != done)
    rows = await session.execute(
        select(ProgressUpdate.action_id, ProgressUpdate.created_at, ProgressUpdate.status)
        .join(Action, Action.id == ProgressUpdate.action_id)
        .where(Action.union_id == union_id, Action.archived_at.is_(None), or_(entered, left))
        .order_by(ProgressUpdate.created_at, ProgressUpdate.id)
    )
    return [CompletionChange(a, at, status == done) for a, at, status in rows.all()]


@dataclass(frozen=True)
class HistoryRow:
    update_id: int
    created_at: datetime
    author: ShownName | None  # None: nobody recorded; FORMER_MEMBER once the author left
    previous_status: ActionStatus | None
    status: ActionStatus
    previous_progress: int | None
    progress: int
    note: str | None
    needs_decision: bool
    decision_question: str | None


@dataclass(frozen=True)
class AttachmentRow:
    id: int
    update_id: int
    kind: str  # photo | document
    file_name: str | None
    mime_type: str | None


async def history(
    session: AsyncSession, *, action_id: int, limit: int
) -> tuple[list[HistoryRow], list[AttachmentRow]]:
    """An action's latest updates, newest first, with their authors, and their attachments:
    two queries."""
    rows = (
        await session.execute(
            select(ProgressUpdate, Person.display_name, Person.erased_at, Member.id)
            .outerjoin(Member, Member.id == ProgressUpdate.member_id)
            .outerjoin(Person, Person.id == Member.person_id)
            .where(ProgressUpdate.action_id == action_id)
            .order_by(ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc())
            .limit(limit)
        )
    ).all()
    entries = [
        HistoryRow(
            update_id=u.id,
            created_at=u.created_at,
            author=None
            if member_id is None
            else (FORMER_MEMBER if erased is not None or name is None else name),
            previous_status=u.previous_status,
            status=u.status,
            previous_progress=u.previous_progress,
            progress=u.progress,
            note=u.note,
            needs_decision=u.needs_decision,
            decision_question=u.decision_question,
        )
        for u, name, erased, member_id in rows
    ]
    attachments: list[AttachmentRow] = []
    if entries:
        att_rows = await session.execute(
            select(
                UpdateAttachment.id,
                UpdateAttachment.update_id,
                UpdateAttachment.kind,
                UpdateAttachment.file_name,
                UpdateAttachment.mime_type,
            )
            .where(UpdateAttachment.update_id.in_([e.update_id for e in entries]))
            .order_by(UpdateAttachment.id)
        )
        attachments = [AttachmentRow(*r) for r in att_rows.all()]
    return entries, attachments


@dataclass(frozen=True)
class FileRow:
    """An attachment with the action it belongs to (for the access check before serving it)."""

    file_id: str
    kind: str
    file_name: str | None
    mime_type: str | None
    union_id: int
    action_municipality_id: int | None


async def attachment(session: AsyncSession, *, attachment_id: int) -> FileRow | None:
    row = (
        await session.execute(
            select(
                UpdateAttachment.file_id,
                UpdateAttachment.kind,
                UpdateAttachment.file_name,
                UpdateAttachment.mime_type,
                Action.union_id,
                Action.municipality_id,
            )
            .join(ProgressUpdate, ProgressUpdate.id == UpdateAttachment.update_id)
            .join(Action, Action.id == ProgressUpdate.action_id)
            .where(UpdateAttachment.id == attachment_id, Action.archived_at.is_(None))
        )
    ).first()
    return FileRow(*row) if row is not None else None


# --- meetings and decisions -----------------------------------------------------------------


@dataclass(frozen=True)
class MeetingRow:
    id: int
    table: PollTable
    title: str
    place: str | None
    agenda: str | None
    starts_at: datetime
    ends_at: datetime


async def meetings(
    session: AsyncSession, *, union_id: int, now: datetime, past: int, upcoming: int
) -> tuple[list[MeetingRow], list[MeetingRow]]:
    """(upcoming, soonest first; past, latest first), cancelled meetings left out."""
    columns = (
        Meeting.id,
        Meeting.table,
        Meeting.title,
        Meeting.place,
        Meeting.agenda,
        Meeting.starts_at,
        Meeting.ends_at,
    )
    live = and_(Meeting.union_id == union_id, Meeting.cancelled_at.is_(None))
    ahead = await session.execute(
        select(*columns)
        .where(live, Meeting.ends_at > now)
        .order_by(Meeting.starts_at, Meeting.id)
        .limit(upcoming)
    )
    behind = await session.execute(
        select(*columns)
        .where(live, Meeting.ends_at <= now)
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
        .limit(past)
    )
    return [MeetingRow(*r) for r in ahead.all()], [MeetingRow(*r) for r in behind.all()]


async def decisions(
    session: AsyncSession, *, union_id: int, statuses: Sequence[DecisionStatus], limit: int
) -> list[Decision]:
    """The Union's decisions in these statuses, newest first (closed ones by closing date)."""
    rows = await session.execute(
        select(Decision)
        .where(Decision.union_id == union_id, Decision.status.in_(list(statuses)))
        .order_by(func.coalesce(Decision.closed_at, Decision.created_at).desc(), Decision.id.desc())
        .limit(limit)
    )
    return list(rows.scalars())


async def decision_count(
    session: AsyncSession, *, union_id: int, statuses: Sequence[DecisionStatus]
) -> int:
    """How many of the Union's decisions are in these statuses."""
    count = await session.scalar(
        select(func.count())
        .select_from(Decision)
        .where(Decision.union_id == union_id, Decision.status.in_(list(statuses)))
    )
    return count or 0


# --- the public page ------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicPageRow:
    union_id: int
    union_name: str
    timezone: str
    slug: str
    enabled: bool
    updated_at: datetime


async def public_page(session: AsyncSession, *, union_id: int) -> PublicPageRow | None:
    row = (
        await session.execute(
            select(PublicPage.union_id, Union.name, Union.timezone, PublicPage.slug)
            .add_columns(PublicPage.enabled)
            .add_columns(PublicPage.updated_at)
            .join(Union, Union.id == PublicPage.union_id)
            .where(PublicPage.union_id == union_id)
        )
    ).first()
    return PublicPageRow(*row) if row is not None else None


async def public_page_by_slug(session: AsyncSession, *, slug: str) -> PublicPageRow | None:
    """The page at this address, switched on or not (the caller answers 404 when it is off)."""
    row = (
        await session.execute(
            select(PublicPage.union_id, Union.name, Union.timezone, PublicPage.slug)
            .add_columns(PublicPage.enabled)
            .add_columns(PublicPage.updated_at)
            .join(Union, Union.id == PublicPage.union_id)
            .where(PublicPage.slug == slug)
        )
    ).first()
    return PublicPageRow(*row) if row is not None else None


async def set_public_page(
    session: AsyncSession, *, union_id: int, enabled: bool, new_slug: str, now: datetime
) -> str:
    """Switch the page on or off; the first time, it takes `new_slug` as its address. Returns
    the page's address (its slug)."""
    page = await session.get(PublicPage, union_id)
    if page is None:
        page = PublicPage(union_id=union_id, slug=new_slug, enabled=enabled, updated_at=now)
        session.add(page)
    elif page.enabled != enabled:
        page.enabled, page.updated_at = enabled, now
    await session.flush()
    return page.slug
