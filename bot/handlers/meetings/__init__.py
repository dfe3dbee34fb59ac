"""Meetings on Telegram: /riunione, /calendario (and its old name /riunioni), the poll's
buttons, its dialogues, the links that open a poll's panel or one's own answers in private, and
the scheduled work. The use cases are bot.services.meetings'; the texts and keyboards
bot.views.meetings' (which also lists every button's callback data)."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CommandHandler

from bot import message_refresh
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
from bot.markup import buttons
from bot.scope import union_command
from bot.services import meetings
from bot.services.meetings.agenda import PROPOSAL_FLOW as AGENDA_FLOW
from bot.services.meetings.minutes import NOTES_FLOW, OUTCOME_NOTE_FLOW
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
            *buttons(VOTE_AREA, {("y", "m", "n"): votes.on_vote}),
            *buttons(
                MTG_AREA,
                {
                    "answers": votes.on_answers,
                    "mine": votes.on_mine,
                    "manage": manage.on_manage,
                    "missing": manage.on_missing,
                    "add_date": manage.on_add_date,
                    "extend": manage.on_extend,
                    "extend_by": manage.on_extend_by,
                    "close": manage.on_close,
                    "confirm_close": manage.on_confirm_close,
                    "cancel": manage.on_cancel,
                    "confirm_cancel": manage.on_confirm_cancel,
                    "invite": manage.on_invite,
                },
            ),
            *buttons(WIZ_AREA, {"": dialogue.on_wizard_button}),
            *buttons(
                AGENDA_AREA,
                {
                    "add": agenda.on_add,
                    ("up", "down", "drop"): agenda.on_move,
                    "ok": agenda.on_confirm,
                    "show": agenda.on_show,
                    ("yes", "no"): agenda.on_answer,
                },
            ),
            *buttons(
                TASK_AREA,
                {
                    "new": tasks.on_new,
                    "who": tasks.on_who,
                    "act": tasks.on_action,
                    "due": tasks.on_due,
                    "stop": tasks.on_stop,
                    "drop": tasks.on_drop,
                    "done": tasks.on_done,
                },
            ),
            # The minutes (issue 19): the draft's panel, /verbali and its files.
            CommandHandler("verbali", union_command("verbali", minutes.verbali)),
            *buttons(
                MIN_AREA,
                {
                    "v": minutes.on_screen,
                    "o": minutes.on_outcome,
                    "a": minutes.on_present,
                    "n": minutes.on_notes,
                    "w": minutes.on_words,
                    "ok": minutes.on_approve,
                    "f": minutes.on_files,
                },
            ),
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
    register_flow(OUTCOME_NOTE_FLOW, minutes.on_outcome_note_text)
    services.add_due_work("meetings.minutes_drafts", minutes.draft_due_minutes)
    services.add_due_work("meetings.minutes_posts", minutes.post_due_minutes)
    message_refresh.install(application, services, POLL_MESSAGES)
    attendance.register(application, services)  # issue 19: check-ins, roster, guests
