"""Meetings: the monthly poll in place of Doodle, votes, the poll's management, closing (the
date, the announcement and its .ics), reminders, pins, /riunione's wizard and /riunioni.

Use cases (async, a session and plain values in, a frozen dataclass out; they queue their
messages in the outbox and never send):

- `polls`     the poll as plain data (`load_poll_view`, a member's `copy_view`), its posts,
              where its messages landed (the groups' grid and the members' private copies)
- `voting`    `cast_vote` (the hot path), one's own answers in private (`my_copy`),
              `slot_answers`
- `managing`  the coordinator's panel (⚙️ Gestisci): who may, the questions, the
              confirmations, «Aggiungi data»
- `closing`   `close_poll`: what happens when a poll closes, in one place
- `reminders` poll reminders, the report on who could not be reached, meeting reminders
- `monthly`   the automatic poll of each month
- `pins`      the announcement's pin, owed and settled; where the bot may not pin, said once
- `invites`   the .ics invitation
- `wizard`    /riunione
- `rules`     the pure rules (the coverage rule, deadlines, holidays, who sits at which table)

The handlers (bot.handlers.meetings) import what they need from here, enums included: they
never import storage.
"""

from __future__ import annotations

from bot.services.meetings.closing import (
    PollClosed,
    PollNotOpen,
    close_at_deadline,
    close_poll,
    polls_due_to_close,
)
from bot.services.meetings.invites import Invite, NoInvite, meeting_invite, meeting_union_id
from bot.services.meetings.managing import (
    ADD_DATE_FLOW,
    Cancelled,
    Closed,
    DateAnswer,
    ExtendChoices,
    Extended,
    Managed,
    NotAllowed,
    Panel,
    add_date,
    cancel_poll,
    close_now,
    extend_choices,
    extend_deadline,
    managed_poll,
    open_panel,
    start_adding_date,
)
from bot.services.meetings.monthly import MonthlyPollDue, monthly_polls_due, open_monthly_poll
from bot.services.meetings.pins import OwedPin, pin_refused, pin_settled, pins_owed
from bot.services.meetings.polls import (
    MeetingsAhead,
    enqueue_poll_posts,
    load_poll_view,
    meetings_ahead,
    on_poll_message_sent,
    on_reminder_sent,
    poll_union_id,
    shown_on,
)
from bot.services.meetings.reminders import (
    polls_to_remind,
    remind_meetings,
    remind_poll_voters,
    report_unreachable,
)
from bot.services.meetings.rules import (
    LINK_MANAGE,
    LINK_MY_ANSWERS,
    may_pin,
    parse_start_link,
    start_link,
)
from bot.services.meetings.voting import (
    CopyShown,
    NotAMember,
    SlotAnswers,
    VoteRecorded,
    VoteRefused,
    cast_vote,
    copy_sent,
    my_copy,
    slot_answers,
    slot_union_id,
)
from bot.services.meetings.wizard import (
    WIZARD_FLOW,
    WizardRefused,
    WizardShown,
    start_wizard,
    wizard_press,
    wizard_text,
)
from storage.models import Answer, PollMessage, PollStatus, PollTable

__all__ = [
    "ADD_DATE_FLOW",
    "LINK_MANAGE",
    "LINK_MY_ANSWERS",
    "WIZARD_FLOW",
    "Answer",
    "Cancelled",
    "Closed",
    "CopyShown",
    "DateAnswer",
    "ExtendChoices",
    "Extended",
    "Invite",
    "Managed",
    "MeetingsAhead",
    "MonthlyPollDue",
    "NoInvite",
    "NotAMember",
    "NotAllowed",
    "OwedPin",
    "Panel",
    "PollClosed",
    "PollMessage",
    "PollNotOpen",
    "PollStatus",
    "PollTable",
    "SlotAnswers",
    "VoteRecorded",
    "VoteRefused",
    "WizardRefused",
    "WizardShown",
    "add_date",
    "cancel_poll",
    "cast_vote",
    "close_at_deadline",
    "close_now",
    "close_poll",
    "copy_sent",
    "enqueue_poll_posts",
    "extend_choices",
    "extend_deadline",
    "load_poll_view",
    "managed_poll",
    "may_pin",
    "meeting_invite",
    "meeting_union_id",
    "meetings_ahead",
    "monthly_polls_due",
    "my_copy",
    "on_poll_message_sent",
    "on_reminder_sent",
    "open_monthly_poll",
    "open_panel",
    "parse_start_link",
    "pin_refused",
    "pin_settled",
    "pins_owed",
    "poll_union_id",
    "polls_due_to_close",
    "polls_to_remind",
    "remind_meetings",
    "remind_poll_voters",
    "report_unreachable",
    "shown_on",
    "slot_answers",
    "slot_union_id",
    "start_adding_date",
    "start_link",
    "start_wizard",
    "wizard_press",
    "wizard_text",
]
