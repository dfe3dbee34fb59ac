"""Votes: one answer per date and member, and who answered what.

A vote is the hot path (bench/README.md): `cast_vote` reads everything it checks in one query
(`meetings.vote_context`) and writes the vote and the owed tally edit in one more
(`meetings.record_vote`; on PostgreSQL one statement that takes KEY SHARE on the poll's
messages, `_upsert_vote_marking_dirty`). The edit itself goes out later, coalesced
(bot.message_refresh).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.meetings.polls import load_poll_view, table_chats
from bot.services.meetings.rules import sits_at
from bot.services.presses import Press, Pressed
from bot.views.meetings import PollView
from storage.models import Answer, MeetingPoll, PollStatus, PollTable, Slot
from storage.repositories import core as core_repo
from storage.repositories import meetings as repo
from storage.repositories.meetings import VoteContext

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VoteRecorded:
    answer: Answer
    starts_at: datetime
    timezone: str
    language: str | None  # the voter's chosen language, if any
    dirty_chat_ids: tuple[int, ...]  # the chats whose poll message now owes an edit


@dataclass(frozen=True)
class VoteRefused:
    """`reason`: gone (no such date, or not pressed on the poll's message), closed,
    deadline_passed, not_a_member (of the poll's Union), not_at_table (`table`)."""

    reason: str
    language: str | None
    table: PollTable | None = None


async def cast_vote(
    session: AsyncSession,
    *,
    slot_id: int,
    telegram_user_id: int,
    answer: Answer,
    now: datetime,
    press: Press | None,
) -> VoteRecorded | VoteRefused:
    """Record one answer for one date, replacing the member's earlier answer for it.

    `press` is None in a private chat (a reminder's buttons); in a group a press counts only on
    one of the poll's messages there (`Press.where`), and a poll message whose send ended
    `uncertain` is adopted: its id is recorded and the tally edits reach it from now on.
    """
    vote, language = await repo.vote_context(
        session, slot_id=slot_id, telegram_user_id=telegram_user_id
    )
    if vote is None:
        return VoteRefused("gone", language)
    shown = "yes" if press is None else await _shown_in(session, vote, press)
    if shown == "no":
        return VoteRefused("gone", language)
    if vote.status != PollStatus.OPEN:
        return VoteRefused("closed", language)
    if now >= vote.deadline_at:  # rules.deadline_passed, on the one-query context
        return VoteRefused("deadline_passed", language)
    if vote.member_id is None or vote.member_role is None:
        return VoteRefused("not_a_member", language)
    if not sits_at(vote.table, role=vote.member_role, is_coordinator=vote.member_is_coordinator):
        return VoteRefused("not_at_table", language, table=vote.table)
    dirty = [m.chat_id for m in vote.messages]
    if shown == "adopted":  # a message this transaction added: mark it with the others
        assert press is not None
        await repo.cast_vote(
            session, slot_id=vote.slot_id, member_id=vote.member_id, answer=answer, now=now
        )
        await repo.mark_dirty(session, poll_id=vote.poll_id, now=now)
        dirty.append(press.chat_id)
    else:
        await repo.record_vote(
            session, context=vote, member_id=vote.member_id, answer=answer, now=now
        )
    return VoteRecorded(
        answer=answer,
        starts_at=vote.starts_at,
        timezone=vote.timezone,
        language=language,
        dirty_chat_ids=tuple(dirty),
    )


async def _shown_in(session: AsyncSession, vote: VoteContext, press: Press) -> str:
    """ "yes", "adopted" or "no": does a group press count for this poll?"""
    where = press.where((m.chat_id, m.message_id) for m in vote.messages)
    if where is Pressed.SHOWN:
        return "yes"
    if where is Pressed.ELSEWHERE or not any(
        link.chat_id == press.chat_id
        for link in await table_chats(session, union_id=vote.union_id, table=vote.table)
    ):
        return "no"
    assert press.message_id is not None  # CARRIED: the pressed message is the bot's
    await repo.add_poll_message(
        session, poll_id=vote.poll_id, chat_id=press.chat_id, message_id=press.message_id
    )
    logger.info(
        "Poll %s: adopted message %s in chat %s", vote.poll_id, press.message_id, press.chat_id
    )
    return "adopted"


# --- who answered what --------------------------------------------------------------------


@dataclass(frozen=True)
class SlotAnswers:
    view: PollView
    slot_id: int
    member_id: int  # the asker


@dataclass(frozen=True)
class NotAMember:
    """Only members of the poll's Union see its answers (or the date is gone)."""


async def slot_union_id(session: AsyncSession, slot_id: int | None) -> int | None:
    """The Union of a date's poll (None when it does not exist): for the chat check."""
    slot = await session.get(Slot, slot_id) if slot_id is not None else None
    poll = await session.get(MeetingPoll, slot.poll_id) if slot else None
    return poll.union_id if poll is not None else None


async def slot_answers(
    session: AsyncSession, *, slot_id: int, telegram_user_id: int
) -> SlotAnswers | NotAMember:
    """A date's label pressed: its answers, for an active member of the poll's Union."""
    slot = await session.get(Slot, slot_id)
    poll = await session.get(MeetingPoll, slot.poll_id) if slot else None
    if poll is None:
        return NotAMember()
    member = await core_repo.member_of(
        session, union_id=poll.union_id, telegram_user_id=telegram_user_id
    )
    view = await load_poll_view(session, poll.id) if member else None
    if member is None or view is None:
        return NotAMember()
    return SlotAnswers(view=view, slot_id=slot_id, member_id=member.id)
