"""The error handler: one honest message per update that failed, never two."""

from __future__ import annotations

import contextlib
import logging

from telegram import Chat, Update
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext, Services
from bot.i18n import Translator
from bot.scope import DuplicateUpdate, UpdateNotProcessed, tr_for
from bot.telegram_link import link_of
from bot.views import common as views

logger = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    error = context.error
    if isinstance(update, Update) and isinstance(error, DuplicateUpdate):
        logger.info("Update %s was already handled; ignoring the redelivery", update.update_id)
        if update.callback_query is not None:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        return
    if not isinstance(update, Update):
        if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
            # Telegram unreachable (a job's call): one line per outage, not a traceback each
            # time (bot/telegram_link.py).
            link_of(context.services).failed(error)
            return
        logger.error("Error outside an update", exc_info=error)
        return
    chat = update.effective_chat
    user = update.effective_user
    if isinstance(error, BadRequest) and "query is too old" in error.message.lower():
        # The press waited too long (e.g. while the bot restarted): its answer cannot be shown
        # any more, which is harmless; what the handler committed stays committed.
        logger.info(
            "Update %s: the button press was answered too late (%s)", update.update_id, error
        )
        return
    logger.error(
        "Error handling update %s (chat %s, user %s)",
        update.update_id,
        chat.id if chat else None,
        user.id if user else None,
        exc_info=error,
    )
    if isinstance(error, Forbidden):
        return
    services = context.services
    tr = tr_for(services, person=None, user=user)
    text = error_text(services, update.update_id, tr)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif chat is not None and chat.type == Chat.PRIVATE:
            await chat.send_message(text)
    except TelegramError:
        logger.warning("Could not tell the user about the error", exc_info=True)
    if isinstance(error, UpdateNotProcessed):
        # The pre-check failed: no handler of any group may run for this update.
        raise ApplicationHandlerStop


def error_text(services: Services, update_id: int, tr: Translator) -> str:
    """What the user reads after an error: "saved" only when it was committed, "not recorded"
    only when it certainly was not, and "I don't know" when the COMMIT itself failed."""
    if update_id in services.committed_updates:
        saved = views.Saved.YES
    elif update_id in services.outcome_unknown_updates:
        saved = views.Saved.UNKNOWN
    else:
        saved = views.Saved.NO
    return views.error_text(saved, tr)
