"""/riunione (prepare a poll: the wizard, in private) and /calendario (the meetings ahead and
the open polls; `/riunioni`, its old name, still works but is in no menu)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import Chat, Update
from telegram.constants import ParseMode

from bot.context import BotContext
from bot.handlers.meetings.buttons import tell_privately
from bot.markup import markup
from bot.scope import (
    Refusal,
    caller_tr,
    read_in_scope,
    reply,
    resolve_union,
    union_command,
    update_transaction,
)
from bot.services import meetings
from bot.views import attendance as attendance_views
from bot.views.meetings import (
    open_chat_button,
    render_meetings,
    render_wizard_started_in_group,
)


async def _riunione(update: Update, context: BotContext, union_id: int | None) -> None:
    services = context.services
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    in_group = chat.type != Chat.PRIVATE
    async with update_transaction(context, update) as session:
        scope = await resolve_union(
            session, update, context, command="riunione", chosen_union_id=union_id
        )
        tr = await caller_tr(session, services, update)
        outcome = (
            scope
            if isinstance(scope, Refusal)
            else await meetings.start_wizard(
                session,
                union_id=scope.union.id,
                telegram_user_id=user.id,
                group_table=scope.link.table_kind.value if in_group and scope.link else None,
                now=services.clock.now(),
                language=tr.language,
            )
        )
    if isinstance(outcome, Refusal):
        await outcome.send(update)
    elif isinstance(outcome, meetings.WizardRefused):
        await reply(update, outcome.text)
    elif in_group:
        sent = await tell_privately(context.bot, user.id, outcome.text or "", outcome.keyboard)
        button = None if sent else markup(open_chat_button(context.bot.username, tr))
        await reply(update, render_wizard_started_in_group(sent is not None, tr), button)
    else:
        await reply(update, outcome.text or "", markup(outcome.keyboard), parse_mode=ParseMode.HTML)


async def _calendario(update: Update, context: BotContext, union_id: int | None) -> None:
    now = context.services.clock.now()
    tr, scope, ahead = await read_in_scope(
        update,
        context,
        "calendario",
        union_id,
        lambda session, scope, _tr: meetings.meetings_ahead(
            session, union_id=scope.union.id, now=now
        ),
    )
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
