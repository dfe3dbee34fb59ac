"""The meetings' scheduled work, run by the tick (`services.add_due_work`, registered in
bot.handlers.meetings.register in this order): the monthly poll, poll reminders, closing due
polls, meeting reminders, pins. Each asks the use cases what is due (one read), then does each
piece in a short transaction of its own, then sends what was queued (`delivery.flush`).
The texts go to groups in the instance's default language; people get their own."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import delivery, message_refresh
from bot.context import DueWork, Services
from bot.services import meetings
from bot.services.meetings import agenda, tasks

logger = logging.getLogger(__name__)


Item = TypeVar("Item")
Result = TypeVar("Result")


async def _each_due(
    services: Services,
    bot: Bot,
    read_due: Callable[[AsyncSession], Awaitable[Sequence[Item]]],
    work: Callable[[AsyncSession, Item], Awaitable[Result]],
) -> list[Result]:
    """What is due (one read), then each piece in a short transaction of its own (never one
    over all Unions); the outbox is flushed when a piece queued something (a true result)."""
    async with services.db.transaction() as session:
        due = await read_due(session)
    results = []
    for item in due:
        async with services.db.transaction() as session:
            results.append(await work(session, item))
    if any(results):
        await delivery.flush(services, bot)
    return results


def _each_due_work(
    read_due: Callable[[AsyncSession, datetime], Awaitable[Sequence[Item]]],
    work: Callable[[AsyncSession, Item, datetime, str], Awaitable[object]],
) -> DueWork:
    """Due work as data: what is due at `now` and the work on each piece (given the session,
    the piece, `now` and the instance's default language), run by `_each_due`."""

    async def run(services: Services, bot: Bot, now: datetime) -> None:
        language = services.settings.default_language
        await _each_due(
            services,
            bot,
            lambda s: read_due(s, now),
            lambda s, item: work(s, item, now, language),
        )

    return run


# On the set day and hour, this month's poll for every Union (caught up within the month).
open_monthly_polls = _each_due_work(
    lambda s, now: meetings.monthly_polls_due(s, now=now),
    lambda s, due, now, language: meetings.open_monthly_poll(
        s, due=due, now=now, language=language
    ),
)

# 24 h before a poll's deadline, a private reminder to whoever has not answered.
_remind_poll_voters = _each_due_work(
    lambda s, now: meetings.polls_to_remind(s, now=now),
    lambda s, poll, now, language: meetings.remind_poll_voters(
        s, poll_id=poll, now=now, language=language
    ),
)

# The convocation with the agenda, a set number of days before each meeting.
convoke_meetings = _each_due_work(
    lambda s, now: agenda.meetings_to_convoke(s, now=now),
    lambda s, meeting_id, now, language: agenda.convoke(
        s, meeting_id=meeting_id, now=now, language=language
    ),
)

# With each monthly update round, once: the assignees are asked about their open tasks.
ask_about_tasks = _each_due_work(
    lambda s, _now: tasks.rounds_to_ask(s),
    lambda s, round_id, now, language: tasks.ask_in_round(
        s, round_id=round_id, now=now, language=language
    ),
)


async def remind_poll_voters(services: Services, bot: Bot, now: datetime) -> None:
    """The poll reminders (`_remind_poll_voters`); then the report on who could not be
    reached."""
    await _remind_poll_voters(services, bot, now)
    await report_unreachable(services, bot, now)


async def _in_one(
    services: Services, bot: Bot, work: Callable[[AsyncSession], Awaitable[bool]]
) -> None:
    """Work over all Unions that reads once and rarely writes: one transaction, then the
    outbox is flushed when it queued something."""
    async with services.db.transaction() as session:
        queued = await work(session)
    if queued:
        await delivery.flush(services, bot)


async def report_unreachable(services: Services, bot: Bot, now: datetime) -> None:
    """Tell the coordinators who the poll reminders could not reach."""
    language = services.settings.default_language
    await _in_one(
        services, bot, lambda s: meetings.report_unreachable(s, now=now, language=language)
    )


async def close_due_polls(services: Services, bot: Bot, now: datetime) -> None:
    """Every open poll whose deadline passed closes now (also right after a restart)."""
    language = services.settings.default_language
    async with services.db.transaction() as session:
        due = await meetings.polls_due_to_close(session, now=now)
    closed = 0
    for poll_id in due:
        async with services.db.transaction() as session:
            outcome = await meetings.close_at_deadline(
                session, poll_id=poll_id, now=now, language=language
            )
        closed += isinstance(outcome, meetings.PollClosed)
    if closed:
        await after_closing(services, bot)
        # Reminders withdrawn by the close may leave the refused ones to report: at once.
        await report_unreachable(services, bot, now)


async def after_closing(services: Services, bot: Bot) -> None:
    """Send what closing queued, pin the announcements, show the closed polls."""
    await delivery.flush(services, bot)
    await pin_announcements(services, bot, services.clock.now())
    await message_refresh.refresh_now(services, bot)


async def remind_meetings(services: Services, bot: Bot, now: datetime) -> None:
    """The day before and one hour before a meeting, in the table's group(s)."""
    language = services.settings.default_language
    await _in_one(services, bot, lambda s: meetings.remind_meetings(s, now=now, language=language))


# A pin that Telegram keeps failing (5xx, timeouts) is tried again after 1, 2, 4 … 60 minutes,
# not at every tick for 3 days with a warning each time. Kept with the services, in memory: a
# restart tries again at once.
PIN_RETRY_MAX = timedelta(hours=1)
_PIN_LOCK = "meetings.pin_lock"
_PIN_BACKOFF = "meetings.pin_backoff"  # (meeting id, chat id) → (failures so far, next try)


async def pin_announcements(services: Services, bot: Bot, now: datetime) -> None:
    """Pin each sent announcement once, where the bot may pin.

    The bot first asks Telegram whether it may pin in the group (getChatMember of itself:
    an administrator with «Fissa messaggi»); where it may not, it does not try, and the
    coordinators are told once per group which right to give (`meetings.pin_refused`).
    Restart-safe (bot.services.meetings.pins): the pin is owed before it is made and settled
    once Telegram answered; an owed pin is re-driven by the tick, which first asks whether the
    message is already the chat's pinned one, so a pin that went through just before a kill is
    not made twice.
    """
    lock = services.extras.setdefault(_PIN_LOCK, asyncio.Lock())
    async with lock:  # the tick and a coordinator's close may both get here
        async with services.db.transaction() as session:
            owed = await meetings.pins_owed(session, now=now)
        backoff: dict[tuple[int, int], tuple[int, datetime]] = services.extras.setdefault(
            _PIN_BACKOFF, {}
        )
        told = False
        for pin in owed:
            done = await _pin(services, bot, pin, backoff, now)
            if done is None:
                continue
            async with services.db.transaction() as session:
                if done:
                    await meetings.pin_settled(session, pin=pin, now=services.clock.now())
                else:
                    told = (
                        await meetings.pin_refused(
                            session,
                            pin=pin,
                            now=services.clock.now(),
                            language=services.settings.default_language,
                        )
                        or told
                    )
    if told:
        await delivery.flush(services, bot)


async def _pin(
    services: Services,
    bot: Bot,
    pin: meetings.OwedPin,
    backoff: dict[tuple[int, int], tuple[int, datetime]],
    now: datetime,
) -> bool | None:
    """Make one owed pin. True once Telegram answered (pinned, or refused for good); False
    when the bot may not pin there (not tried: the coordinators are told); None while owed."""
    key = (pin.meeting_id, pin.chat_id)
    failures, next_try = backoff.get(key, (0, now))
    if now < next_try:
        return None  # Telegram failed it moments ago: still owed, tried later
    try:
        if not await _may_pin(bot, pin.chat_id):
            logger.info("Meeting %s: not pinned in %s (no right to)", pin.meeting_id, pin.chat_id)
            return False
        if pin.again and await _already_pinned(bot, pin.chat_id, pin.message_id):
            logger.info("Meeting %s: already pinned in %s", pin.meeting_id, pin.chat_id)
        else:
            await bot.pin_chat_message(
                chat_id=pin.chat_id, message_id=pin.message_id, disable_notification=True
            )
    except (BadRequest, Forbidden) as exc:
        logger.info("Meeting %s: not pinned in %s (%s)", pin.meeting_id, pin.chat_id, exc.message)
        if "rights" in exc.message.lower():  # the right was taken away meanwhile
            backoff.pop(key, None)
            return False
    except TelegramError as exc:
        _failed(services, pin, backoff, failures + 1, exc)
        return None  # still owed
    backoff.pop(key, None)
    return True


def _failed(
    services: Services,
    pin: meetings.OwedPin,
    backoff: dict[tuple[int, int], tuple[int, datetime]],
    failures: int,
    exc: TelegramError,
) -> None:
    """Telegram failed the pin (5xx, a time-out): tried again after 1, 2, 4 … 60 minutes."""
    wait = min(timedelta(minutes=2 ** (failures - 1)), PIN_RETRY_MAX)
    backoff[(pin.meeting_id, pin.chat_id)] = (failures, services.clock.now() + wait)
    logger.warning(
        "Meeting %s: pin in %s failed (%s, attempt %d); next try in %d min",
        pin.meeting_id,
        pin.chat_id,
        exc,
        failures,
        wait.total_seconds() // 60,
        exc_info=failures == 1,
    )


async def _may_pin(bot: Bot, chat_id: int) -> bool:
    """The bot's own rights in the group, as Telegram says them (getChatMember)."""
    member = await bot.get_chat_member(chat_id, bot.id)
    return meetings.may_pin(
        status=str(member.status), can_pin_messages=getattr(member, "can_pin_messages", None)
    )


async def _already_pinned(bot: Bot, chat_id: int, message_id: int) -> bool:
    chat = await bot.get_chat(chat_id)
    return chat.pinned_message is not None and chat.pinned_message.message_id == message_id
