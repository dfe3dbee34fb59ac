"""Notes from the technical group: a reply to the round's announcement, or a message tagged
#aggiornamento where the coordinator switched that on (it needs the bot to read the group's
messages: privacy mode off, or the bot an admin). The rules are bot.services.progress.notes'."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.scope import tr_for, update_transaction
from bot.services import progress
from bot.views.updates import note_recorded, note_repeated


async def on_group_message(update: Update, context: BotContext) -> None:
    message = update.effective_message
    user, chat = update.effective_user, update.effective_chat
    if message is None or user is None or chat is None or user.is_bot:
        return
    text = (message.text or message.caption or "").strip()
    if not text:
        return
    services = context.services
    reply_to = message.reply_to_message
    to_bot = reply_to is not None and reply_to.from_user is not None
    to_bot = to_bot and reply_to.from_user.id == context.bot.id  # type: ignore[union-attr]
    tagged = progress.HASHTAG in text.lower()
    if not to_bot and not tagged:
        return
    async with services.db.transaction() as session:
        place = await progress.note_place(
            session,
            chat_id=chat.id,
            reply_to_message_id=reply_to.message_id if to_bot and reply_to else None,
            tagged=tagged,
        )
    if place is None:
        return
    async with update_transaction(context, update) as session:
        noted = await progress.record_note(
            session,
            place=place,
            telegram_user_id=user.id,
            text=text,
            chat_id=chat.id,
            message_id=message.message_id,
            now=services.clock.now(),
        )
    if noted is None:
        return
    tr = tr_for(
        services, language=noted.language, user=user, telegram_language=noted.telegram_language
    )
    if isinstance(noted, progress.NoteRepeated):
        await message.reply_text(note_repeated(noted.first_at, noted.timezone, tr))
    else:
        await message.reply_text(note_recorded(noted.comuni, tr))
