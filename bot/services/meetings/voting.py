"""Votes: one answer per date and member, one's own answers in a private copy of the poll, and
who answered what.

A vote is the hot path (bench/README.md): `cast_vote` reads everything it checks in one query
(`meetings.vote_context`), writes the vote and the owed edits in one more
(`meetings.record_vote`; on PostgreSQL one statement that takes KEY SHARE on the poll's
messages, `_upsert_vote_marking_dirty`); the context brings the voter's answers to the whole
poll too, which the toast says. The edits go out later, coalesced
(bot.message_refresh): the group's grid, and the voter's own private copy if they have one
(nobody else's: a vote changes nothing another member's copy shows).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.meetings.polls import copy_view, load_poll_view, table_chats
from bot.services.meetings.rules import sits_at
from bot.services.presses import Press, Pressed
from bot.views.meetings import CopyView, PollView
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
    dirty_chat_ids: tuple[int, ...]  # the chats whose poll message (or copy) now owes an edit
    mine: tuple[tuple[datetime, Answer | None], ...] = ()  # the voter's answers, date by date


@dataclass(frozen=True)
class VoteRefused:
    """`reason`: gone (no such date, or not pressed on the poll's message), closed (a date was
    chosen: `at`), no_date, cancelled, deadline_passed (`at` the deadline), not_a_member (of
    the poll's Union), not_at_table (`table`)."""

    reason: str
    language: str | None
    table: PollTable | None = None
    at: datetime | None = None
    timezone: str = "UTC"


async def cast_vote(
    session: AsyncSession,
    *,
    slot_id: int,
    telegram_user_id: int,
    answer: Answer,
    now: datetime,
    press: Press | None,
    private: Press | None = None,
) -> VoteRecorded | VoteRefused:
    """Record one answer for one date, replacing the member's earlier answer for it.

    `press` is a press in a group: it counts only on one of the poll's messages there
    (`Press.where`), and a poll message whose send ended `uncertain` is adopted (its id is
    recorded and the edits reach it from now on). `private` is a press in the voter's private
    chat (a reminder, a private copy): it always counts, and the bot's message carrying the
    very button becomes the voter's private copy if it was not one already.
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
        return await _not_open(session, vote, language)
    if now >= vote.deadline_at:  # rules.deadline_passed, on the one-query context
        return VoteRefused("deadline_passed", language, at=vote.deadline_at, timezone=vote.timezone)
    if vote.member_id is None or vote.member_role is None:
        return VoteRefused("not_a_member", language)
    if not sits_at(vote.table, role=vote.member_role, is_coordinator=vote.member_is_coordinator):
        return VoteRefused("not_at_table", language, table=vote.table)
    dirty = [m.chat_id for m in vote.messages]
    adopted = press if shown == "adopted" else _new_copy(vote, private)
    if adopted is not None:  # a message this transaction adds: marked with the others
        assert adopted.message_id is not None
        await repo.cast_vote(
            session, slot_id=vote.slot_id, member_id=vote.member_id, answer=answer, now=now
        )
        if adopted is private:
            await repo.replace_copy(
                session,
                poll_id=vote.poll_id,
                member_id=vote.member_id,
                chat_id=adopted.chat_id,
                message_id=adopted.message_id,
            )
        await repo.mark_vote_dirty(session, poll_id=vote.poll_id, member_id=vote.member_id, now=now)
        dirty.append(adopted.chat_id)
    else:
        await repo.record_vote(
            session, context=vote, member_id=vote.member_id, answer=answer, now=now
        )
    mine = [(at, answer if sid == vote.slot_id else given) for sid, at, given in vote.answers]
    return VoteRecorded(
        answer=answer,
        starts_at=vote.starts_at,
        timezone=vote.timezone,
        language=language,
        dirty_chat_ids=tuple(dict.fromkeys(dirty)),
        mine=tuple(mine),
    )


def _new_copy(vote: VoteContext, private: Press | None) -> Press | None:
    """The pressed private message, when it is the bot's message carrying the very button and
    not yet known as the voter's copy (a reminder, or a copy whose id was never recorded)."""
    if private is None or private.message_id is None or not private.carries_button:
        return None
    known = any(
        m.chat_id == private.chat_id and m.message_id == private.message_id for m in vote.messages
    )
    return None if known else private


async def _not_open(session: AsyncSession, vote: VoteContext, language: str | None) -> VoteRefused:
    """Why a poll no longer takes answers, with the date it chose (a popup names it)."""
    if vote.status == PollStatus.CLOSED:
        poll = await session.get(MeetingPoll, vote.poll_id)
        chosen = (
            await session.get(Slot, poll.chosen_slot_id) if poll and poll.chosen_slot_id else None
        )
        return VoteRefused(
            "closed",
            language,
            at=chosen.starts_at if chosen else None,
            timezone=vote.timezone,
        )
    if vote.status == PollStatus.CANCELLED:
        return VoteRefused("cancelled", language)
    return VoteRefused("no_date", language)


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


# --- one's own answers, in private ---------------------------------------------------------


@dataclass(frozen=True)
class CopyShown:
    """«👤 Le mie risposte»: the copy to send to the member in private."""

    copy: CopyView
    member_id: int


async def my_copy(
    session: AsyncSession, *, poll_id: int, telegram_user_id: int, default_language: str
) -> CopyShown | VoteRefused:
    """One's own answers to an open poll, as a private copy with the vote buttons (for a
    member who sits at its table; the same refusals as a vote)."""
    poll = await session.get(MeetingPoll, poll_id)
    member = (
        await core_repo.member_of(
            session, union_id=poll.union_id, telegram_user_id=telegram_user_id
        )
        if poll is not None
        else None
    )
    if poll is None:
        return VoteRefused("gone", None)
    if member is None:
        return VoteRefused("not_a_member", None)
    if not sits_at(poll.table, role=member.role, is_coordinator=member.is_coordinator):
        return VoteRefused("not_at_table", None, table=poll.table)
    copy = await copy_view(
        session, poll_id=poll.id, member_id=member.id, default_language=default_language
    )
    if copy is None:
        return VoteRefused("gone", None)
    if not copy.is_open:
        reason = {PollStatus.CLOSED: "closed", PollStatus.CANCELLED: "cancelled"}.get(
            copy.status, "no_date"
        )
        return VoteRefused(reason, copy.language, at=copy.chosen_at, timezone=str(copy.tz))
    return CopyShown(copy=copy, member_id=member.id)


async def copy_sent(
    session: AsyncSession, *, poll_id: int, member_id: int, chat_id: int, message_id: int
) -> None:
    """The private copy was sent: it follows the member's answers from now on (their older
    copy of this poll no longer does)."""
    await repo.replace_copy(
        session, poll_id=poll_id, member_id=member_id, chat_id=chat_id, message_id=message_id
    )


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
