"""What every meetings button handler starts with, and the private word it may send."""

from __future__ import annotations

from telegram import Bot, CallbackQuery, Chat, Message, Update, User
from telegram.constants import ParseMode
from telegram.error import Forbidden

from bot import callback_data as cb
from bot.callback_data import CallbackData
from bot.markup import markup
from bot.scope import press_of
from bot.services.presses import Press
from bot.views.keyboard import Keyboard


def pressed(update: Update) -> tuple[CallbackQuery, User, CallbackData | None] | None:
    """The press, its presser and its data (None: not understood); None: not a press."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return None
    return query, query.from_user, cb.decode(query.data)


def in_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == Chat.PRIVATE


def group_press(update: Update, query: CallbackQuery) -> Press | None:
    """Where in a group the button was pressed (None in a private chat)."""
    chat = update.effective_chat
    return press_of(query, chat.id) if chat is not None and not in_private(update) else None


def private_press(update: Update, query: CallbackQuery) -> Press | None:
    """Where in the presser's private chat the button was pressed (None in a group)."""
    chat = update.effective_chat
    return press_of(query, chat.id) if chat is not None and in_private(update) else None


async def tell_privately(
    bot: Bot, user_id: int, text: str, keyboard: Keyboard | None = None
) -> Message | None:
    """Write to someone in private; None when they never started the bot or blocked it."""
    try:
        return await bot.send_message(
            chat_id=user_id, text=text, reply_markup=markup(keyboard), parse_mode=ParseMode.HTML
        )
    except Forbidden:
        return None
