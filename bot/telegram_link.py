"""The bot's link to Telegram while it runs: outages, conflicts and a revoked token, said briefly.

Telegram unreachable is a condition of the world, not a bug: the log gets one WARNING when an
outage starts, a reminder at most every `REMIND_EVERY`, and one INFO line when Telegram answers
again — never a traceback per failed attempt (python-telegram-bot retries polling by itself,
every 1-30 s). What is observed:

- every `getUpdates` (polling): its answer or its failure (`bot.app.PollingRequest`);
- in webhook mode nothing polls, so the tick asks `getWebhookInfo` at most every
  `PROBE_EVERY` (`probe`): whether Telegram answers, and whether it could deliver to us;
- errors of jobs that reach the error handler outside an update (`bot.handlers.common`).

Two conditions stop the bot, with one line and an exit code (`bot.runner`):

- the token is rejected (401/404): revoked at @BotFather while running → exit 2;
- **409 Conflict** that persists: another process polls with the same token (Telegram gives
  each new `getUpdates` the updates and ends the other one's with 409), or a webhook is set.
  The copy that has just started gives way after `CONFLICT_NEWCOMER_GIVES_UP` of conflicts;
  one that was already running keeps serving (one warning) and gives up only after
  `CONFLICT_GIVE_UP`: so starting a second copy by mistake never stops the first. A webhook
  set by someone else is not a race to win: any poller gives way after the short delay.

Times come from the bot's clock (`services.clock`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError

from bot.context import Services
from bot.logging_setup import one_line

logger = logging.getLogger(__name__)

REMIND_EVERY = timedelta(minutes=5)
PROBE_EVERY = timedelta(minutes=1)
# A copy started this recently when conflicts began is the newcomer: it gives way.
NEWCOMER_FOR = timedelta(minutes=1)
CONFLICT_NEWCOMER_GIVES_UP = timedelta(seconds=15)
CONFLICT_GIVE_UP = timedelta(minutes=10)
# Conflicts this far apart are separate episodes (a copy started and stopped long ago).
CONFLICT_EPISODE_GAP = timedelta(minutes=2)

EXIT_CONFIG = 2
EXIT_CONFLICT = 3

_EXTRA = "bot.telegram_link"


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


class TelegramLink:
    def __init__(self, services: Services) -> None:
        self._services = services
        self.down_since: datetime | None = None
        self.failures = 0
        self._last_error = ""
        self._reminded_at: datetime | None = None
        self._conflict_since: datetime | None = None
        self._conflict_last: datetime | None = None
        self._probed_at: datetime | None = None
        self._webhook_error_date: int | None = None
        self._webhook_elsewhere = False
        # Set when the bot must stop: (exit status, one line for the operator).
        self.fatal: tuple[int, str] | None = None
        self.fatal_event = asyncio.Event()

    def _now(self) -> datetime:
        return self._services.clock.now()

    # --- reachability -------------------------------------------------------------------

    def ok(self) -> None:
        """Telegram answered."""
        now = self._now()
        self._services.last_poll_ok_at = now
        if self.down_since is not None:
            logger.info(
                "Telegram reachable again after %s (%d failed attempts)",
                _duration(now - self.down_since),
                self.failures,
            )
        self.down_since, self.failures, self._reminded_at = None, 0, None

    def failed(self, error: BaseException | str) -> None:
        """A call could not reach Telegram (network, time-out, a 5xx answer)."""
        now = self._now()
        self._last_error = error if isinstance(error, str) else one_line(error)
        self.failures += 1
        if self.down_since is None:
            self.down_since = self._reminded_at = now
            logger.warning(
                "Telegram unreachable (%s): updates wait at Telegram and scheduled messages in "
                "the outbox; retrying",
                self._last_error,
            )
        elif self._reminded_at is not None and now - self._reminded_at >= REMIND_EVERY:
            self._reminded_at = now
            logger.warning(
                "Telegram still unreachable after %s (%d failed attempts; last: %s)",
                _duration(now - self.down_since),
                self.failures,
                self._last_error,
            )

    # --- fatal conditions -----------------------------------------------------------------

    def stop(self, status: int, line: str) -> None:
        if self.fatal is None:
            self.fatal = (status, line)
            logger.error("%s", line)
        self.fatal_event.set()

    def token_rejected(self) -> None:
        self.stop(
            EXIT_CONFIG,
            "Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized): the token was revoked or "
            "mistyped; check it with @BotFather. Stopping.",
        )

    def conflict(self, error: TelegramError) -> None:
        """getUpdates answered 409 Conflict."""
        now = self._now()
        if self._conflict_last is None or now - self._conflict_last > CONFLICT_EPISODE_GAP:
            self._conflict_since = now
            logger.warning(
                "Telegram answers 409 Conflict (%s): another copy of this bot is receiving "
                "updates with the same token",
                error.message,
            )
        self._conflict_last = now
        assert self._conflict_since is not None
        started = self._services.started_at or now
        webhook_set = "webhook" in error.message.lower()
        newcomer = webhook_set or self._conflict_since - started < NEWCOMER_FOR
        limit = CONFLICT_NEWCOMER_GIVES_UP if newcomer else CONFLICT_GIVE_UP
        if now - self._conflict_since >= limit:
            self.stop(
                EXIT_CONFLICT,
                f"Another copy of this bot is already receiving updates with this token "
                f"(Telegram: 409 {error.message}); stopping this one. Run one polling copy "
                f"per token, or several in webhook mode (WEBHOOK_URL).",
            )

    def polling_error(self, error: TelegramError) -> None:
        """python-telegram-bot's polling error callback (every getUpdates that failed)."""
        from telegram.error import Conflict

        if isinstance(error, Conflict):
            self.conflict(error)
        elif isinstance(error, InvalidToken):
            self.token_rejected()
        elif isinstance(error, NetworkError) and not isinstance(error, BadRequest):
            pass  # counted by PollingRequest, which sees every attempt
        elif not isinstance(error, RetryAfter):
            logger.warning("Polling failed: %s", one_line(error))

    # --- observers --------------------------------------------------------------------------

    def polled(self, status: int, payload: bytes) -> None:
        """The answer to a getUpdates (PollingRequest)."""
        if status == 200:
            self.ok()
        elif status in (401, 404):
            self.token_rejected()
        elif status >= 500:
            self.failed(f"Telegram answered {status} {_description(payload)}".strip())

    async def probe(self, bot: Bot) -> None:
        """Webhook mode: ask getWebhookInfo now and then (Telegram's side of our link)."""
        now = self._now()
        if self._probed_at is not None and now - self._probed_at < PROBE_EVERY:
            return
        self._probed_at = now
        try:
            info = await bot.get_webhook_info()
        except InvalidToken:
            self.token_rejected()
            return
        except RetryAfter:
            return
        except NetworkError as error:
            if isinstance(error, BadRequest):
                logger.warning("getWebhookInfo refused: %s", error.message)
                return
            self.failed(error)
            return
        self.ok()
        wanted = self._services.settings.webhook_url
        elsewhere = bool(wanted) and info.url != wanted
        if elsewhere and not self._webhook_elsewhere:
            logger.warning(
                "Telegram's webhook is %r, not this bot's WEBHOOK_URL: updates go elsewhere "
                "(another deployment, or polling started with this token)",
                info.url,
            )
        self._webhook_elsewhere = elsewhere
        error_date = _epoch(info.last_error_date)
        new_error = info.last_error_message and error_date != self._webhook_error_date
        if new_error and (
            self._webhook_error_date is not None or _recent(info.last_error_date, now)
        ):
            logger.warning(
                "Telegram could not deliver updates to the webhook: %s (%d waiting)",
                info.last_error_message,
                info.pending_update_count,
            )
        self._webhook_error_date = error_date


def _epoch(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def _recent(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and now - moment < REMIND_EVERY


def _description(payload: bytes) -> str:
    try:
        data: Any = json.loads(payload)
        return str(data.get("description") or "")
    except (ValueError, AttributeError):
        return ""


def link_of(services: Services) -> TelegramLink:
    link = services.extras.get(_EXTRA)
    if link is None:
        link = services.extras[_EXTRA] = TelegramLink(services)
    assert isinstance(link, TelegramLink)
    return link
