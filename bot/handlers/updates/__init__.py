"""/aggiornamento on Telegram: the technician's update dialogue in private, «Nessuna novità»,
/aggiornamento stato, notes from the technical group, and the monthly round's scheduled work.
The use cases are bot.services.progress'; the texts and keyboards bot.views.updates' (which
lists every button's callback data)."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.callback_data import pattern
from bot.context import Services
from bot.conversations import register_flow
from bot.handlers.updates import commands, dialogue, groups, links, scheduled
from bot.services import progress

STEPS = pattern("upd", *dialogue.STEP_VERBS)


def register(application: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    application.add_handlers(
        [
            CommandHandler("aggiornamento", commands.aggiornamento),
            CallbackQueryHandler(dialogue.on_no_news, pattern=pattern("upd", "no_news")),
            CallbackQueryHandler(dialogue.on_rest, pattern=pattern("upd", "rest")),
            CallbackQueryHandler(dialogue.on_step, pattern=STEPS),
        ]
    )
    application.add_handler(
        MessageHandler(
            filters.ChatType.GROUPS & ~filters.COMMAND & (filters.TEXT | filters.CAPTION),
            groups.on_group_message,
        ),
        group=7,  # its own group: other features' group handlers still see the message
    )
    register_flow(progress.FLOW, dialogue.on_written)
    links.install(services)  # /start upd-<union>, hist-<action>: before registration's invites
    services.add_due_work("update_rounds_open", scheduled.open_due_rounds)
    services.add_due_work("update_rounds_duties", scheduled.round_housekeeping)
    # The round's own report tells the coordinators who could not be reached.
    services.report_elsewhere(progress.INVITE_PREFIX, ("failed",))
    services.add_sent_listener(progress.ANNOUNCE_PREFIX, progress.on_announcement_sent)
