"""The round's scheduled work, run by the tick (`services.add_due_work`, registered in
bot.handlers.updates.register in this order): open the rounds that are due, then each open
round's duties. Each asks the use cases what is due (one read), then does each piece in a short
transaction of its own: one Union's (or round's) failure neither stops nor undoes the others,
and is retried at the next tick. What they queue goes out with the tick's outbox flush. Texts to
groups are in the instance's default language; people get their own."""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import Bot

from bot.context import PartlyDone, Services
from bot.services import progress

logger = logging.getLogger(__name__)


async def open_due_rounds(services: Services, bot: Bot, now: datetime) -> None:
    """Open the rounds that are due. One read finds the Unions with something to decide (most
    ticks: none); each of those then gets its own short transaction, so opening a month's rounds
    for many Unions never holds the write lock for all of them."""
    async with services.db.transaction() as session:
        due = await progress.rounds_to_decide(session, now=now)
    failed = 0
    for item in due:
        try:
            async with services.db.transaction() as session:
                await progress.open_rounds(
                    session, due=item, now=now, language=services.settings.default_language
                )
        except Exception:
            failed += 1
            logger.exception(
                "Update round of Union %s failed; retrying at the next tick", item.union_id
            )
    _retry_if(failed, "Unions' rounds")


async def round_housekeeping(services: Services, bot: Bot, now: datetime) -> None:
    """Close rounds past their deadline, send due reminders, tell coordinators who is unreachable.

    One short transaction per round: on SQLite a transaction holds the write lock, and a vote
    pressed meanwhile waits for one round's duties at most, not for every round's.
    """
    async with services.db.transaction() as session:
        round_ids = await progress.open_round_ids(session)
    failed = 0
    for round_id in round_ids:
        try:
            async with services.db.transaction() as session:
                await progress.round_duties(
                    session,
                    round_id=round_id,
                    now=now,
                    language=services.settings.default_language,
                )
        except Exception:
            failed += 1
            logger.exception(
                "Duties of update round %s failed; retrying at the next tick", round_id
            )
    _retry_if(failed, "rounds' duties")


def _retry_if(failed: int, what: str) -> None:
    if failed:
        raise PartlyDone(f"{failed} {what} failed")
