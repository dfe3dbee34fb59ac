"""Run the bot like a service: start when Telegram can be reached, serve, stop cleanly.

python-telegram-bot's `run_polling` gives up at the first failed call at start (no network
yet: two full tracebacks and exit 1) and prints the token when Telegram rejects it. Here:

- **start**: `getMe`, then `deleteWebhook` (polling) or `setWebhook` (webhook mode), retried
  with a backoff of 1, 2, 4 … `START_RETRY_MAX` seconds while Telegram cannot be reached, one
  WARNING line per attempt, no traceback; a rejected token is one line («Errore di
  configurazione: …», as every configuration error) and exit 2, as is a webhook Telegram
  refuses or a port the webhook server cannot listen on;
- **serve**: polling (the default) or python-telegram-bot's own webhook server (tornado) on
  `WEBHOOK_LISTEN:PORT`, which refuses with 403 every request without the right
  `X-Telegram-Bot-Api-Secret-Token`; outages and conflicts are watched by
  `bot.telegram_link`, which can ask to stop (a revoked token: 2; a persistent 409: 3);
- **stop** on SIGTERM/SIGINT: updater, application, `post_shutdown`, in PTB's order.

The start-up line names the bot (@username), the mode, the database (without password), the
time zone and the number of Unions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application

from bot.config import Settings
from bot.context import services_of
from bot.logging_setup import one_line, redact
from bot.telegram_edit import retry_after_seconds
from bot.telegram_link import EXIT_CONFIG, link_of

logger = logging.getLogger("bot")

AnyApplication = Application[Any, Any, Any, Any, Any, Any]

START_RETRY_FIRST = 1.0
START_RETRY_MAX = 60.0
EXIT_OK = 0


class StartFailed(Exception):
    """Start-up cannot succeed by waiting: one line for the operator and an exit status."""

    def __init__(self, status: int, line: str) -> None:
        super().__init__(line)
        self.status = status
        self.line = line


def database_for_log(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def _prepare_updates(application: AnyApplication, settings: Settings) -> None:
    """What Telegram must know before updates can flow: no webhook (polling), or ours."""
    from bot.app import ALLOWED_UPDATES

    bot = application.bot
    if settings.webhook_url:
        await bot.set_webhook(
            url=settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
        )
    else:
        await bot.delete_webhook(drop_pending_updates=False)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()


async def start_when_reachable(
    application: AnyApplication, settings: Settings, stop: asyncio.Event
) -> bool:
    """`initialize` (getMe) and the webhook set-up, retried while Telegram is unreachable.
    False if asked to stop meanwhile; StartFailed when waiting cannot help."""
    delay = START_RETRY_FIRST
    attempt = 0
    while not stop.is_set():
        attempt += 1
        try:
            await application.initialize()
            await _prepare_updates(application, settings)
            return True
        except InvalidToken:
            raise StartFailed(
                EXIT_CONFIG,
                "Telegram rifiuta TELEGRAM_BOT_TOKEN (401 Unauthorized): controlla il token "
                "con @BotFather",
            ) from None
        except BadRequest as error:  # setWebhook refused: a wrong URL, not a passing outage
            raise StartFailed(
                EXIT_CONFIG, f"Telegram rifiuta WEBHOOK_URL: {error.message}"
            ) from None
        except RetryAfter as error:
            wait = max(retry_after_seconds(error), delay)
            logger.warning("Telegram asks to wait %.0f s before the next call", wait)
        except NetworkError as error:
            wait = delay
            logger.warning(
                "Telegram not reachable at start (attempt %d: %s); next attempt in %.0f s",
                attempt,
                one_line(error),
                wait,
            )
        delay = min(delay * 2, START_RETRY_MAX)
        await _sleep_or_stop(stop, wait)
    return False


async def _start_updates(application: AnyApplication, settings: Settings) -> None:
    from bot.app import ALLOWED_UPDATES

    updater = application.updater
    assert updater is not None
    link = link_of(services_of(application))
    if settings.webhook_url:
        try:
            await updater.start_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=settings.webhook_path,
                webhook_url=settings.webhook_url,
                secret_token=settings.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
                bootstrap_retries=-1,  # done already by _prepare_updates; PTB repeats it
            )
        except OSError as error:
            raise StartFailed(
                EXIT_CONFIG,
                f"il server del webhook non può ascoltare su {settings.webhook_listen}:"
                f"{settings.webhook_port} ({error.strerror or error}): controlla PORT e "
                f"WEBHOOK_LISTEN",
            ) from None
    else:
        await updater.start_polling(
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
            bootstrap_retries=-1,
            error_callback=link.polling_error,
        )


async def _count_unions(application: AnyApplication) -> int | None:
    from storage.models import Union

    try:
        async with services_of(application).db.transaction() as session:
            return int(
                (await session.execute(select(func.count()).select_from(Union))).scalar_one()
            )
    except Exception as error:  # a number for a log line: never stop for it
        logger.warning("Could not count the Unions: %s", error)
        return None


async def _started_line(application: AnyApplication, settings: Settings) -> None:
    bot = application.bot
    if settings.webhook_url:
        mode = (
            f"webhook {settings.webhook_url} (listening on "
            f"{settings.webhook_listen}:{settings.webhook_port})"
        )
    else:
        mode = "polling"
    unions = await _count_unions(application)
    logger.info(
        "Team Energia bot @%s started: %s; database %s; time zone %s; Unions: %s",
        bot.username,
        mode,
        database_for_log(settings.database_url),
        settings.timezone,
        "?" if unions is None else unions,
    )


async def serve(application: AnyApplication, settings: Settings) -> int:
    """Start, serve until SIGTERM/SIGINT or a fatal condition, stop. Returns the exit status."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    link = link_of(services_of(application))
    status = EXIT_OK
    try:
        if await start_when_reachable(application, settings, stop):
            if application.post_init is not None:
                await application.post_init(application)
            await _start_updates(application, settings)
            await application.start()
            await _started_line(application, settings)
            stopping = asyncio.ensure_future(stop.wait())
            fatal = asyncio.ensure_future(link.fatal_event.wait())
            await asyncio.wait((stopping, fatal), return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            fatal.cancel()
            if link.fatal is not None:
                status = link.fatal[0]
    except StartFailed as failed:  # a configuration error, said as the others are (__main__)
        print(f"Errore di configurazione: {redact(failed.line)}", file=sys.stderr, flush=True)
        status = failed.status
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        logger.info("Stopping")
        await _shutdown(application)
    return status


async def _shutdown(application: AnyApplication) -> None:
    """python-telegram-bot's own order (Application.__run's finally)."""
    updater = application.updater
    if updater is not None and updater.running:
        await updater.stop()
    if application.running:
        await application.stop()
        if application.post_stop is not None:
            await application.post_stop(application)
    await application.shutdown()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)


def run(application: AnyApplication, settings: Settings) -> int:
    return asyncio.run(serve(application, settings))
