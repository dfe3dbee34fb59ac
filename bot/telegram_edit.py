"""Editing a message Telegram already shows, the one way the bot does it.

Every edit goes by chat id and message id (stored in the database, or read from the pressed
button's message), never through `CallbackQuery.edit_message_text`: for a message older than
48 hours Telegram sends an `InaccessibleMessage`, on which PTB's shortcut raises TypeError.

Telegram's answers, sorted into what the caller has to decide:

- "message is not modified" means the message already shows this: success (`UNCHANGED`).
- "message to edit not found", "message can't be edited", no text to edit, an inaccessible or
  inline message: the message cannot be edited any more (`GONE`); show the text afresh if it
  matters (`edit_or_send` does that for a pressed button).
- 429: PTB's AIORateLimiter already waited and retried (up to 3 times); if Telegram still
  says wait, the result is `RETRY` with the seconds to wait, logged, never swallowed.
- A timeout or a network error: `RETRY` too (an edit is idempotent, so trying again is safe).
- 403, or any other refusal: `FAILED`, logged.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter

from bot.markup import markup
from bot.scope import reply
from bot.views.answer import Answer

logger = logging.getLogger(__name__)

# Seconds to wait after a timeout or a network error before editing again.
NETWORK_RETRY_SECONDS = 5.0
# Telegram's limit for the text of a callback answer (a toast or an alert).
TOAST_LIMIT = 200

_GONE_MARKERS = (
    "message to edit not found",
    "message can't be edited",
    "message_id_invalid",
    "there is no text in the message to edit",
    "message to be edited not found",
)


class EditStatus(enum.Enum):
    EDITED = "edited"
    UNCHANGED = "unchanged"  # Telegram already shows exactly this
    GONE = "gone"  # deleted, too old, not the bot's, inaccessible: send a new message instead
    RETRY = "retry"  # flood control or the network: try again after `retry_after` seconds
    FAILED = "failed"  # refused for good (403, a bad request): logged


@dataclass(frozen=True)
class EditResult:
    status: EditStatus
    retry_after: float = 0.0
    error: str = ""

    @property
    def ok(self) -> bool:
        """The message shows the new content."""
        return self.status in (EditStatus.EDITED, EditStatus.UNCHANGED)

    @property
    def gone(self) -> bool:
        return self.status == EditStatus.GONE


def retry_after_seconds(exc: RetryAfter) -> float:
    value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def edit_message(
    bot: Bot,
    *,
    chat_id: int,
    message_id: int,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
    parse_mode: str | None = ParseMode.HTML,
) -> EditResult:
    """Edit the text (and keyboard) of one message; never raises for Telegram's answers."""
    try:
        await bot.edit_message_text(
            text,
            chat_id=chat_id,
            message_id=message_id,
            reply_markup=reply_markup,
            parse_mode=parse_mode,
        )
    except ChatMigrated as exc:
        # The group became a supergroup: its messages live on under new ids we do not know.
        logger.info("Message %s/%s: chat migrated (%s)", chat_id, message_id, exc.message)
        return EditResult(EditStatus.GONE, error=exc.message)
    except BadRequest as exc:
        lowered = exc.message.lower()
        if "not modified" in lowered:
            return EditResult(EditStatus.UNCHANGED)
        if any(marker in lowered for marker in _GONE_MARKERS):
            logger.info("Message %s/%s can no longer be edited: %s", chat_id, message_id, exc)
            return EditResult(EditStatus.GONE, error=exc.message)
        logger.warning("Message %s/%s: edit refused: %s", chat_id, message_id, exc.message)
        return EditResult(EditStatus.FAILED, error=exc.message)
    except Forbidden as exc:
        logger.warning("Message %s/%s: the bot cannot write there: %s", chat_id, message_id, exc)
        return EditResult(EditStatus.FAILED, error=exc.message)
    except RetryAfter as exc:
        wait = retry_after_seconds(exc)
        logger.warning(
            "Message %s/%s: Telegram's flood control still asks to wait %.0f s after the rate "
            "limiter's retries; the edit is postponed",
            chat_id,
            message_id,
            wait,
        )
        return EditResult(EditStatus.RETRY, retry_after=wait, error=exc.message)
    except NetworkError as exc:  # TimedOut included: an edit is safe to repeat
        logger.info("Message %s/%s: edit postponed (%s)", chat_id, message_id, exc)
        return EditResult(EditStatus.RETRY, retry_after=NETWORK_RETRY_SECONDS, error=str(exc))
    return EditResult(EditStatus.EDITED)


def pressed_message_ids(query: CallbackQuery) -> tuple[int, int] | None:
    """(chat id, message id) of the message whose button was pressed, also when Telegram
    marks it inaccessible; None for a button under an inline-mode message."""
    message = query.message
    if message is None:
        return None
    return message.chat.id, message.message_id


async def edit_pressed(
    bot: Bot,
    query: CallbackQuery,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
    *,
    parse_mode: str | None = ParseMode.HTML,
) -> EditResult:
    """Edit the message carrying the pressed button."""
    ids = pressed_message_ids(query)
    if ids is None:
        return EditResult(EditStatus.GONE, error="no message")
    return await edit_message(
        bot,
        chat_id=ids[0],
        message_id=ids[1],
        text=text,
        reply_markup=reply_markup,
        parse_mode=parse_mode,
    )


async def edit_or_send(
    update: Update,
    bot: Bot,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
    *,
    parse_mode: str | None = ParseMode.HTML,
) -> EditResult:
    """Replace the pressed message; when it cannot be edited, send the text afresh.

    Not after RETRY: Telegram asked to wait (or did not answer), and a new message would only
    add to the flood.
    """
    query = update.callback_query
    if query is None:
        await reply(update, text, reply_markup, parse_mode=parse_mode)
        return EditResult(EditStatus.GONE, error="no button")
    result = await edit_pressed(bot, query, text, reply_markup, parse_mode=parse_mode)
    if result.status in (EditStatus.GONE, EditStatus.FAILED):
        await reply(update, text, reply_markup, parse_mode=parse_mode)
    return result


async def deliver(update: Update, answer: Answer) -> None:
    """Send a rendered answer: the pressed button's toast (cut to Telegram's limit; "query is
    too old" is harmless), then the text in place of the pressed message — or as a new message
    when asked, or when the update is not a press — then the messages that follow it."""
    query = update.callback_query
    if query is not None:
        toast = answer.toast
        if toast is not None and len(toast) > TOAST_LIMIT:
            toast = toast[: TOAST_LIMIT - 1] + "…"
        try:
            await query.answer(toast, show_alert=answer.alert)
        except BadRequest:
            logger.debug("Callback answer failed", exc_info=True)
    if answer.text and query is not None and not answer.new_message:
        await edit_or_send(update, update.get_bot(), answer.text, markup(answer.keyboard))
        await send_answer(update, replace(answer, text=None))
    else:
        await send_answer(update, answer)


async def send_answer(update: Update, answer: Answer) -> None:
    """Send a rendered answer as new messages in the update's chat (no toast, nothing edited):
    its text with its keyboard, then the messages that follow it."""
    if answer.text:
        await reply(update, answer.text, markup(answer.keyboard))
    for text, keyboard in answer.then:
        await reply(update, text, markup(keyboard))


__all__ = [
    "EditResult",
    "EditStatus",
    "deliver",
    "edit_message",
    "edit_or_send",
    "edit_pressed",
    "pressed_message_ids",
    "retry_after_seconds",
    "send_answer",
]
