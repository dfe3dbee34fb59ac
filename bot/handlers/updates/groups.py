"""Notes from the technical group: a reply to the round's announcement, or a message tagged
#aggiornamento where the coordinator switched that on (it needs the bot to read the group's
messages: privacy mode off, or the bot an admin). The rules are bot.services.progress.notes'."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.scope import tr_for, update_transaction
from bot.services import progress
from bot.views.rounds import note_recorded, note_repeated


def _reply_to_bot(update: Update, context: BotContext) -> int | None:
    """The id of the bot's message this one replies to, if it does."""
    message = update.effective_message
    replied = message.reply_to_message if message is not None else None
    if replied is None or replied.from_user is None or replied.from_user.id != context.bot.id:
        return None
    return replied.message_id


async def on_group_message(update: Update, context: BotContext) -> None:
    """A message in a group: a note if it replies to the round's announcement, or is tagged
    #aggiornamento where that is on."""
    message = update.effective_message
    user, chat = update.effective_user, update.effective_chat
    if message is None or user is None or chat is None or user.is_bot:
        return
    text = (message.text or message.caption or "").strip()
    replied = _reply_to_bot(update, context)
    tagged = progress.HASHTAG in text.lower()
    if not text or (replied is None and not tagged):
        return
    services = context.services
    async with services.db.transaction() as session:
        place = await progress.note_place(
            session, chat_id=chat.id, reply_to_message_id=replied, tagged=tagged
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
