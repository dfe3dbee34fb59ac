"""The private command menus owed (storage.models.MenuOwed): queued in the transaction of the
change, set by the tick (bot.handlers.common.menus.send_owed_menus), then settled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import MenuOwed
from storage.repositories.common import dialect_insert


async def owe(session: AsyncSession, *, chat_id: int, now: datetime) -> None:
    """This private chat's menu must be set again; a menu already owed is owed from now (the
    send in flight, if any, no longer settles it)."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    stmt = dialect_insert(dialect)(MenuOwed).values(chat_id=chat_id, owed_since=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[MenuOwed.chat_id], set_={"owed_since": stmt.excluded.owed_since}
    )
    await session.execute(stmt)


async def owed(session: AsyncSession, *, limit: int) -> list[tuple[int, datetime]]:
    """The menus owed, oldest first: (chat id, owed since)."""
    rows = await session.execute(
        select(MenuOwed.chat_id, MenuOwed.owed_since)
        .order_by(MenuOwed.owed_since, MenuOwed.chat_id)
        .limit(limit)
    )
    return [(int(chat_id), since) for chat_id, since in rows.all()]


async def settle(session: AsyncSession, *, chat_id: int, owed_since: datetime) -> None:
    """The menu owed since `owed_since` was set: forget it, unless owed again meanwhile."""
    await session.execute(
        delete(MenuOwed).where(MenuOwed.chat_id == chat_id, MenuOwed.owed_since == owed_since)
    )
