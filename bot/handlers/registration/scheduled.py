"""Registration's scheduled work, run by the tick (bot.jobs)."""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import Bot

from bot.context import Services
from bot.services import registration

logger = logging.getLogger(__name__)


async def wipe_copies_of_erased(services: Services, bot: Bot, now: datetime) -> None:
    """Due work: the text of a message that named someone who has since left is wiped once the
    message is settled (bot.services.registration.wipe_copies)."""
    async with services.db.transaction() as session:
        wiped = await registration.wipe_copies(session)
    if wiped:
        logger.info("Erasure: %d sent messages that named a former member wiped", wiped)
