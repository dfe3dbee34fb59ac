"""Where the bot posts to one of the Union's tables."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import TableKind
from storage.repositories import core as core_repo


async def table_targets(
    session: AsyncSession, union_id: int, table: TableKind
) -> list[tuple[int, int | None]]:
    """(chat id, person id) to post to: the table's linked group, or else each coordinator in
    private (then the person id: their outbox row is theirs, /cancellami withdraws it)."""
    link = await core_repo.linked_chat(session, union_id=union_id, table=table)
    if link is not None:
        return [(link.chat_id, None)]
    result: list[tuple[int, int | None]] = []
    for _member, person in await core_repo.coordinators(session, union_id):
        if person.telegram_user_id is not None and person.erased_at is None:
            result.append((person.telegram_user_id, person.id))
    return result


def key_suffix(person_id: int | None) -> str:
    """A dedup key's end for a copy sent to one coordinator in private."""
    return f":p{person_id}" if person_id else ""
