"""Owing a person's private menu (bot.services.common.menus), from any use case: a leaf module,
so that registration's use cases can owe one without importing /aiuto's rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.repositories import menus as menus_repo


async def owe_menu(session: AsyncSession, *, telegram_user_id: int | None, now: datetime) -> None:
    """Their private menu must follow a change (None: a person already erased, nothing)."""
    if telegram_user_id is not None:
        await menus_repo.owe(session, chat_id=telegram_user_id, now=now)
