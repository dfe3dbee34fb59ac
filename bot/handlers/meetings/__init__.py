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
from bot.handlers.meetings import (
    agenda,
    attendance,
    commands,
    dialogue,
    links,
    manage,
    minutes,
    scheduled,
    tasks,
    votes,
)
from bot.scope import union_command
from bot.services import meetings
from bot.services.meetings.agenda import PROPOSAL_FLOW as AGENDA_FLOW
from bot.services.meetings.minutes import NOTES_FLOW
from bot.services.meetings.tasks import TASK_FLOW
from bot.views.agenda import AGENDA_AREA
from bot.views.meetings import MTG_AREA, VOTE_AREA, WIZ_AREA
from bot.views.minutes_panel import MIN_AREA
from bot.views.tasks import TASK_AREA

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
            CallbackQueryHandler(agenda.on_add, pattern=pattern(AGENDA_AREA, "add")),
            CallbackQueryHandler(
                agenda.on_move, pattern=pattern(AGENDA_AREA, "up", "down", "drop")
            ),
            CallbackQueryHandler(agenda.on_confirm, pattern=pattern(AGENDA_AREA, "ok")),
            CallbackQueryHandler(agenda.on_answer, pattern=pattern(AGENDA_AREA, "yes", "no")),
            CallbackQueryHandler(tasks.on_new, pattern=pattern(TASK_AREA, "new")),
            CallbackQueryHandler(tasks.on_who, pattern=pattern(TASK_AREA, "who")),
            CallbackQueryHandler(tasks.on_action, pattern=pattern(TASK_AREA, "act")),
            CallbackQueryHandler(tasks.on_due, pattern=pattern(TASK_AREA, "due")),
            CallbackQueryHandler(tasks.on_stop, pattern=pattern(TASK_AREA, "stop")),
            CallbackQueryHandler(tasks.on_done, pattern=pattern(TASK_AREA, "done")),
            # The minutes (issue 19): the draft's panel, /verbali and its files.
            CommandHandler("verbali", union_command("verbali", minutes.verbali)),
            CallbackQueryHandler(minutes.on_screen, pattern=pattern(MIN_AREA, "v")),
            CallbackQueryHandler(minutes.on_outcome, pattern=pattern(MIN_AREA, "o")),
            CallbackQueryHandler(minutes.on_present, pattern=pattern(MIN_AREA, "a")),
            CallbackQueryHandler(minutes.on_notes, pattern=pattern(MIN_AREA, "n")),
            CallbackQueryHandler(minutes.on_approve, pattern=pattern(MIN_AREA, "ok")),
            CallbackQueryHandler(minutes.on_files, pattern=pattern(MIN_AREA, "f")),
        ]
    )
    register_flow(meetings.WIZARD_FLOW, dialogue.on_wizard_text)
    register_flow(meetings.ADD_DATE_FLOW, dialogue.on_add_date_text)
    register_flow(AGENDA_FLOW, agenda.on_item_text)
    register_flow(TASK_FLOW, tasks.on_task_text)
    links.install(services)  # /start mg-<poll>, pv-<poll>: before registration's invites
    agenda.install(services)  # /start ap-<meeting>: «📝 Proponi un punto» after «Avvia»
    services.add_sent_listener("poll:", meetings.on_poll_message_sent)
    services.add_sent_listener("pollrem:", meetings.on_reminder_sent)
    # First of this feature's work: nothing of it flushes the outbox before the withdrawal.
    services.add_due_work("meetings.monthly_poll", scheduled.open_monthly_polls)
    services.add_due_work("meetings.poll_reminders", scheduled.remind_poll_voters)
    # report_unreachable tells the coordinator who refused; uncertain ones get the generic report.
    services.report_elsewhere("pollrem:", ("failed",))
    services.add_due_work("meetings.close_due", scheduled.close_due_polls)
    # Before the reminders: a convocation due at the same tick goes first.
    services.add_due_work("meetings.convocations", scheduled.convoke_meetings)
    services.add_due_work("meetings.meeting_reminders", scheduled.remind_meetings)
    services.add_due_work("meetings.task_round", scheduled.ask_about_tasks)
    services.add_due_work("meetings.pins", scheduled.pin_announcements)
    register_flow(NOTES_FLOW, minutes.on_notes_text)
    services.add_due_work("meetings.minutes_drafts", minutes.draft_due_minutes)
    services.add_due_work("meetings.minutes_posts", minutes.post_due_minutes)
    message_refresh.install(application, services, POLL_MESSAGES)
    attendance.register(application, services)  # issue 19: check-ins, roster, guests
