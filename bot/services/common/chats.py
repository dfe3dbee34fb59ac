"""Groups as Telegram changes them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.repositories import core as core_repo


async def migrate_chat(session: AsyncSession, *, old_chat_id: int, new_chat_id: int) -> int:
    """A group became a supergroup: every row that names the old chat follows it."""
    return await core_repo.migrate_chat(session, old_chat_id=old_chat_id, new_chat_id=new_chat_id)
