"""Reminders: to those who have not answered a poll, to the coordinator about who could not be
reached, and to the groups before a meeting. Each is claimed once (`core.claim`) in the
transaction that queues it in the outbox; the tick (bot.handlers.meetings.scheduled) calls
these, one short transaction each, and flushes the outbox after."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import translator
from bot.services.display_text import person_name
from bot.services.meetings import rules
from bot.services.meetings.agenda import changed_since_convocation
from bot.services.meetings.closing import deadline_key
from bot.services.meetings.polls import load_poll_view, person_translator, table_chats
from bot.views.keyboard import to_dict
from bot.views.meetings import CopyView, render_copy, render_meeting_reminder, render_unreachable
from storage.models import Meeting, MeetingPoll, OutboxStatus, Person, Union
from storage.repositories import core as core_repo
from storage.repositories import meetings as repo
from storage.repositories import outbox as outbox_repo
from storage.repositories.people import shown_name

logger = logging.getLogger(__name__)

POLL_REMINDER = "poll_reminder"
POLL_REMINDER_REPORT = "poll_reminder_report"
# A poll closed this long ago owes no report any more (its outbox rows are purged after 60 days).
REPORT_LOOKBACK = timedelta(days=30)
MEETING_SKIP_LOOKBACK = timedelta(days=62)
MEETING_REMINDERS = ("meeting_remind_day", "meeting_remind_hour")


def _reminder_due(poll: MeetingPoll, now: datetime) -> bool:
    return poll.deadline_at - rules.DEADLINE_MARGIN <= now < poll.deadline_at


async def polls_to_remind(session: AsyncSession, *, now: datetime) -> list[int]:
    """Open polls in their last 24 hours whose reminder (for this deadline) is not claimed.
    One read: most ticks nothing is due and nothing is written."""
    polls = [p for p in await repo.open_polls(session) if _reminder_due(p, now)]
    reminded = await core_repo.claimed_keys(
        session, kinds=[POLL_REMINDER], periods=[f"{p.id}:{deadline_key(p)}" for p in polls]
    )
    return [
        p.id
        for p in polls
        if (POLL_REMINDER, p.union_id, f"{p.id}:{deadline_key(p)}") not in reminded
    ]


async def remind_poll_voters(
    session: AsyncSession, *, poll_id: int, now: datetime, language: str
) -> int:
    """24 h before the deadline, a private reminder to each table member who has not
    answered: their private copy of the poll (the vote buttons; once sent it follows their
    answers, `polls.on_reminder_sent`). Once per deadline (a proroga earns a new one), each
    expiring at the deadline. Returns how many were queued."""
    poll = await session.get(MeetingPoll, poll_id)
    if poll is None or not _reminder_due(poll, now):
        return 0
    key = deadline_key(poll)
    if not await core_repo.claim(
        session, kind=POLL_REMINDER, union_id=poll.union_id, period=f"{poll.id}:{key}", now=now
    ):
        return 0
    view = await load_poll_view(session, poll.id)
    if view is None:
        return 0
    queued = 0
    for tm in view.missing_members():
        if tm.telegram_user_id is None:
            continue
        tr = person_translator(tm.language, tm.telegram_language, language)
        copy = CopyView(
            poll_id=poll.id,
            title=poll.title,
            table=poll.table,
            status=poll.status,
            deadline_at=poll.deadline_at,
            tz=view.tz,
            answers=tuple((sv.slot.id, sv.slot.starts_at, None) for sv in view.slots),
            language=tr.language,
            reminder=True,
        )
        text, keyboard = render_copy(copy, tr)
        await outbox_repo.enqueue(
            session,
            dedup_key=f"pollrem:{poll.id}:{key}:{tm.member_id}",
            chat_id=tm.telegram_user_id,
            method="sendMessage",
            payload={"text": text, "parse_mode": "HTML", "reply_markup": to_dict(keyboard)},
            union_id=poll.union_id,
            person_id=tm.person_id,
            now=now,
            expires_at=poll.deadline_at,
        )
        queued += 1
    logger.info("Poll %s: reminders queued for %d people", poll.id, len(view.missing_members()))
    return queued


async def report_unreachable(session: AsyncSession, *, now: datetime, language: str) -> bool:
    """Once the reminders of a deadline are all sent or failed, tell the coordinators who could
    not be reached (never started the bot, or blocked it). True when a report was queued.

    Refused ones only: an uncertain reminder may well have arrived, and the generic delivery
    report says so in its own words (`services.report_elsewhere("pollrem:", ("failed",))`).
    """
    # Reminders go out in the last 24 hours of a poll: only those polls can owe a report, and
    # so can a poll closed since (the refusals came in, or the pending ones were withdrawn,
    # after the close): the claim keeps it to one report either way.
    polls = [
        p for p in await repo.open_polls(session) if p.deadline_at - rules.DEADLINE_MARGIN <= now
    ] + await repo.polls_closed_since(session, since=now - REPORT_LOOKBACK)
    claimed = await core_repo.claimed_keys(
        session,
        kinds=[POLL_REMINDER, POLL_REMINDER_REPORT],
        periods=[f"{p.id}:{deadline_key(p)}" for p in polls],
    )
    queued = False
    for poll in polls:
        period = f"{poll.id}:{deadline_key(poll)}"
        if (POLL_REMINDER, poll.union_id, period) not in claimed:
            continue  # no reminder yet
        if (POLL_REMINDER_REPORT, poll.union_id, period) in claimed:
            continue  # already reported
        queued = await _report(session, poll, now=now, language=language) or queued
    return queued


async def _report(
    session: AsyncSession, poll: MeetingPoll, *, now: datetime, language: str
) -> bool:
    key = deadline_key(poll)
    rows = await outbox_repo.status_by_key_prefix(session, f"pollrem:{poll.id}:{key}:")
    if any(r.status in (OutboxStatus.PENDING, OutboxStatus.SENDING) for r in rows):
        return False
    failed = [r for r in rows if r.status == OutboxStatus.FAILED]
    if not await core_repo.claim(
        session,
        kind=POLL_REMINDER_REPORT,
        union_id=poll.union_id,
        period=f"{poll.id}:{key}",
        now=now,
    ):
        return False
    if not failed:
        return False
    named: list[Person | None] = []
    for row in failed:
        named.append(await session.get(Person, row.person_id) if row.person_id else None)
        row.reported_at = now
    queued = False
    for _member, coordinator in await core_repo.coordinators(session, poll.union_id):
        if coordinator.telegram_user_id is None:
            continue
        tr = person_translator(coordinator.language, coordinator.telegram_language, language)
        names = [person_name(shown_name(person), tr) for person in named]
        await outbox_repo.enqueue(
            session,
            dedup_key=f"pollremrep:{poll.id}:{key}:{coordinator.id}",
            chat_id=coordinator.telegram_user_id,
            method="sendMessage",
            payload={"text": render_unreachable(poll.title, names, tr), "parse_mode": "HTML"},
            union_id=poll.union_id,
            person_id=coordinator.id,
            now=now,
            names=[person.id for person in named if person is not None],
        )
        queued = True
    logger.info("Poll %s: %d reminders could not be delivered", poll.id, len(failed))
    return queued


# --- before a meeting -----------------------------------------------------------------------


@dataclass
class _Claims:
    """Meeting reminders already claimed (read first), claimed here only when missing."""

    session: AsyncSession
    claimed: set[tuple[str, int, str]]
    now: datetime

    def done(self, kind: str, meeting: Meeting) -> bool:
        return (kind, meeting.union_id, str(meeting.id)) in self.claimed

    async def claim(self, kind: str, meeting: Meeting) -> bool:
        if self.done(kind, meeting):
            return False
        return await core_repo.claim(
            self.session, kind=kind, union_id=meeting.union_id, period=str(meeting.id), now=self.now
        )


async def remind_meetings(session: AsyncSession, *, now: datetime, language: str) -> bool:
    """The day before and one hour before a meeting, in the table's group(s), if still ahead
    (expiring at the start). True when a reminder was queued.

    Caught up: a day-before reminder due while the bot was down goes out late the same day
    («Oggi alle…»), but not with less than an hour left, nor for a meeting announced within
    24 hours; a meeting that started while the bot was down (looked back 62 days) has its
    reminders skipped, with a log line, once.
    """
    started = await repo.meetings_missing_claims(
        session, after=now - MEETING_SKIP_LOOKBACK, until=now, kinds=MEETING_REMINDERS
    )
    upcoming = await repo.meetings_starting_between(
        session, after=now, until=now + timedelta(hours=24)
    )
    claims = _Claims(
        session=session,
        claimed=await core_repo.claimed_keys(
            session,
            kinds=MEETING_REMINDERS,
            periods=[str(m.id) for m in (*started, *upcoming)],
        ),
        now=now,
    )
    for meeting in started:
        for kind in MEETING_REMINDERS:
            if await claims.claim(kind, meeting):
                logger.info(
                    "Meeting %s: %s skipped (the meeting already started)", meeting.id, kind
                )
    queued = False
    for meeting in upcoming:
        if all(claims.done(kind, meeting) for kind in MEETING_REMINDERS):
            continue
        queued = await _remind(session, meeting, claims, language=language) or queued
    return queued


async def _remind(
    session: AsyncSession, meeting: Meeting, claims: _Claims, *, language: str
) -> bool:
    now = claims.now
    settings = await repo.settings_of(session, meeting.union_id)
    union = await session.get(Union, meeting.union_id)
    if union is None:
        return False
    hour_due = now >= meeting.starts_at - timedelta(hours=1)
    kinds: list[str] = []
    if settings.remind_day_before and await claims.claim("meeting_remind_day", meeting):
        if hour_due:
            logger.info(
                "Meeting %s: day-before reminder skipped (less than an hour left)", meeting.id
            )
        elif meeting.created_at >= meeting.starts_at - timedelta(hours=24):
            logger.info(
                "Meeting %s: day-before reminder skipped (announced within 24 h)", meeting.id
            )
        else:
            kinds.append("day")
    if (
        hour_due
        and settings.remind_hour_before
        and await claims.claim("meeting_remind_hour", meeting)
    ):
        kinds.append("hour")
    if not kinds:
        return False
    tz = ZoneInfo(union.timezone)
    tr = translator(language)
    queued = False
    for kind in kinds:
        text = render_meeting_reminder(kind, meeting, tz, now, tr)
        if kind == "day":  # the agenda again, if it changed since the convocation
            text += await changed_since_convocation(session, meeting=meeting, tr=tr)
        for link in await table_chats(session, union_id=union.id, table=meeting.table):
            await outbox_repo.enqueue(
                session,
                dedup_key=f"mtgrem{kind}:{meeting.id}:{link.chat_id}",
                chat_id=link.chat_id,
                method="sendMessage",
                payload={"text": text, "parse_mode": "HTML"},
                union_id=union.id,
                now=now,
                expires_at=meeting.starts_at,
            )
            queued = True
    return queued
