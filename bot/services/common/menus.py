"""Each person's own command menu in their private chat with the bot (BotCommandScopeChat).

A change that alters what someone may do (approved, role or coordinator rights changed,
removed, gone with /cancellami, a new language) owes their chat a menu, in its own
transaction (`owe_menu`); the tick and the change's after-effect set it from what the database
says then (bot.handlers.common.menus.send_owed_menus), never Telegram inside a transaction.
A chat with no team behind it loses its own menu and falls back to everyone's (/start,
/aiuto: bot.commands.menu).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import Command
from bot.services.common.owing import owe_menu
from bot.services.common.tasks import commands_for
from bot.services.registration.rules import may_create_unions
from storage.models import Member
from storage.repositories import core as core_repo
from storage.repositories import menus as menus_repo

__all__ = ["MENUS_PER_TICK", "PersonalMenu", "menu_set", "owe_menu", "owed_menus"]

# Menus set per tick at most: Telegram allows about 30 calls a second; a bulk change (a Union
# created with many members approved at once) is spread over a few ticks.
MENUS_PER_TICK = 20


@dataclass(frozen=True)
class PersonalMenu:
    chat_id: int
    owed_since: datetime
    commands: tuple[Command, ...] | None  # None: in no team, the menu for everyone applies
    language: str | None  # chosen with /lingua
    telegram_language: str | None


def personal_commands(members: Sequence[Member], *, may_create: bool) -> tuple[Command, ...]:
    """What a member's menu lists: their roles' commands first (across their Unions), then
    everyone's, in the catalog's order, once each."""
    first: list[Command] = []
    then: list[Command] = []
    for member in members:
        for_role, for_all = commands_for(member, private=True, may_create=may_create)
        first += [c for c in for_role if c not in first]
        then += [c for c in for_all if c not in then]
    return (*first, *(c for c in then if c not in first))


async def owed_menus(
    session: AsyncSession, *, admin_ids: tuple[int, ...], limit: int = MENUS_PER_TICK
) -> list[PersonalMenu]:
    """The menus owed, each as the database says it should be now."""
    menus = []
    for chat_id, since in await menus_repo.owed(session, limit=limit):
        person = await core_repo.person_by_telegram_id(session, chat_id)
        members = [m for m, _u in await core_repo.memberships_of(session, telegram_user_id=chat_id)]
        may_create = may_create_unions(admin_ids=admin_ids, telegram_user_id=chat_id)
        menus.append(
            PersonalMenu(
                chat_id=chat_id,
                owed_since=since,
                commands=personal_commands(members, may_create=may_create) if members else None,
                language=person.language if person else None,
                telegram_language=person.telegram_language if person else None,
            )
        )
    return menus


async def menu_set(session: AsyncSession, *, chat_id: int, owed_since: datetime) -> None:
    """The menu owed since `owed_since` is on Telegram (or cannot be: the chat is gone)."""
    await menus_repo.settle(session, chat_id=chat_id, owed_since=owed_since)
