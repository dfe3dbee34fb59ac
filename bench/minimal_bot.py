"""The framework's ceiling: a bare python-telegram-bot bot that answers each button with
answerCallbackQuery + editMessageText, nothing else (no database, no rate limiter).

    TELEGRAM_BOT_TOKEN=… TELEGRAM_BASE_URL=http://127.0.0.1:PORT/bot python -m bench.minimal_bot
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes
from telegram.request import HTTPXRequest


async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Fatto.")
    # Unique text: several presses may land on one message ("message is not modified").
    await query.edit_message_text(f"Scelto: {query.data} ({query.id[-6:]})")


def main() -> None:
    app = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_BASE_URL"])
        # The same connection settings as the real bot (bot/app.py).
        .get_updates_request(HTTPXRequest(connection_pool_size=1, read_timeout=40))
        .request(HTTPXRequest(connection_pool_size=16, read_timeout=20, connect_timeout=10))
        .build()
    )
    app.add_handler(CallbackQueryHandler(on_press))
    app.run_polling(allowed_updates=[Update.CALLBACK_QUERY], drop_pending_updates=False)


if __name__ == "__main__":
    main()
