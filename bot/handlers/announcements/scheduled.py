"""The announcements' due work: each announcement's delivery report to its sender, once every
copy is settled (run by the tick, and after a send in the background)."""

from __future__ import annotations

from datetime import datetime

from telegram import Bot

from bot import delivery
from bot.context import Services
from bot.services import announcements


async def report_announcements(services: Services, bot: Bot, now: datetime) -> None:
    async with services.db.transaction() as session:
        await announcements.report_announcements(
            session, now=now, default_language=services.settings.default_language
        )


async def deliver_and_report(services: Services, bot: Bot) -> None:
    """After a send: the copies go out now, then the report when they are all settled."""
    await delivery.flush(services, bot)
    await report_announcements(services, bot, services.clock.now())
    await delivery.flush(services, bot)
