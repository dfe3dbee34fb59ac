"""Pinning the announcement of a meeting: a Telegram call with no outbox row, made restart-safe
by two claims. The pin is recorded as owed (PIN_OWED) before it is made and settled (PIN_DONE)
once Telegram answered; an owed pin not settled (the bot was killed in between, or Telegram was
unreachable) is re-driven by the tick, which first asks whether it already took effect.
The call itself is made by bot.handlers.meetings.scheduled, after asking Telegram whether the bot
may pin there (`rules.may_pin`): where it may not, it does not try, and the coordinators are told once
per group which right to give (`pin_refused`, a claim per group: never at every meeting)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.meetings.polls import person_translator
from bot.views.meetings import render_pin_right
from storage.repositories import core as core_repo
from storage.repositories import meetings as repo
from storage.repositories import outbox as outbox_repo

logger = logging.getLogger(__name__)

PIN_OWED = "meeting_pin"  # claimed before pinning: the pin is owed from then on
PIN_DONE = "meeting_pin_done"  # claimed once Telegram answered (pinned, or refused for good)
PIN_LOOKBACK = timedelta(days=3)
PIN_RIGHT_TOLD = "meeting_pin_right"  # claimed per group once its coordinators were told


@dataclass(frozen=True)
class OwedPin:
    meeting_id: int
    union_id: int
    chat_id: int
    message_id: int
    again: bool  # owed before: it may have gone through already (ask Telegram first)


ANNOUNCEMENT_PREFIX = "mtgann:"  # mtgann:<meeting>:<chat> (bot.services.meetings.closing)


def _meeting_of(key: str) -> int:
    part = key[len(ANNOUNCEMENT_PREFIX) :].split(":", 1)[0]
    return int(part) if part.isdigit() else 0


async def pins_owed(session: AsyncSession, *, now: datetime) -> list[OwedPin]:
    """The sent announcements of recent meetings not pinned yet; claims the new ones as owed.
    Read first: most ticks every pin is settled and nothing is written."""
    sent: list[tuple[int, int, int, int]] = []  # meeting, Union, chat, message
    meetings = {m.id: m for m in await repo.recent_meetings(session, since=now - PIN_LOOKBACK)}
    # One read for every recent meeting's announcements (not one per meeting: a region closes
    # hundreds of polls in one tick, and on SQLite the whole read holds the event loop).
    # An announcement is queued when its meeting is fixed, so it is no older than the meeting.
    for key, chat_id, message_id in (
        await outbox_repo.sent_with_prefix(session, ANNOUNCEMENT_PREFIX, since=now - PIN_LOOKBACK)
        if meetings
        else []
    ):
        meeting = meetings.get(_meeting_of(key))
        if meeting is not None:
            sent.append((meeting.id, meeting.union_id, chat_id, message_id))
    claimed = await core_repo.claimed_keys(
        session, kinds=[PIN_OWED, PIN_DONE], periods=[f"{m}:{chat}" for m, _u, chat, _id in sent]
    )
    owed: list[OwedPin] = []
    for meeting_id, union_id, chat_id, message_id in sent:
        period = f"{meeting_id}:{chat_id}"
        if (PIN_DONE, union_id, period) in claimed:
            continue
        again = (PIN_OWED, union_id, period) in claimed
        if again or await core_repo.claim(
            session, kind=PIN_OWED, union_id=union_id, period=period, now=now
        ):
            owed.append(OwedPin(meeting_id, union_id, chat_id, message_id, again))
    return owed


async def pin_settled(session: AsyncSession, *, pin: OwedPin, now: datetime) -> None:
    """Telegram answered (pinned, or refused for good): the pin is owed no more."""
    await core_repo.claim(
        session,
        kind=PIN_DONE,
        union_id=pin.union_id,
        period=f"{pin.meeting_id}:{pin.chat_id}",
        now=now,
    )


async def pin_refused(session: AsyncSession, *, pin: OwedPin, now: datetime, language: str) -> bool:
    """The bot may not pin in this group: the pin is settled (not tried again), and the first
    time for this group each coordinator is told, in their language, which right to give.
    True when something was queued."""
    await pin_settled(session, pin=pin, now=now)
    if not await core_repo.claim(
        session, kind=PIN_RIGHT_TOLD, union_id=pin.union_id, period=str(pin.chat_id), now=now
    ):
        return False
    links = [
        link
        for link in await core_repo.links_of_chat(session, pin.chat_id)
        if link.union_id == pin.union_id
    ]
    group = links[0].title if links else ""
    queued = False
    for _member, person in await core_repo.coordinators(session, pin.union_id):
        if person.telegram_user_id is None:
            continue
        tr = person_translator(person.language, person.telegram_language, language)
        await outbox_repo.enqueue(
            session,
            dedup_key=f"pinright:{pin.union_id}:{pin.chat_id}:{person.id}",
            chat_id=person.telegram_user_id,
            method="sendMessage",
            payload={"text": render_pin_right(group, tr), "parse_mode": "HTML"},
            union_id=pin.union_id,
            person_id=person.id,
            now=now,
        )
        queued = True
    logger.info(
        "Union %s: cannot pin in group %s; coordinators told which right to give",
        pin.union_id,
        pin.chat_id,
    )
    return queued
