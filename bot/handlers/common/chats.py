"""Whether the bot can reach someone, its own membership of groups, groups that migrate, and
the check before every private message."""

from __future__ import annotations

import logging

from telegram import Chat, ChatMember, ChatMemberUpdated, Update

from bot import delivery
from bot.context import BotContext
from bot.scope import UpdateNotProcessed
from bot.services import common

from .hooks import GROUP_MEMBERSHIP_HOOK

logger = logging.getLogger(__name__)


async def on_my_chat_member(update: Update, context: BotContext) -> None:
    """Someone blocked or unblocked the bot; in a group, the hook's (registration)."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None:
        return
    services = context.services
    status = change.new_chat_member.status
    if change.chat.type == Chat.PRIVATE:
        blocked = status in (ChatMember.BANNED, ChatMember.LEFT)
        async with services.db.transaction() as session:
            await common.set_reachable(
                session,
                telegram_user_id=change.chat.id,
                reachable=not blocked,
                reason="bot was blocked by the user" if blocked else None,
                now=services.clock.now(),
            )
        logger.info("User %s %s the bot", change.chat.id, "blocked" if blocked else "unblocked")
        return
    hook = services.hooks.get(GROUP_MEMBERSHIP_HOOK)
    if hook is not None:
        await hook(update, context)


async def on_migrate(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None:
        return
    old_id = message.chat.id if message.migrate_to_chat_id else message.migrate_from_chat_id
    new_id = message.migrate_to_chat_id or message.chat.id
    if old_id is None or new_id is None or old_id == new_id:
        return
    async with context.services.db.transaction() as session:
        changed = await common.migrate_chat(session, old_chat_id=old_id, new_chat_id=new_id)
    logger.info("Group %s became supergroup %s (%d rows follow it)", old_id, new_id, changed)


async def on_private_reachable(update: Update, context: BotContext) -> None:
    """Whoever writes to us in private can be reached again (they pressed Start or unblocked).

    It runs before every private message (group -1). When it cannot reach the database (the
    SQLite file locked past the busy timeout, PostgreSQL down), the command's own handler would
    meet the same wall after another wait, and PTB runs it anyway after an exception here: so
    the update stops here, with one honest message (`on_error`, UpdateNotProcessed).
    """
    user = update.effective_user
    if user is None:
        return
    services = context.services
    reports = 0
    try:
        async with services.db.transaction() as session:
            await common.person_wrote(session, telegram_user_id=user.id, now=services.clock.now())
            if delivery.owes_report(services, user.id):
                # A coordinator owed a report that did not arrive: it goes now that they write.
                reports = await delivery.offer_reports_on_contact(session, services, user.id)
    except Exception as error:
        raise UpdateNotProcessed(str(error)) from error
    if reports:
        delivery.flush_soon(services, context.bot)
