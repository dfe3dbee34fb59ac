"""/azioni on Telegram: the Union's PAES actions — the list with its filters, an action's card
and history; for the coordinator the template, the export, the import of a CSV/XLSX file
(preview, then confirm) and editing by hand. The use cases are bot.services.progress'; the texts
and keyboards bot.views.actions' (which lists every button's callback data)."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.callback_data import pattern
from bot.context import Services
from bot.conversations import register_flow
from bot.handlers.actions import browse, editing, importing
from bot.services import progress

SPREADSHEET = (
    filters.Document.FileExtension("csv")
    | filters.Document.FileExtension("xlsx")
    | filters.Document.MimeType("text/csv")
    | filters.Document.MimeType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
)


def _press(verb: str, area: str = "act") -> str:
    return pattern(area, verb)


def register(application: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    application.add_handlers(
        [
            CommandHandler("azioni", browse.azioni),
            CallbackQueryHandler(browse.on_list, pattern=_press("list")),
            CallbackQueryHandler(browse.on_by_comune, pattern=_press("by_comune")),
            CallbackQueryHandler(browse.on_by_status, pattern=_press("by_status")),
            CallbackQueryHandler(browse.on_show, pattern=_press("show")),
            CallbackQueryHandler(browse.on_history, pattern=_press("history")),
            CallbackQueryHandler(browse.on_template, pattern=_press("template")),
            CallbackQueryHandler(browse.on_export, pattern=_press("export")),
            CallbackQueryHandler(browse.on_archive, pattern=_press("archive")),
            CallbackQueryHandler(browse.on_confirm_archive, pattern=_press("confirm_archive")),
            CallbackQueryHandler(editing.on_new, pattern=_press("new")),
            CallbackQueryHandler(editing.on_edit, pattern=_press("edit")),
            CallbackQueryHandler(editing.on_edit_field, pattern=_press("edit_field")),
            CallbackQueryHandler(editing.on_edit_comune, pattern=_press("edit_comune")),
            CallbackQueryHandler(editing.on_set_comune, pattern=_press("set_comune")),
            CallbackQueryHandler(importing.on_import_union, pattern=_press("union", "imp")),
            CallbackQueryHandler(importing.on_import_confirm, pattern=_press("confirm", "imp")),
            CallbackQueryHandler(importing.on_import_cancel, pattern=_press("cancel", "imp")),
            MessageHandler(filters.ChatType.PRIVATE & SPREADSHEET, importing.on_document),
        ]
    )
    register_flow(progress.IMPORT_FLOW, importing.on_import_text)
    register_flow(progress.EDIT_FLOW, editing.on_edit_text)
