"""/cancellami: a person's data erased (storage.repositories.registration.erase_person), once
no Union is left without its only coordinator while others remain in it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.common.owing import owe_menu
from bot.services.meetings.minutes import forget_member
from bot.services.registration import rules
from bot.views.registration.leaving import Leaving, MustHandOver
from bot.views.registration.refusals import Refused
from storage.models import Person
from storage.repositories import core as core_repo
from storage.repositories import registration as reg_repo


async def _blocked(session: AsyncSession, person: Person) -> MustHandOver | None:
    """The Unions they are the only coordinator of, while others are still in them."""
    blocked = []
    for member, union in await core_repo.memberships_of(
        session, telegram_user_id=person.telegram_user_id or 0
    ):
        ids = await reg_repo.coordinator_ids(session, union.id)
        count = await reg_repo.active_member_count(session, union.id)
        if rules.blocks_leaving(
            coordinator_ids=ids, member_id=member.id, active_member_count=count
        ):
            blocked.append(union.name)
    return MustHandOver(tuple(blocked)) if blocked else None


async def may_leave(
    session: AsyncSession, *, telegram_user_id: int
) -> Leaving | MustHandOver | Refused:
    """/cancellami: ask (MAY_LEAVE), or say what to do first."""
    person = await core_repo.person_by_telegram_id(session, telegram_user_id)
    if person is None:
        return Refused.NOTHING_TO_ERASE
    return await _blocked(session, person) or Leaving.MAY_LEAVE


async def erase_me(
    session: AsyncSession, *, telegram_user_id: int, now: datetime
) -> Leaving | MustHandOver | Refused:
    """«Sì, cancella i miei dati»: checked again, then the identity goes, the contributions
    stay (pointing at the anonymous row)."""
    person = await core_repo.person_by_telegram_id(session, telegram_user_id)
    if person is None:
        return Refused.NOTHING_TO_ERASE
    blocked = await _blocked(session, person)
    if blocked is not None:
        return blocked
    # Owed before the identity goes: the chat's menu goes back to a newcomer's.
    await owe_menu(session, telegram_user_id=person.telegram_user_id, now=now)
    await forget_member(session, person_id=person.id)  # their name in approved minutes
    await reg_repo.erase_person(session, person=person, now=now)
    return Leaving.ERASED


async def wipe_copies(session: AsyncSession) -> int:
    """The text of a message that named someone who has since left is wiped once the message
    is settled (storage.repositories.registration.wipe_settled_copies). Returns how many."""
    return await reg_repo.wipe_settled_copies(session)
