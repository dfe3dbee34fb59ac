"""The coordinator's «Titolo https://…» after «Aggiungi un link» (/documenti)."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode

from bot.context import BotContext
from bot.conversations import Conversation
from bot.markup import markup
from bot.scope import caller_tr, reply, update_transaction
from bot.services import announcements
from bot.views import announcements as views


async def on_link_text(update: Update, context: BotContext, conversation: Conversation) -> None:
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    services = context.services
    async with update_transaction(context, update) as session:
        tr = await caller_tr(session, services, update)
        outcome = await announcements.add_link(
            session,
            union_id=int(conversation.data.get("union_id", 0)),
            telegram_user_id=user.id,
            chat_id=chat.id,
            text=message.text or "",
            now=services.clock.now(),
        )
    if isinstance(outcome, announcements.BadLink):
        await reply(update, views.bad_link(tr))
    elif isinstance(outcome, announcements.FoldersRefused):
        await reply(update, views.folders_coordinator_only(tr))
    else:
        text, keyboard = views.link_added(
            tr, added=outcome.added, title=outcome.title, shown=outcome.folders
        )
        await reply(update, text, markup(keyboard), parse_mode=ParseMode.HTML)
