"""What every /azioni button handler does around its use case: decode the press, answer it, show
the outcome in place of the pressed message."""

from __future__ import annotations

from telegram import CallbackQuery, Update

from bot import callback_data as cb
from bot import telegram_edit
from bot.callback_data import CallbackData
from bot.i18n import Translator
from bot.markup import markup
from bot.services.progress import NotAllowed
from bot.views.actions import not_allowed
from bot.views.keyboard import Keyboard


async def decoded(update: Update) -> tuple[CallbackQuery, CallbackData] | None:
    """The press and its data; garbage is answered (the spinner stops) and gives None."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return None
    data = cb.decode(query.data)
    if data is None:
        await query.answer()
        return None
    return query, data


def refused(outcome: object, tr: Translator) -> str | None:
    """The toast of a refusal: the chat check's text, or the use case's reason."""
    if isinstance(outcome, str):
        return outcome
    if isinstance(outcome, NotAllowed):
        return not_allowed(outcome.reason, tr)
    return None


async def show(
    update: Update, shown: tuple[str, Keyboard | None], toast: str | None = None
) -> None:
    """Answer the press, then show `shown` in place of the pressed message."""
    query = update.callback_query
    assert query is not None
    await query.answer(toast)
    await telegram_edit.edit_or_send(update, update.get_bot(), shown[0], markup(shown[1]))
