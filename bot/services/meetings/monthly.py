"""The monthly poll: on the set day and hour, this month's poll for every Union — exactly once
(a claim per Union and period, and the poll's unique (Union, period)); caught up later in the
month if the bot was down (DESIGN.md: it opens if its month is not over).

Planning is per table (`rules.monthly_poll_table`): a month where one table already has its
meeting (or an open poll deciding it) gets a poll for the other table only; a month where every
table of the usual poll is planned gets none."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import format_month, translator
from bot.services.meetings import rules
from bot.services.meetings.polls import enqueue_poll_posts, person_translator, table_chats
from bot.views.meetings import monthly_title, render_monthly_skipped
from storage.models import MeetingSettings, PollTable, Union
from storage.repositories import core as core_repo
from storage.repositories import meetings as repo
from storage.repositories import outbox as outbox_repo

logger = logging.getLogger(__name__)

AUTO_POLL = "auto_poll"


@dataclass(frozen=True)
class MonthlyPollDue:
    union_id: int
    period: str  # "2026-12"
    year: int
    month: int


async def monthly_polls_due(session: AsyncSession, *, now: datetime) -> list[MonthlyPollDue]:
    """The Unions whose poll of this month is due by now and not yet claimed (one read for
    the whole region: most ticks nothing is due)."""
    due_now = []
    for union, settings in await repo.all_settings(session):
        if not settings.auto_poll_enabled:
            continue
        due = rules.monthly_poll_due(
            now=now,
            tz=ZoneInfo(union.timezone),
            day=settings.auto_poll_day,
            hour=settings.auto_poll_hour,
        )
        if due is not None:
            due_now.append(MonthlyPollDue(union.id, *due))
    done = await core_repo.claimed_keys(
        session, kinds=[AUTO_POLL], periods={d.period for d in due_now}
    )
    return [d for d in due_now if (AUTO_POLL, d.union_id, d.period) not in done]


async def open_monthly_poll(
    session: AsyncSession, *, due: MonthlyPollDue, now: datetime, language: str
) -> bool:
    """Open this month's poll for one Union and queue it for its group(s). False when it
    exists already, or is skipped (a log line, and a word to the coordinators when they can do
    something about it): every table of the usual poll is already planned this month, no group
    of the table is linked, or fewer than two usable dates are left."""
    union = await session.get(Union, due.union_id)
    if union is None or await _exists(session, union.id, due.period):
        return False
    settings = await repo.settings_of(session, union.id)
    tz = ZoneInfo(union.timezone)
    slots = rules.monthly_slots(
        year=due.year,
        month=due.month,
        now=now,
        tz=tz,
        weekdays=rules.parse_weekdays(settings.weekdays),
        at=time(settings.slot_hour, settings.slot_minute),
        duration=timedelta(minutes=settings.duration_minutes),
    )
    deadline = (
        rules.default_deadline(
            now=now, first_slot=slots[0].starts_at, tz=tz, days=settings.deadline_days
        )
        if slots
        else None
    )
    table, reason = await _table_to_plan(session, union, settings, due, tz)
    if reason is None and (len(slots) < rules.MIN_SLOTS or deadline is None):
        reason = "month almost over"
    if reason is not None:
        await _skip(session, union.id, due, reason, now=now, language=language)
        return False
    assert deadline is not None and table is not None
    poll = await repo.create_poll(
        session,
        union_id=union.id,
        table=table,
        title=monthly_title(translator(language), due.year, due.month),
        agenda=None,
        place=None,
        deadline_at=deadline,
        slots=[(s.starts_at, s.ends_at) for s in slots],
        created_by_member_id=None,
        now=now,
        period=due.period,
    )
    if poll is None:
        return False
    await core_repo.claim(
        session,
        kind=AUTO_POLL,
        union_id=union.id,
        period=due.period,
        now=now,
        note=f"poll {poll.id}",
    )
    await enqueue_poll_posts(session, poll=poll, now=now, language=language)
    logger.info(
        "Union %s: monthly poll %s opened (poll %s, %s table%s)",
        union.id,
        due.period,
        poll.id,
        table.value,
        "" if table == settings.auto_poll_table else ": the other table has its meeting",
    )
    return True


async def _exists(session: AsyncSession, union_id: int, period: str) -> bool:
    if await core_repo.is_claimed(session, kind=AUTO_POLL, union_id=union_id, period=period):
        return True
    return await repo.has_poll_for_period(session, union_id=union_id, period=period)


async def _table_to_plan(
    session: AsyncSession,
    union: Union,
    settings: MeetingSettings,
    due: MonthlyPollDue,
    tz: ZoneInfo,
) -> tuple[PollTable | None, str | None]:
    """(the table this month's poll is for, None) or (None, why it is skipped).

    A table is planned this month when it has a meeting in it (set by hand or from a decided
    poll), or an open poll proposing a date in it. Only dates inside the local month count, so
    a poll opened early for next month plans nothing; the query reads just that window.
    """
    month_start, month_end = rules.month_span(due.year, due.month, tz)
    planned = [
        table
        for _at, table in await repo.planned_dates_between(
            session, union_id=union.id, start=month_start, end=month_end
        )
    ]
    table = rules.monthly_poll_table(usual=settings.auto_poll_table, planned=planned)
    if table is None:
        return None, "already planned"
    if not await table_chats(session, union_id=union.id, table=table):
        # The table still to plan has no group: nowhere to ask. Planned already, if the other
        # table has its meeting; otherwise the coordinators are told to link a group.
        return None, "already planned" if planned else "no linked group"
    return table, None


async def _skip(
    session: AsyncSession,
    union_id: int,
    due: MonthlyPollDue,
    reason: str,
    *,
    now: datetime,
    language: str,
) -> None:
    if not await core_repo.claim(
        session, kind=AUTO_POLL, union_id=union_id, period=due.period, now=now, note=reason
    ):
        return
    logger.info("Union %s: monthly poll %s skipped (%s)", union_id, due.period, reason)
    key = {"no linked group": "autopoll-nogroup", "month almost over": "autopoll-late"}.get(reason)
    if key is None:
        return
    month_name = format_month(due.year, due.month, language)  # the groups' language, as before
    for _member, person in await core_repo.coordinators(session, union_id):
        if person.telegram_user_id is None:
            continue
        tr = person_translator(person.language, person.telegram_language, language)
        text = render_monthly_skipped(reason, month_name, tr)
        await outbox_repo.enqueue(
            session,
            dedup_key=f"{key}:{union_id}:{due.period}:{person.id}",
            chat_id=person.telegram_user_id,
            method="sendMessage",
            payload={"text": text, "parse_mode": "HTML"},
            union_id=union_id,
            person_id=person.id,
            now=now,
        )
