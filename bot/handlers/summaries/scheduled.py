"""The summaries' due work, run by the tick (bot.jobs): the scheduled summaries and the
Covenant clock. A short transaction per Union or round; the use cases queue in the outbox,
which the tick flushes after all due work."""

from __future__ import annotations

from datetime import datetime

from telegram import Bot

from bot.context import Services
from bot.scope import tr_for
from bot.services import summaries


async def post_due_summaries(services: Services, bot: Bot, now: datetime) -> None:
    """One scheduled summary per round whose deadline has passed (caught up once)."""
    async with services.db.transaction() as session:
        due = await summaries.summaries_due(session, now=now)
    # Dashboard (issue 20): the bot's username makes the group's t.me link to the Mini App
    # (read only when configured: a stub bot in the storage tests allows no Telegram call).
    username = bot.username if services.settings.webapp_url else None
    for item in due:
        await _post_summary(services, item, now, bot_username=username)


async def _post_summary(
    services: Services, due: summaries.DueSummary, now: datetime, *, bot_username: str | None
) -> None:
    """Read, then render with no transaction open (the chart in a thread), then queue."""
    language = tr_for(services).language
    async with services.db.transaction() as session:
        draft = await summaries.read_scheduled_summary(session, due=due, now=now, language=language)
    if draft is None:
        return
    parts = summaries.summary_texts(draft, language=language)
    chart = await summaries.summary_chart(draft, language=language)
    async with services.db.transaction() as session:
        await summaries.queue_summary(
            session,
            due=due,
            draft=draft,
            parts=parts,
            chart=chart,
            now=now,
            language=language,
            webapp_url=services.settings.webapp_url,
            bot_username=bot_username,
        )


async def covenant_clock_due(services: Services, bot: Bot, now: datetime) -> None:
    """Warn the political table ahead of each Covenant report, once per lead time: read what
    is due (usually nothing, and nothing is written), then one transaction per Union."""
    async with services.db.transaction() as session:
        due = await summaries.covenant_warnings_due(session, now=now)
    language = tr_for(services).language
    for item in due:
        async with services.db.transaction() as session:
            await summaries.warn_covenant(session, due=item, now=now, language=language)
