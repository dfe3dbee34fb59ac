"""Who acts: re-read from the database at every press and every message of a dialogue."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.views.registration.refusals import Refused
from storage.models import Member, Municipality, Person, Union
from storage.repositories import core as core_repo
from storage.repositories import registration as reg_repo


async def acting_coordinator(
    session: AsyncSession, *, union_id: int, telegram_user_id: int
) -> Member | None:
    """Their active membership of this Union, if they coordinate it."""
    member = await core_repo.member_of(
        session, union_id=union_id, telegram_user_id=telegram_user_id
    )
    return member if member is not None and member.is_coordinator else None


@dataclass(frozen=True)
class Coordinating:
    union: Union
    coordinator: Member


async def coordinated_union(
    session: AsyncSession, *, union_id: int, telegram_user_id: int
) -> Coordinating | Refused:
    """The Union a button names, if the presser coordinates it: else STALE (no such Union) or
    NOT_YOURS."""
    union = await session.get(Union, union_id)
    if union is None:
        return Refused.STALE
    coordinator = await acting_coordinator(
        session, union_id=union.id, telegram_user_id=telegram_user_id
    )
    if coordinator is None:
        return Refused.NOT_YOURS
    return Coordinating(union, coordinator)


async def coordinated_comune(
    session: AsyncSession, *, municipality_id: int, telegram_user_id: int
) -> tuple[Municipality, Union] | Refused:
    """An active Comune a button names, if the presser coordinates its Union."""
    mun = await session.get(Municipality, municipality_id)
    union = await session.get(Union, mun.union_id) if mun is not None else None
    if mun is None or union is None or mun.archived_at is not None:
        return Refused.STALE
    if (
        await acting_coordinator(session, union_id=union.id, telegram_user_id=telegram_user_id)
        is None
    ):
        return Refused.NOT_YOURS
    return mun, union


@dataclass(frozen=True)
class Managed:
    """A member a button names, and the coordinator of their Union who presses."""

    union: Union
    member: Member
    person: Person
    coordinator: Member


async def coordinated_member(
    session: AsyncSession, *, member_id: int, telegram_user_id: int
) -> Managed | Refused:
    """The member a button names, if the presser coordinates their Union: else STALE (no such
    member) or NOT_YOURS."""
    found = await reg_repo.member_with_person(session, member_id)
    union = await session.get(Union, found[0].union_id) if found is not None else None
    if found is None or union is None:
        return Refused.STALE
    coordinator = await acting_coordinator(
        session, union_id=union.id, telegram_user_id=telegram_user_id
    )
    if coordinator is None:
        return Refused.NOT_YOURS
    return Managed(union, found[0], found[1], coordinator)
