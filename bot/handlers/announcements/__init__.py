"""Announcements and shared folders on Telegram: /annuncio (and `/annuncio stato`),
/documenti, their buttons and the link dialogue, and the delivery reports (due work). The use
cases are bot.services.announcements'; the texts and keyboards bot.views.announcements' (which
also lists every button's callback data)."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.callback_data import pattern
from bot.context import Services
from bot.conversations import point_at_picker, register_flow
from bot.handlers.announcements import buttons, commands, dialogue, scheduled
from bot.scope import union_command
from bot.services import announcements
from bot.views import announcements as views

# The due work, also for tests that run it directly.
report_announcements = scheduled.report_announcements


def register(application: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    ann, doc = views.ANN_AREA, views.DOC_AREA
    application.add_handlers(
        [
            CommandHandler("annuncio", union_command("annuncio", commands.announce)),
            CommandHandler("documenti", union_command("documenti", commands.documents)),
            CallbackQueryHandler(buttons.on_send, pattern=pattern(ann, views.SEND)),
            CallbackQueryHandler(buttons.on_menu, pattern=pattern(ann, views.COMUNI, views.BACK)),
            CallbackQueryHandler(buttons.on_cancel, pattern=pattern(ann, views.CANCEL)),
            CallbackQueryHandler(buttons.on_add_link, pattern=pattern(doc, views.ADD)),
            CallbackQueryHandler(buttons.on_remove_link, pattern=pattern(doc, views.REMOVE)),
        ]
    )
    register_flow(announcements.ADD_LINK_FLOW, dialogue.on_link_text)
    register_flow(commands.PICK_FLOW, point_at_picker)
    services.add_due_work("summaries.announcement_reports", scheduled.report_announcements)
    services.report_elsewhere("ann:")  # the delivery report tells the sender


__all__ = ["register", "report_announcements"]
