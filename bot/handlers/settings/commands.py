"""/impostazioni: the coordinator's menu, in private (bot.scope.union_command), and the PAES
date written after «Scrivi la data»."""

from __future__ import annotations

from telegram import Chat, Update
from telegram.constants import ParseMode

from bot.context import BotContext
from bot.conversations import Conversation
from bot.markup import markup
from bot.scope import Refusal, caller_tr, reply, resolve_union, update_transaction
from bot.services import settings
from bot.views import settings as views


async def settings_menu(update: Update, context: BotContext, union_id: int | None) -> None:
    services = context.services
    chat = update.effective_chat
    async with services.db.transaction() as session:
        tr = await caller_tr(session, services, update)
        scope = await resolve_union(
            session, update, context, command="impostazioni", chosen_union_id=union_id
        )
        if not isinstance(scope, Refusal):
            page = await settings.settings_menu(session, member_id=scope.member.id)
    if update.effective_user is None or chat is None:
        return
    if chat.type != Chat.PRIVATE:
        await reply(update, views.settings_in_private(tr))
    elif isinstance(scope, Refusal):
        await scope.send(update)
    elif isinstance(page, settings.SettingsRefused):
        await reply(update, views.coordinator_only(tr))
    else:
        text, keyboard = views.menu(tr, page.union)
        await reply(update, text, markup(keyboard), parse_mode=ParseMode.HTML)


async def on_paes_date(update: Update, context: BotContext, conversation: Conversation) -> None:
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    services = context.services
    async with update_transaction(context, update) as session:
        tr = await caller_tr(session, services, update)
        outcome = await settings.set_paes_date(
            session,
            union_id=int(conversation.data.get("union_id", 0)),
            telegram_user_id=user.id,
            chat_id=chat.id,
            text=message.text or "",
            now=services.clock.now(),
        )
    if isinstance(outcome, settings.BadDate):
        await reply(update, views.bad_paes_date(tr))
    elif isinstance(outcome, settings.SettingsRefused):
        await reply(update, views.coordinator_only(tr))
    else:
        text, keyboard = views.paes_saved(tr, views.paes(tr, outcome.union))
        await reply(update, text, markup(keyboard), parse_mode=ParseMode.HTML)
