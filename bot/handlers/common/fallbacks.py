"""What nobody else took: dialogue input, unknown commands, buttons nobody handles."""

from __future__ import annotations

from collections.abc import Callable

from telegram import Chat, Update

from bot import conversations
from bot.context import BotContext
from bot.i18n import Translator
from bot.scope import caller, reply, tr_for
from bot.views import common as views


async def _tell(update: Update, context: BotContext, text: Callable[[Translator], str]) -> None:
    services = context.services
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
    if who is not None:
        await reply(update, text(who.tr))


async def on_private_input(update: Update, context: BotContext) -> None:
    """Private text, a photo or a file: the dialogue it belongs to, else «Non ho capito»."""
    if not await conversations.route(update, context):
        await _tell(update, context, views.not_understood)


async def on_unknown_command(update: Update, context: BotContext) -> None:
    chat = update.effective_chat
    if chat is None or chat.type != Chat.PRIVATE:
        return  # in groups other bots' commands are none of our business
    await _tell(update, context, views.unknown_command)


async def on_stale_button(update: Update, context: BotContext) -> None:
    """A button nobody handles (old keyboard, forged data): answer so the spinner stops."""
    query = update.callback_query
    if query is None:
        return
    services = context.services
    tr = tr_for(services, person=None, user=query.from_user)
    await query.answer(views.stale_button(tr), show_alert=False)
