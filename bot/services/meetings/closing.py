"""What happens when a poll closes — at its deadline (the tick) or when the coordinator presses
«Chiudi ora» (bot.services.meetings.managing) — in one function, `close_poll`.

Tested without Telegram on both databases: tests/storage/test_poll_closing.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import translator
from bot.services.meetings.agenda import draft_agenda
from bot.services.meetings.invites import ICS_DOMAIN, meeting_ics, queue_with_invite
from bot.services.meetings.polls import (
    best_of,
    load_poll_view,
    person_translator,
    table_chats,
)
from bot.services.meetings.rules import deadline_passed
from bot.views.agenda import propose_keyboard
from bot.views.meetings import render_announcement, render_ics_caption, render_no_date
from storage.models import MeetingPoll, PollStatus
from storage.repositories import core as core_repo
from storage.repositories import meetings as repo
from storage.repositories import outbox as outbox_repo

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PollClosed:
    poll_id: int
    meeting_id: int | None  # None: no date covers any Comune
    starts_at: datetime | None


@dataclass(frozen=True)
class PollNotOpen:
    """Closed, cancelled or gone already: nothing was done."""

    poll_id: int


async def close_poll(
    session: AsyncSession,
    *,
    poll_id: int,
    now: datetime,
    language: str,
    closed_by: int | None = None,
) -> PollClosed | PollNotOpen:
    """Close an open poll exactly once (a status transition) and queue what follows.

    - Reminders still waiting in the outbox are withdrawn: they ask for answers the poll no
      longer takes (queued ones expire at the deadline by themselves; an early close is before).
    - The date is chosen by the coverage rule (`rules.best_slot`, `SlotTally.key`): the most
      Comuni covered, then by a Sì, the most Sì, the fewest «Se necessario», the earliest.
    - With a date: the meeting is created, and each of the table's groups gets the
      announcement and the .ics invitation (outbox, in `language`, the groups' language).
    - With no date covering any Comune: the poll closes as «no date», and each coordinator is
      told in private, in their language — except `closed_by` (a member id), who closed it and
      reads the outcome where they pressed.
    - The poll's messages owe an edit (the closed tally, no buttons).
    """
    view = await load_poll_view(session, poll_id)
    if view is None or not view.is_open:
        return PollNotOpen(poll_id)
    poll = view.poll
    if dropped := await outbox_repo.drop_pending(session, f"pollrem:{poll.id}:"):
        logger.info("Poll %s: %d reminders not sent, the poll closed first", poll.id, dropped)
    best = best_of(view)
    chats = await table_chats(session, union_id=poll.union_id, table=poll.table)
    if best is None:
        if not await repo.transition(session, poll_id=poll.id, to=PollStatus.NO_DATE, now=now):
            return PollNotOpen(poll_id)
        await repo.mark_dirty(session, poll_id=poll.id, now=now)
        await _tell_coordinators_no_date(session, poll, now=now, default=language, but=closed_by)
        logger.info("Poll %s closed without a date (no slot covers a Comune)", poll.id)
        return PollClosed(poll_id=poll.id, meeting_id=None, starts_at=None)
    if not await repo.transition(
        session, poll_id=poll.id, to=PollStatus.CLOSED, now=now, chosen_slot_id=best.slot.id
    ):
        return PollNotOpen(poll_id)
    meeting = await repo.create_meeting(
        session, poll=poll, slot=best.slot, uid_domain=ICS_DOMAIN, now=now
    )
    await repo.mark_dirty(session, poll_id=poll.id, now=now)
    await draft_agenda(session, meeting=meeting, now=now, language=language)
    view = await load_poll_view(session, poll.id)  # with the chosen slot
    assert view is not None
    tr = translator(language)
    await queue_with_invite(
        session,
        meeting=meeting,
        chat_ids=[link.chat_id for link in chats],
        keys=("mtgann", "mtgics"),
        text=render_announcement(view, meeting, tr),
        keyboard=propose_keyboard(meeting.id, tr),  # the agenda's «📝 Proponi un punto»
        invite=meeting_ics(meeting, view.union, tr, now),
        caption=render_ics_caption(tr),
        tz=view.tz,
        now=now,
    )
    logger.info("Poll %s closed: meeting %s at %s", poll.id, meeting.id, meeting.starts_at)
    return PollClosed(poll_id=poll.id, meeting_id=meeting.id, starts_at=meeting.starts_at)


async def _tell_coordinators_no_date(
    session: AsyncSession, poll: MeetingPoll, *, now: datetime, default: str, but: int | None
) -> None:
    for coordinator, person in await core_repo.coordinators(session, poll.union_id):
        if person.telegram_user_id is None or coordinator.id == but:
            continue
        tr = person_translator(person.language, person.telegram_language, default)
        await outbox_repo.enqueue(
            session,
            dedup_key=f"pollnodate:{poll.id}:{person.id}",
            chat_id=person.telegram_user_id,
            method="sendMessage",
            payload={"text": render_no_date(poll.title, tr), "parse_mode": "HTML"},
            union_id=poll.union_id,
            person_id=person.id,
            now=now,
        )


# --- at the deadline (the tick) -------------------------------------------------------------


async def polls_due_to_close(session: AsyncSession, *, now: datetime) -> list[int]:
    """The open polls whose deadline passed (also right after a restart)."""
    return [p.id for p in await repo.open_polls(session) if deadline_passed(p, now)]


def deadline_key(poll: MeetingPoll) -> str:
    """A poll's reminders are claimed per deadline: a proroga earns a new one."""
    return str(int(poll.deadline_at.timestamp()))


async def close_at_deadline(
    session: AsyncSession, *, poll_id: int, now: datetime, language: str
) -> PollClosed | PollNotOpen:
    """The tick's close: `close_poll`, with a log line when the bot was down through the
    time of the poll's reminder (DESIGN.md's catch-up: a passed deadline closes at once)."""
    poll = await session.get(MeetingPoll, poll_id)
    if poll is not None and not await core_repo.is_claimed(
        session,
        kind="poll_reminder",
        union_id=poll.union_id,
        period=f"{poll.id}:{deadline_key(poll)}",
    ):
        logger.info("Poll %s: reminder skipped (the bot was down before the deadline)", poll_id)
    return await close_poll(session, poll_id=poll_id, now=now, language=language)
