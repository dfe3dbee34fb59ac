"""Linking a Telegram group as a Union's political or technical table (/collega), and what
follows when the bot is added to a group or removed from one."""

from __future__ import annotations

import enum
from datetime import datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.registration.access import acting_coordinator
from bot.services.registration.telling import tell
from bot.views.registration.groups import (
    GroupLinked,
    GroupText,
    LinkChoice,
    ReplaceAsked,
    unlinked_message,
)
from bot.views.registration.refusals import Refused
from storage.models import TableKind, Union
from storage.repositories import core as core_repo
from storage.repositories import registration as reg_repo


async def link_choice(
    session: AsyncSession, *, telegram_user_id: int, chat_id: int
) -> LinkChoice | GroupText:
    """/collega in a group: the Unions its writer coordinates, and what the group is now.
    (Whether they administer the group is Telegram's word, asked by the handler.)"""
    unions = await reg_repo.coordinated_unions(session, telegram_user_id=telegram_user_id)
    if not unions:
        return GroupText.NOT_COORDINATOR
    links = await core_repo.links_of_chat(session, chat_id)
    mine = {u.id for u in unions}
    return LinkChoice(
        unions=tuple((u.id, u.name) for u in unions),
        tables=tuple(link.table_kind for link in links),
        linked_elsewhere=any(link.union_id not in mine for link in links),
    )


async def cancel_linking(session: AsyncSession, *, telegram_user_id: int) -> GroupText | Refused:
    """«Annulla» under /collega's question: for coordinators (of any Union)."""
    if not await reg_repo.coordinated_unions(session, telegram_user_id=telegram_user_id):
        return Refused.NOT_YOURS
    return GroupText.CANCELLED


async def link_group(
    session: AsyncSession,
    *,
    union_id: int,
    table: TableKind,
    chat_id: int,
    chat_title: str,
    telegram_user_id: int,
    group_admin: bool,
    replace: bool,
    now: datetime,
) -> GroupLinked | ReplaceAsked | Refused:
    """This group becomes the Union's `table`: by a coordinator of the Union who administers
    the group, if the group is no other Union's. A table already linked to another group is
    moved here only when `replace` (asked first)."""
    union = await session.get(Union, union_id)
    if union is None:
        return Refused.STALE
    coordinator = await acting_coordinator(
        session, union_id=union_id, telegram_user_id=telegram_user_id
    )
    if coordinator is None:
        return Refused.NOT_LINKER
    if not group_admin:
        return Refused.NOT_GROUP_ADMIN
    links = await core_repo.links_of_chat(session, chat_id)
    if any(link.union_id != union_id for link in links):
        return Refused.LINKED_ELSEWHERE
    existing = await core_repo.linked_chat(session, union_id=union_id, table=table)
    if existing is not None and existing.chat_id != chat_id and not replace:
        return ReplaceAsked(union.id, union.name, table, existing.title)
    await reg_repo.link_chat(
        session,
        union_id=union.id,
        table=table,
        chat_id=chat_id,
        title=chat_title,
        member_id=coordinator.id,
        now=now,
    )
    return GroupLinked(union.name, table)


async def bot_left_group(
    session: AsyncSession, *, chat_id: int, now: datetime, default_language: str
) -> int:
    """The bot was removed from a group: every link to it is dropped and the coordinators of
    each Union that lost a table are told. Returns the links dropped."""
    dropped = await reg_repo.unlink_chat(session, chat_id=chat_id)
    for link in dropped:
        union = await session.get(Union, link.union_id)
        if union is None:
            continue
        stamp = int(now.timestamp())
        for coordinator, person in await core_repo.coordinators(session, union.id):
            await tell(
                session,
                person,
                key=f"link:gone:{link.id}:{chat_id}:{stamp}:{coordinator.id}",
                text=partial(unlinked_message, link.title, link.table_kind, union.name),
                union_id=union.id,
                now=now,
                default_language=default_language,
            )
    return len(dropped)


class BotAdded(enum.Enum):
    ALREADY_LINKED = "already_linked"  # e.g. the group became a supergroup: the link followed
    BY_A_COORDINATOR = "by_a_coordinator"
    BY_SOMEONE = "by_someone"


async def bot_added_to_group(
    session: AsyncSession, *, chat_id: int, telegram_user_id: int | None
) -> BotAdded:
    """Who added the bot to a group linked to nothing (None: an anonymous admin)."""
    if await core_repo.links_of_chat(session, chat_id):
        return BotAdded.ALREADY_LINKED
    if telegram_user_id is not None and await reg_repo.coordinated_unions(
        session, telegram_user_id=telegram_user_id
    ):
        return BotAdded.BY_A_COORDINATOR
    return BotAdded.BY_SOMEONE
