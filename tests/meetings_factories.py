"""Small factories for the meetings tests: Unions, Comuni, members and linked groups built
directly through the models (registration builds them through the bot)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    LinkedChat,
    Member,
    MemberMunicipality,
    MemberStatus,
    Municipality,
    Person,
    Role,
    TableKind,
    Union,
)

_ids = itertools.count(1000)


@dataclass
class TeamFixture:
    union: Union
    comuni: list[Municipality]
    members: dict[str, Member] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    links: dict[TableKind, LinkedChat] = field(default_factory=dict)


async def make_union(
    session: AsyncSession, *, name: str, comuni: list[str], now: datetime
) -> TeamFixture:
    union = Union(name=name, timezone="Europe/Rome", created_at=now)
    session.add(union)
    await session.flush()
    rows = []
    for comune in comuni:
        row = Municipality(union_id=union.id, name=comune, name_key=comune.lower(), created_at=now)
        session.add(row)
        rows.append(row)
    await session.flush()
    return TeamFixture(union=union, comuni=rows)


async def add_member(
    session: AsyncSession,
    team: TeamFixture,
    *,
    key: str,
    role: Role,
    comuni: list[int] | None = None,
    coordinator: bool = False,
    telegram_user_id: int | None = None,
    now: datetime,
    status: MemberStatus = MemberStatus.ACTIVE,
) -> Member:
    """`comuni` are indexes into team.comuni."""
    person = Person(
        telegram_user_id=telegram_user_id if telegram_user_id is not None else next(_ids),
        display_name=key,
        reachable=True,
        created_at=now,
    )
    session.add(person)
    await session.flush()
    member = Member(
        union_id=team.union.id,
        person_id=person.id,
        role=role,
        status=status,
        is_coordinator=coordinator,
        requested_at=now,
        decided_at=now,
    )
    session.add(member)
    await session.flush()
    for index in comuni or []:
        session.add(MemberMunicipality(member_id=member.id, municipality_id=team.comuni[index].id))
    await session.flush()
    team.members[key] = member
    team.people[key] = person
    return member


async def link_group(
    session: AsyncSession,
    team: TeamFixture,
    *,
    table: TableKind,
    chat_id: int,
    now: datetime,
    title: str | None = None,
) -> LinkedChat:
    link = LinkedChat(
        union_id=team.union.id,
        table_kind=table,
        chat_id=chat_id,
        title=title or f"{team.union.name} {table.value}",
        linked_at=now,
    )
    session.add(link)
    await session.flush()
    team.links[table] = link
    return link
