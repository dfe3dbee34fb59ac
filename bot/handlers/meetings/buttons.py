"""The private word a meetings button may send (the buttons' prelude is the kit's:
`bot.scope.on_object`)."""

from __future__ import annotations

from telegram import Bot, Message
from telegram.constants import ParseMode
from telegram.error import Forbidden

from bot.markup import markup
from bot.views.keyboard import Keyboard


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
