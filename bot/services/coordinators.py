"""The coordinator's buttons and short private dialogues: who may press them is re-read from
the database, whatever the button's data says; a dialogue about a Union (the coordinator's next
message is a link, a date…) is started and ended here, restart-safe (bot.conversations)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Union
from storage.repositories import core as core_repo


async def coordinated_union(
    session: AsyncSession, *, union_id: int, telegram_user_id: int
) -> Union | None:
    """The Union, when this Telegram user is one of its active coordinators; else None."""
    member = await core_repo.member_of(
        session, union_id=union_id, telegram_user_id=telegram_user_id
    )
    union = await session.get(Union, union_id)
    return union if member is not None and union is not None and member.is_coordinator else None


@dataclass(frozen=True)
class Ask:
    """What a coordinator is asked to write next: the dialogue's flow and step."""

    flow: str
    step: str


async def ask_coordinator(
    session: AsyncSession,
    ask: Ask,
    union_id: int,
    telegram_user_id: int,
    chat_id: int,
    now: datetime,
) -> bool:
    """The Union's coordinator's next message in this chat goes to `ask.flow`. False (nothing
    started) when the user is not its coordinator."""
    if (
        await coordinated_union(session, union_id=union_id, telegram_user_id=telegram_user_id)
        is None
    ):
        return False
    await core_repo.set_conversation(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        flow=ask.flow,
        step=ask.step,
        data={"union_id": union_id},
        now=now,
    )
    return True


async def coordinator_answered(
    session: AsyncSession, *, union_id: int, telegram_user_id: int, chat_id: int
) -> Union | None:
    """The answer to `ask_coordinator` came: the dialogue ends, whoever wrote it. The Union
    when the writer is (still) its coordinator."""
    await core_repo.clear_conversation(session, telegram_user_id=telegram_user_id, chat_id=chat_id)
    return await coordinated_union(session, union_id=union_id, telegram_user_id=telegram_user_id)
