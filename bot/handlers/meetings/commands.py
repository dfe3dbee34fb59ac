"""/riunione (prepare a poll: the wizard, in private) and /calendario (the meetings ahead and
the open polls; `/riunioni`, its old name, still works but is in no menu)."""

from __future__ import annotations

from collections.abc import Awaitable
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Chat, Update
from telegram.constants import ParseMode

from bot.context import BotContext
from bot.handlers.meetings.buttons import tell_privately
from bot.i18n import Translator
from bot.markup import markup
from bot.scope import Refusal, UnionScope, read_in_scope, reply, union_command
from bot.services import meetings
from bot.views import attendance as attendance_views
from bot.views.keyboard import open_chat_button
from bot.views.meetings import render_meetings, render_wizard_started_in_group


async def _riunione(update: Update, context: BotContext, union_id: int | None) -> None:
    now = context.services.clock.now()
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    in_group = chat.type != Chat.PRIVATE

    def start(
        s: AsyncSession, scope: UnionScope, tr: Translator
    ) -> Awaitable[meetings.WizardShown | meetings.WizardRefused]:
        return meetings.start_wizard(
            s,
            union_id=scope.union.id,
            telegram_user_id=user.id,
            group_table=scope.link.table_kind.value if in_group and scope.link else None,
            now=now,
            language=tr.language,
        )

    tr, scope, started = await read_in_scope(
        update, context, "riunione", union_id, start, writes=True
    )
    if isinstance(scope, Refusal):
        await scope.send(update)
        return
    if (outcome := started) is None:
        return
    if isinstance(outcome, meetings.WizardRefused):
        await reply(update, outcome.text)
    elif in_group:
        sent = await tell_privately(context.bot, user.id, outcome.text or "", outcome.keyboard)
        button = None if sent else markup(open_chat_button(context.bot.username, tr))
        await reply(update, render_wizard_started_in_group(sent is not None, tr), button)
    else:
        await reply(update, outcome.text or "", markup(outcome.keyboard), parse_mode=ParseMode.HTML)


async def _calendario(update: Update, context: BotContext, union_id: int | None) -> None:
    now = context.services.clock.now()

    def ahead_of(
        s: AsyncSession, scope: UnionScope, _tr: Translator
    ) -> Awaitable[meetings.MeetingsAhead]:
        return meetings.meetings_ahead(s, union_id=scope.union.id, now=now)

    tr, scope, ahead = await read_in_scope(update, context, "calendario", union_id, ahead_of)
    if isinstance(scope, Refusal):
        await scope.send(update)
        return
    if ahead is None:
        return
    tz = ZoneInfo(scope.union.timezone)
    text, keyboard = render_meetings(ahead.meetings, ahead.polls, tz, tr)
    chat = update.effective_chat
    if scope.is_coordinator and chat is not None and chat.type == Chat.PRIVATE:
        manage = attendance_views.manage_buttons(ahead.meetings, tz, tr)
        keyboard = manage if keyboard is None else keyboard + manage
    await reply(update, text, markup(keyboard), parse_mode=ParseMode.HTML)


riunione = union_command("riunione", _riunione)
calendario = union_command("calendario", _calendario)
