"""The summaries' due work, run by the tick (bot.jobs): the scheduled summaries and the
Covenant clock. A short transaction per Union or round; the use cases queue in the outbox,
which the tick flushes after all due work."""

from __future__ import annotations

from datetime import datetime

from telegram import Bot

from bot import delivery
from bot.context import Services
from bot.scope import tr_for
from bot.services import summaries


async def post_due_summaries(services: Services, bot: Bot, now: datetime) -> None:
    """One scheduled summary per round whose deadline has passed (caught up once), and the
    pictures a summary still owes (the process stopped after queueing its text)."""
    async with services.db.transaction() as session:
        due = await summaries.summaries_due(session, now=now)
        owed = await summaries.pictures_owed(session, now=now)
    # Dashboard (issue 20): the bot's username makes the group's t.me link to the Mini App
    # (read only when configured: a stub bot in the storage tests allows no Telegram call).
    username = bot.username if services.settings.webapp_url else None
    for item in due:
        await _post_summary(services, bot, item, now, bot_username=username)
    for pictures in owed:
        await _post_owed_pictures(services, pictures, now)


async def _post_summary(
    services: Services,
    bot: Bot,
    due: summaries.DueSummary,
    now: datetime,
    *,
    bot_username: str | None,
) -> None:
    """Read, queue the text and send it, then draw with no transaction open (in a thread)
    and queue the pictures: the text does not wait for them (bot.services.summaries.posting;
    the tick's flush sends the pictures)."""
    language = tr_for(services).language
    async with services.db.transaction() as session:
        draft = await summaries.read_scheduled_summary(session, due=due, now=now, language=language)
    if draft is None:
        return
    async with services.db.transaction() as session:
        queued = await summaries.queue_summary(
            session,
            due=due,
            draft=draft,
            now=now,
            language=language,
            webapp_url=services.settings.webapp_url,
            bot_username=bot_username,
        )
    if queued is not None:
        delivery.flush_soon(services, bot)
        await _post_pictures(services, queued.summary_id, due, draft, now, language)


async def _post_pictures(
    services: Services,
    summary_id: int,
    due: summaries.DueSummary,
    draft: summaries.SummaryDraft,
    now: datetime,
    language: str,
) -> None:
    pictures = await summaries.summary_pictures(draft, language=language)
    async with services.db.transaction() as session:
        await summaries.queue_pictures(
            session, summary_id=summary_id, due=due, pictures=pictures, now=now
        )


async def _post_owed_pictures(
    services: Services, owed: summaries.PicturesOwed, now: datetime
) -> None:
    """The pictures of a summary whose text went out before the process stopped: drawn from
    the round's summary as it reads now."""
    language = tr_for(services).language
    async with services.db.transaction() as session:
        draft = await summaries.read_scheduled_summary(
            session, due=owed.due, now=now, language=language
        )
    if draft is not None:
        await _post_pictures(services, owed.summary_id, owed.due, draft, now, language)


async def covenant_clock_due(services: Services, bot: Bot, now: datetime) -> None:
    """Warn the political table ahead of each Covenant report, once per lead time: read what
    is due (usually nothing, and nothing is written), then one transaction per Union."""
    async with services.db.transaction() as session:
        due = await summaries.covenant_warnings_due(session, now=now)
    language = tr_for(services).language
    for item in due:
        async with services.db.transaction() as session:
            await summaries.warn_covenant(session, due=item, now=now, language=language)
