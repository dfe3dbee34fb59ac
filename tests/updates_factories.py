"""Factories for the actions/updates tests: Unions, Comuni, members, linked groups, meetings —
written straight to the models (registration and meetings are other features)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.action_import import fold_name
from storage.models import (
    LinkedChat,
    Meeting,
    Member,
    MemberMunicipality,
    MemberStatus,
    Municipality,
    Person,
    PollTable,
    Role,
    TableKind,
    Union,
)


async def make_union(
    session: AsyncSession, name: str, comuni: list[str], *, now: datetime
) -> tuple[Union, dict[str, Municipality]]:
    union = Union(name=name, timezone="Europe/Rome", created_at=now)
    session.add(union)
    await session.flush()
    made = {}
    for comune in comuni:
        m = Municipality(union_id=union.id, name=comune, name_key=fold_name(comune), created_at=now)
        session.add(m)
        made[comune] = m
    await session.flush()
    return union, made


async def make_member(
    session: AsyncSession,
    union: Union,
    *,
    telegram_user_id: int,
    name: str,
    role: Role,
    comuni: list[Municipality] = (),  # type: ignore[assignment]
    coordinator: bool = False,
    now: datetime,
    language: str | None = None,
    telegram_language: str | None = None,
) -> Member:
    person = Person(
        telegram_user_id=telegram_user_id,
        display_name=name,
        reachable=True,
        created_at=now,
        language=language,
        telegram_language=telegram_language,
    )
    session.add(person)
    await session.flush()
    member = Member(
        union_id=union.id,
        person_id=person.id,
        role=role,
        status=MemberStatus.ACTIVE,
        is_coordinator=coordinator,
        requested_at=now,
        decided_at=now,
    )
    session.add(member)
    await session.flush()
    for m in comuni:
        session.add(MemberMunicipality(member_id=member.id, municipality_id=m.id))
    await session.flush()
    return member


async def link_group(
    session: AsyncSession,
    union: Union,
    *,
    chat_id: int,
    kind: TableKind,
    now: datetime,
    hashtag_capture: bool = False,
) -> LinkedChat:
    link = LinkedChat(
        union_id=union.id,
        table_kind=kind,
        chat_id=chat_id,
        title=f"{kind.value} group",
        hashtag_capture=hashtag_capture,
        linked_at=now,
    )
    session.add(link)
    await session.flush()
    return link


async def make_meeting(
    session: AsyncSession, union: Union, *, starts_at: datetime, now: datetime
) -> Meeting:
    meeting = Meeting(
        union_id=union.id,
        table=PollTable.BOTH,
        title="Team energia",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        ics_uid=f"meeting-{union.id}-{starts_at.isoformat()}@test",
        created_at=now,
    )
    session.add(meeting)
    await session.flush()
    return meeting
