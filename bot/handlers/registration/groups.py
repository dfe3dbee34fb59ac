"""/collega: a group linked as a Union's political or technical table; and the bot's own
membership of groups (the `bot_group_membership` hook of bot.handlers.common)."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Chat, ChatMember, Update
from telegram.error import TelegramError

from bot import callback_data as cb
from bot import delivery
from bot.context import BotContext
from bot.scope import ANONYMOUS_ADMIN_ID, caller, reply, tr_for
from bot.services import registration
from bot.services.registration import BotAdded
from bot.telegram_edit import deliver
from bot.views.registration import groups as views
from bot.views.registration.refusals import Refused, refusal, refusal_text
from bot.views.registration.shared import TABLE_FROM_SHORT

from .answering import RegistrationPress, answer_press, button, reader

logger = logging.getLogger(__name__)

ADMIN_STATUSES = (ChatMember.ADMINISTRATOR, ChatMember.OWNER)


async def is_group_admin(context: BotContext, chat_id: int, user_id: int) -> bool:
    """Telegram's word on it, asked every time (never the anonymous admin id)."""
    if user_id == ANONYMOUS_ADMIN_ID:
        return False
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError:
        logger.info("getChatMember failed for chat %s", chat_id, exc_info=True)
        return False
    return member.status in ADMIN_STATUSES


async def collega(update: Update, context: BotContext) -> None:
    """/collega in a group, by a coordinator who administers it: which Union, which table."""
    user, chat = update.effective_user, update.effective_chat
    who = await reader(update, context)
    if who is None or user is None or chat is None:
        return
    async with context.services.db.transaction() as session:
        outcome = await registration.link_choice(session, telegram_user_id=user.id, chat_id=chat.id)
    if chat.type == Chat.PRIVATE:
        await reply(update, views.group_text(views.GroupText.IN_PRIVATE, who.tr))
    elif user.id == ANONYMOUS_ADMIN_ID:
        await reply(update, views.group_text(views.GroupText.ANONYMOUS, who.tr))
    elif isinstance(outcome, views.GroupText):
        await reply(update, views.group_text(outcome, who.tr))
    elif not await is_group_admin(context, chat.id, user.id):
        await reply(update, refusal_text(Refused.NOT_GROUP_ADMIN, who.tr))
    else:
        await deliver(update, views.link_question(outcome, who.tr))


async def on_link(update: Update, context: BotContext) -> None:
    """`link:set:<union>:<table>` — this group becomes the Union's table (asks first when the
    table is another group now); `link:replace:<union>:<table>` — it does, in its place."""
    query, chat = update.callback_query, update.effective_chat
    if query is None or query.from_user is None or chat is None:
        return
    data = cb.decode(query.data)
    table = TABLE_FROM_SHORT.get((data.str_arg(1) if data else None) or "")
    if table is None or chat.type == Chat.PRIVATE:
        await deliver(
            update, refusal(Refused.STALE, tr_for(context.services, user=query.from_user))
        )
        return
    # Telegram is asked before the transaction: never await Telegram inside one.
    admin = await is_group_admin(context, chat.id, query.from_user.id)
    await answer_press(
        update,
        context,
        lambda s, p: registration.link_group(
            s,
            union_id=p.id(0),
            table=table,
            chat_id=chat.id,
            chat_title=chat.title or str(chat.id),
            telegram_user_id=p.user_id,
            group_admin=admin,
            replace=p.data.action == "replace",
            now=p.now,
        ),
        views.linked_answer,
        private_only=None,
    )


@button(views.cancelled_answer, private_only=None, write=False)
async def on_link_cancel(s: AsyncSession, p: RegistrationPress) -> views.GroupText | Refused:
    """`link:cancel` — nothing linked (for coordinators: the question was theirs)."""
    return await registration.cancel_linking(s, telegram_user_id=p.user_id)


async def on_bot_group_membership(update: Update, context: BotContext) -> None:
    """The bot removed from a group: its links dropped, the coordinators told. Added to a group
    linked to nothing: how to link it."""
    change = update.my_chat_member
    if change is None:
        return
    services = context.services
    chat = change.chat
    new, old = change.new_chat_member.status, change.old_chat_member.status
    gone = (ChatMember.LEFT, ChatMember.BANNED)
    if new in gone:
        async with services.db.transaction() as session:
            dropped = await registration.bot_left_group(
                session,
                chat_id=chat.id,
                now=services.clock.now(),
                default_language=services.settings.default_language,
            )
        if dropped:
            logger.info("Bot removed from linked chat %s: %d link(s) dropped", chat.id, dropped)
        delivery.flush_soon(services, context.bot)
    elif old in gone and new in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR):
        await _greet(update, context)


async def _greet(update: Update, context: BotContext) -> None:
    change = update.my_chat_member
    if change is None:
        return
    services = context.services
    adder = change.from_user
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
        added = await registration.bot_added_to_group(
            session,
            chat_id=change.chat.id,
            telegram_user_id=None if adder.id == ANONYMOUS_ADMIN_ID else adder.id,
        )
    if added == BotAdded.ALREADY_LINKED:
        return  # e.g. the group became a supergroup: the link already followed it
    tr = who.tr if who is not None else tr_for(services, user=adder)
    name = adder.first_name if added == BotAdded.BY_A_COORDINATOR else None
    try:
        await context.bot.send_message(change.chat.id, views.greeting(tr, coordinator_name=name))
    except TelegramError:
        logger.info("Could not greet group %s", change.chat.id, exc_info=True)
