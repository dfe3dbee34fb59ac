"""/crea_unione."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.common.owing import owe_menu
from bot.services.common.people import Profile, person_for
from bot.services.registration import rules
from bot.views.registration.refusals import NameProblem, Refused
from bot.views.registration.unions import UnionCreated, UnionExists
from storage.repositories import registration as reg_repo


async def create_union(
    session: AsyncSession,
    *,
    profile: Profile,
    name: str,
    admin_ids: Iterable[int],
    now: datetime,
) -> UnionCreated | UnionExists | NameProblem | Refused:
    """A new Union named as typed, coordinated by whoever creates it (as Union staff until they
    say otherwise). Refused where BOT_ADMIN_IDS names others, for a name that will not do, and
    when they already coordinate a Union of that name (folded: case, accents, apostrophes)."""
    if not rules.may_create_unions(admin_ids=admin_ids, telegram_user_id=profile.telegram_user_id):
        return Refused.NOT_BOT_ADMIN
    clean, problem = rules.check_union_name(name)
    if problem is not None:
        return problem
    key = rules.fold_name(clean)
    for union in await reg_repo.coordinated_unions(
        session, telegram_user_id=profile.telegram_user_id
    ):
        if rules.fold_name(union.name) == key:
            return UnionExists(union.name)
    person = await person_for(session, profile, now=now)
    union, member = await reg_repo.create_union(session, name=clean, creator=person, now=now)
    await owe_menu(session, telegram_user_id=person.telegram_user_id, now=now)
    return UnionCreated(union_name=union.name, member_id=member.id)
