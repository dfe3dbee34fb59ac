"""A request to join, approved or rejected by a coordinator of its Union."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.common.owing import owe_menu
from bot.services.common.tasks import welcome_tasks
from bot.services.registration import rules
from bot.services.registration.access import coordinated_member
from bot.services.registration.telling import tell
from bot.views.common import task_keyboard
from bot.views.registration.joining import (
    AlreadyDecided,
    Request,
    RequestDecided,
    decision_message,
)
from bot.views.registration.refusals import AssignmentRefused, Refused
from storage.models import MemberStatus, Person
from storage.repositories import core as core_repo
from storage.repositories import registration as reg_repo
from storage.repositories.people import shown_name


async def decide_request(
    session: AsyncSession,
    *,
    member_id: int,
    approve: bool,
    telegram_user_id: int,
    now: datetime,
    default_language: str,
) -> RequestDecided | AlreadyDecided | AssignmentRefused | Refused:
    """Once, by a coordinator of the request's Union; approving checks the role again (a
    Comune has one Sindaco). The person who asked is told, in their language."""
    found = await coordinated_member(
        session, member_id=member_id, telegram_user_id=telegram_user_id
    )
    if found == Refused.NOT_YOURS:
        return Refused.NOT_DECIDER
    if isinstance(found, Refused):
        return found
    union, member, person, coordinator = found.union, found.member, found.person, found.coordinator
    mun_ids = await core_repo.municipality_ids_of(session, member.id)
    muns = await core_repo.municipalities(session, union.id, include_archived=True)
    comuni = tuple(m.name for m in muns if m.id in mun_ids)
    request = Request(
        member.id, union.name, shown_name(person), person.username, comuni, member.role, person.form
    )
    if member.status != MemberStatus.PENDING:
        return AlreadyDecided(request, member.status)
    if approve:
        sindaci = await reg_repo.sindaco_by_municipality(
            session, union_id=union.id, municipality_ids=mun_ids
        )
        problem = rules.check_assignment(
            role=member.role,
            municipality_ids=mun_ids,
            sindaco_by_municipality=sindaci,
            member_id=member.id,
        )
        if problem is not None:
            return AssignmentRefused(problem, comuni[0] if comuni else None)
    member.status = MemberStatus.ACTIVE if approve else MemberStatus.REJECTED
    member.decided_at, member.decided_by_member_id = now, coordinator.id
    if approve:
        await owe_menu(session, telegram_user_id=person.telegram_user_id, now=now)
    tasks = welcome_tasks(member) if approve else ()
    by = shown_name(await session.get(Person, coordinator.person_id))
    await tell(
        session,
        person,
        key=f"reg:out:{member.id}:{int(member.requested_at.timestamp())}",
        text=lambda tr: decision_message(
            union.name, approve, tr, role=member.role, by=by, form=person.form, tasks=tasks
        ),
        keyboard=(lambda tr: task_keyboard(tasks, tr)) if approve else None,
        union_id=union.id,
        now=now,
        default_language=default_language,
    )
    return RequestDecided(request, approve, by)
