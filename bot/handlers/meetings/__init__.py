"""Meetings on Telegram: /riunione, /calendario (and its old name /riunioni), the poll's
buttons, its dialogues, the links that open a poll's panel or one's own answers in private, and
the scheduled work. The use cases are bot.services.meetings'; the texts and keyboards
bot.views.meetings' (which also lists every button's callback data)."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import message_refresh
from bot.callback_data import pattern
from bot.context import Services
from bot.conversations import register_flow
from bot.handlers.meetings import attendance, commands, dialogue, links, manage, scheduled, votes
from bot.services import meetings
from bot.views.meetings import MTG_AREA, VOTE_AREA, WIZ_AREA

POLL_MESSAGES = message_refresh.MessageKind(
    name="poll", model=meetings.PollMessage, render=votes.render_poll_message
)


def register(application: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    application.add_handlers(
        [
            CommandHandler("riunione", commands.riunione),
            CommandHandler(["calendario", "riunioni"], commands.calendario),
            CallbackQueryHandler(votes.on_vote, pattern=pattern(VOTE_AREA, "y", "m", "n")),
            CallbackQueryHandler(votes.on_answers, pattern=pattern(MTG_AREA, "answers")),
            CallbackQueryHandler(votes.on_mine, pattern=pattern(MTG_AREA, "mine")),
            CallbackQueryHandler(manage.on_manage, pattern=pattern(MTG_AREA, "manage")),
            CallbackQueryHandler(manage.on_missing, pattern=pattern(MTG_AREA, "missing")),
            CallbackQueryHandler(manage.on_add_date, pattern=pattern(MTG_AREA, "add_date")),
            CallbackQueryHandler(manage.on_extend, pattern=pattern(MTG_AREA, "extend")),
            CallbackQueryHandler(manage.on_extend_by, pattern=pattern(MTG_AREA, "extend_by")),
            CallbackQueryHandler(manage.on_close, pattern=pattern(MTG_AREA, "close")),
            CallbackQueryHandler(
                manage.on_confirm_close, pattern=pattern(MTG_AREA, "confirm_close")
            ),
            CallbackQueryHandler(manage.on_cancel, pattern=pattern(MTG_AREA, "cancel")),
            CallbackQueryHandler(
                manage.on_confirm_cancel, pattern=pattern(MTG_AREA, "confirm_cancel")
            ),
            CallbackQueryHandler(manage.on_invite, pattern=pattern(MTG_AREA, "invite")),
            CallbackQueryHandler(dialogue.on_wizard_button, pattern=pattern(WIZ_AREA)),
        ]
    )
    register_flow(meetings.WIZARD_FLOW, dialogue.on_wizard_text)
    register_flow(meetings.ADD_DATE_FLOW, dialogue.on_add_date_text)
    links.install(services)  # /start mg-<poll>, pv-<poll>: before registration's invites
    services.add_sent_listener("poll:", meetings.on_poll_message_sent)
    services.add_sent_listener("pollrem:", meetings.on_reminder_sent)
    # First of this feature's work: nothing of it flushes the outbox before the withdrawal.
    services.add_due_work("meetings.monthly_poll", scheduled.open_monthly_polls)
    services.add_due_work("meetings.poll_reminders", scheduled.remind_poll_voters)
    # report_unreachable tells the coordinator who refused; uncertain ones get the generic report.
    services.report_elsewhere("pollrem:", ("failed",))
    services.add_due_work("meetings.close_due", scheduled.close_due_polls)
    services.add_due_work("meetings.meeting_reminders", scheduled.remind_meetings)
    services.add_due_work("meetings.pins", scheduled.pin_announcements)
    message_refresh.install(application, services, POLL_MESSAGES)
    attendance.register(application, services)  # issue 19: check-ins, roster, guests
