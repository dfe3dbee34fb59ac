"""Shim over tests/factories.py, for the call shapes older actions/updates tests use
(`make_union` returning the Union and its Comuni by name, `make_member`, `link_group(kind=)`).
New tests: import tests.factories."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LinkedChat, Member, Municipality, Role, TableKind, Union
from tests import factories
from tests.factories import make_meeting

__all__ = ["link_group", "make_meeting", "make_member", "make_union"]


async def make_union(
    session: AsyncSession, name: str, comuni: list[str], *, now: datetime
) -> tuple[Union, dict[str, Municipality]]:
    world = await factories.make_union(session, name=name, comuni=comuni, now=now)
    return world.union, {m.name: m for m in world.comuni}


async def make_member(
    session: AsyncSession,
    union: Union,
    *,
    telegram_user_id: int,
    name: str,
    role: Role,
    comuni: Sequence[Municipality] = (),
    coordinator: bool = False,
    now: datetime,
    language: str | None = None,
    telegram_language: str | None = None,
) -> Member:
    return await factories.add_member(
        session,
        union,
        role=role,
        name=name,
        comuni=comuni,
        coordinator=coordinator,
        telegram_user_id=telegram_user_id,
        language=language,
        telegram_language=telegram_language,
        now=now,
    )


async def link_group(
    session: AsyncSession,
    union: Union,
    *,
    chat_id: int,
    kind: TableKind,
    now: datetime,
    hashtag_capture: bool = False,
) -> LinkedChat:
    return await factories.link_group(
        session,
        union,
        table=kind,
        chat_id=chat_id,
        now=now,
        title=f"{kind.value} group",
        hashtag_capture=hashtag_capture,
    )
