"""Summaries and decisions on Telegram: /riepilogo, /esporta, /decisione, the decisions'
buttons, the files' buttons, and the scheduled work (the summaries, the Covenant clock). The use
cases are bot.services.summaries'; the texts and keyboards bot.views.summaries' (which also lists
every button's callback data)."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import message_refresh
from bot.callback_data import pattern
from bot.context import Services
from bot.conversations import point_at_picker, register_flow
from bot.handlers.summaries import commands, decisions, files, scheduled
from bot.scope import union_command
from bot.services import summaries
from bot.views import summaries as views

DECISION_MESSAGES = message_refresh.MessageKind(
    name="decision", model=summaries.DecisionMessage, render=decisions.render_decision_message
)


def register(application: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    dec = views.DEC_AREA
    application.add_handlers(
        [
            CommandHandler("riepilogo", union_command("riepilogo", commands.summary)),
            CommandHandler("esporta", union_command("esporta", commands.export)),
            CommandHandler("decisione", union_command("decisione", commands.decision)),
            CallbackQueryHandler(
                files.on_export_file, pattern=pattern(views.EXP_AREA, views.SHEET, views.CSV)
            ),
            CallbackQueryHandler(
                files.on_summary_sheet, pattern=pattern(views.SUM_AREA, views.SHEET)
            ),
            CallbackQueryHandler(decisions.on_vote, pattern=pattern(dec, views.VOTE)),
            CallbackQueryHandler(
                decisions.on_close, pattern=pattern(dec, views.CLOSE, views.OUTCOME, views.BACK)
            ),
            CallbackQueryHandler(
                decisions.on_done, pattern=pattern(dec, views.DONE, views.DONE_LISTED)
            ),
        ]
    )
    register_flow(commands.DECISION_PICK_FLOW, point_at_picker)
    services.add_due_work("summaries.scheduled", scheduled.post_due_summaries)
    services.add_due_work("summaries.covenant_clock", scheduled.covenant_clock_due)
    services.add_sent_listener("sum:", summaries.summary_message_sent)
    services.add_sent_listener("decmsg:", summaries.decision_message_sent)
    services.add_sent_listener("decout:", summaries.decision_message_sent)
    message_refresh.install(application, services, DECISION_MESSAGES)


# The due work, also for tests that run it directly.
post_due_summaries = scheduled.post_due_summaries
covenant_clock_due = scheduled.covenant_clock_due

__all__ = ["covenant_clock_due", "post_due_summaries", "register"]
