"""/impostazioni on Telegram: the command, its buttons and the PAES date dialogue. The use
cases are bot.services.settings'; the pages and keyboards bot.views.settings' (which also lists
every button's callback data)."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.callback_data import pattern
from bot.context import Services
from bot.conversations import register_flow
from bot.handlers.settings import buttons, commands
from bot.scope import union_command
from bot.services import settings
from bot.views import settings as views


def register(application: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    changes = (views.MEETING, views.WEEKDAY, views.ROUND, views.CAPTURE, views.PAES_CLEAR)
    application.add_handlers(
        [
            CommandHandler("impostazioni", union_command("impostazioni", commands.settings_menu)),
            CallbackQueryHandler(
                buttons.on_section, pattern=pattern(views.SET_AREA, *views.SECTIONS)
            ),
            CallbackQueryHandler(buttons.on_change, pattern=pattern(views.SET_AREA, *changes)),
            CallbackQueryHandler(
                buttons.on_ask_paes_date, pattern=pattern(views.SET_AREA, views.PAES_DATE)
            ),
        ]
    )
    register_flow(settings.PAES_FLOW, commands.on_paes_date)
