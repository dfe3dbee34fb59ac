"""Shim over tests/factories.py, for the call shapes older meetings tests use (a Union as a
`TeamFixture`, members by `key` with Comuni as indexes). New tests: import tests.factories."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LinkedChat, Member, MemberStatus, Role, TableKind
from tests import factories
from tests.factories import World

TeamFixture = World


async def make_union(
    session: AsyncSession, *, name: str, comuni: list[str], now: datetime
) -> TeamFixture:
    return await factories.make_union(session, name=name, comuni=comuni, now=now)


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
    return await factories.add_member(
        session,
        team,
        role=role,
        name=key,
        comuni=[team.comuni[i] for i in comuni or []],
        coordinator=coordinator,
        telegram_user_id=telegram_user_id,
        status=status,
        now=now,
    )


async def link_group(
    session: AsyncSession,
    team: TeamFixture,
    *,
    table: TableKind,
    chat_id: int,
    now: datetime,
    title: str | None = None,
) -> LinkedChat:
    return await factories.link_group(
        session, team, table=table, chat_id=chat_id, now=now, title=title
    )
