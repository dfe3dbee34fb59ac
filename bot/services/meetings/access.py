"""Who presses a meeting's button (its agenda, tasks, attendance, minutes): an active member of
the meeting's Union, and for the coordinator's screens a coordinator of it. One rule for the
four parts of issue 19; each words the refusal in its own view (docs/AUTHORIZATION.md)."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member
from storage.repositories import core as core_repo

Refusal = Literal["not_member", "not_coordinator"]


async def member_for(
    session: AsyncSession, *, union_id: int, telegram_user_id: int, coordinator: bool = False
) -> Member | Refusal:
    """The presser's active membership of the Union (`coordinator`: holding the permission),
    else why not: "not_member" (of that Union: another Union's, or nobody's), "not_coordinator"."""
    member = await core_repo.member_of(
        session, union_id=union_id, telegram_user_id=telegram_user_id
    )
    if member is None:
        return "not_member"
    if coordinator and not member.is_coordinator:
        return "not_coordinator"
    return member
