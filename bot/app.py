"""build_application(settings): the one place that wires the bot together."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from typing import Any
from zoneinfo import ZoneInfo

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import NetworkError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
    ExtBot,
)
from telegram.request import HTTPXRequest

from bot import delivery
from bot import web as dashboard_web
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.context import BotContext, Services, services_of
from bot.handlers import common, register_all
from bot.jobs import release_scheduler, schedule_tick, uses_scheduler_lock
from bot.logging_setup import add_secret, install_redaction
from bot.telegram_link import link_of
from bot.updates import PerPersonProcessor, UpdateQueue
from storage.db import Database

logger = logging.getLogger(__name__)

# PTB 22 reports RetryAfter.retry_after as a timedelta when opted in (and warns otherwise);
# bot.delivery reads both forms.
os.environ.setdefault("PTB_TIMEDELTA", "1")

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]
# Updates waiting in the queue, and taken out of it but unfinished (bot/updates.py): enough to
# keep CONCURRENT_UPDATES busy while some wait for their person's turn. 16 instead of 32 is
# 0.4 MB less at the peak of a burst and as fast (bench/README.md, "Session 6"), and fewer
# confirmed-but-unhandled updates to lose in a crash.
UPDATE_QUEUE_SIZE = 16
# Updates getUpdates asks for at once (Telegram's default: 100; BatchedBot). PTB parses a whole
# batch, then waits for room in the queue: with 100 a burst's peak held 0.8 MB more of parsed
# updates; with 16 (one queue's worth) the bot spent 10 % more CPU per press polling.
UPDATES_PER_POLL = 2 * UPDATE_QUEUE_SIZE

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


class PollingRequest(HTTPXRequest):
    """The getUpdates connection: each answer or failure goes to the link's watch
    (`bot.telegram_link`: outages said once, a revoked token, when polling last succeeded)."""

    def __init__(self, services: Services, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._services = services

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        link = link_of(self._services)
        try:
            result = await super().do_request(*args, **kwargs)
        except NetworkError as error:  # raised for httpx's errors, time-outs included
            link.failed(error)
            raise
        link.polled(*result)
        return result


class BatchedBot(ExtBot[Any]):
    """getUpdates asks for UPDATES_PER_POLL updates at most, not Telegram's 100: PTB parses a
    whole batch at once and then puts it into the queue one update at a time, waiting while
    the queue is full, so the rest of a big batch sits parsed in memory behind it."""

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[Update, ...]:
        return await super().get_updates(
            offset, UPDATES_PER_POLL if limit is None else limit, *args, **kwargs
        )


# Telegram allows about 30 messages a second overall. AIORateLimiter's leaky bucket holds as
# many tokens as the rate (30), so after a quiet moment it lets 30 through at once and then
# 30/s more: ~60 in the first second of a bulk send, and Telegram answers 429 (measured with
# bench/run.py). A bucket of one token refilled every 1/28 s spaces the sends evenly, just
# under the limit. Groups keep PTB's 20 a minute (a burst of 20, then one every 3 s): poll
# tallies coalesce their edits, so a group never comes near it.
OVERALL_SEND_INTERVAL = 1 / 28


def telegram_rate_limiter() -> AIORateLimiter:
    return AIORateLimiter(
        overall_max_rate=1, overall_time_period=OVERALL_SEND_INTERVAL, max_retries=3
    )


async def on_startup(application: AnyApplication) -> None:
    """Async set-up: schema, interrupted sends, menus, the rhythm. Also called by tests."""
    services = services_of(application)
    services.started_at = services.clock.now()
    if not services.schema_ready:  # `python -m bot` migrated in a child process already
        from storage import migrate

        await migrate.upgrade(services.db)
    if services.settings.tick_seconds > 0:
        schedule_tick(application, services.settings.tick_seconds)
    if not uses_scheduler_lock(services):
        # With several instances on PostgreSQL a row `sending` may be another live instance's:
        # the scheduler's holder recovers them when it takes the lock (bot/jobs.py).
        await delivery.recover_after_restart(services)
    try:
        await common.set_command_menus(application)
    except Exception as error:  # a menu is a nicety: never refuse to start for it
        if isinstance(error, NetworkError):
            logger.warning("Could not set the command menus: %s", error)
        else:
            logger.warning("Could not set the command menus", exc_info=True)
    else:
        logger.info("Command menus set (private chats, groups, group admins; it, en)")
    try:  # the dashboard (issue 20): off unless WEBAPP_PORT and WEBAPP_URL are set
        await dashboard_web.start(application)
    except OSError:  # e.g. the port is taken: the bot itself goes on
        logger.error("The dashboard could not start", exc_info=True)


async def on_shutdown(application: AnyApplication) -> None:
    services = services_of(application)
    await dashboard_web.stop(application)  # the dashboard (issue 20), if it runs
    if services.background_tasks:
        await asyncio.gather(*services.background_tasks, return_exceptions=True)
    await release_scheduler(services)
    await services.db.dispose()


def freeze_heap_after_start(application: AnyApplication) -> None:
    """For the process that runs the bot: once started, collect the start-up garbage and put
    everything alive then (modules, SQLAlchemy's mappers, the handlers) out of the cyclic
    collector's sight (`gc.freeze`). A full collection during a burst then walks only what the
    updates made: the real bot's three full collections in bench.run took 104 ms, 14 ms frozen.
    Not for tests, which build many applications in one process: frozen objects are never freed.
    """
    started = application.post_init

    async def post_init(app: AnyApplication) -> None:
        if started is not None:
            await started(app)
        gc.collect()
        gc.freeze()

    application.post_init = post_init


def build_application(
    settings: Settings,
    *,
    clock: Clock | None = None,
    rate_limiter: bool = True,
    db: Database | None = None,
) -> AnyApplication:
    install_redaction(settings.token)  # whoever builds the bot, the token never reaches a log
    add_secret(settings.webhook_secret)
    services = Services(
        settings=settings,
        db=db or Database(settings.database_url, concurrent_updates=settings.concurrent_updates),
        clock=clock or SystemClock(),
    )
    bot = BatchedBot(
        token=settings.token,
        base_url=settings.base_url,
        base_file_url=settings.base_file_url,
        defaults=Defaults(
            parse_mode=ParseMode.HTML,
            tzinfo=ZoneInfo(settings.timezone),
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        ),
        get_updates_request=PollingRequest(
            services, connection_pool_size=1, read_timeout=40, connect_timeout=10
        ),
        request=HTTPXRequest(
            connection_pool_size=16,
            read_timeout=settings.request_read_timeout,
            connect_timeout=10,
        ),
        rate_limiter=telegram_rate_limiter() if rate_limiter else None,
    )
    builder = (
        ApplicationBuilder()
        .bot(bot)
        .context_types(ContextTypes(context=BotContext))
        # At most UPDATE_QUEUE_SIZE updates wait in the queue, and as many are being handled:
        # polling pauses while the queue is full, so a burst waits at Telegram rather than in our
        # heap (and fewer confirmed but unhandled updates are lost in a crash). PTB's is unbounded.
        .update_queue(UpdateQueue(UPDATE_QUEUE_SIZE, in_flight=UPDATE_QUEUE_SIZE))
        .post_init(on_startup)
        .post_shutdown(on_shutdown)
    )
    if settings.concurrent_updates > 1:
        builder = builder.concurrent_updates(PerPersonProcessor(settings.concurrent_updates))
    application = builder.build()
    application.bot_data["services"] = services
    register_all(application, services)
    return application


__all__ = [
    "ALLOWED_UPDATES",
    "build_application",
    "freeze_heap_after_start",
    "on_shutdown",
    "on_startup",
]
