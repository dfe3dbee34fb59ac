"""/cancellami and its confirmation."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from bot import delivery
from bot.context import BotContext
from bot.handlers.common import menus_soon
from bot.services import registration
from bot.telegram_edit import deliver
from bot.views.registration import leaving as views
from bot.views.registration.refusals import Refused

from .answering import RegistrationPress, answer_press, private_reader
from .scheduled import wipe_copies_of_erased


async def cancellami(update: Update, context: BotContext) -> None:
    """/cancellami (private): the question, or what to do first (hand over the coordination)."""
    user = update.effective_user
    who = await private_reader(update, context)
    if who is None or user is None:
        return
    async with context.services.db.transaction() as session:
        outcome = await registration.may_leave(session, telegram_user_id=user.id)
    await deliver(update, views.question_answer(outcome, who.tr))


async def _erase(
    s: AsyncSession, p: RegistrationPress
) -> views.Leaving | views.MustHandOver | Refused:
    """The confirmation counts only in the presser's own chat."""
    if not p.in_own_chat:
        return Refused.STALE
    if p.verb == "cancel":
        return views.Leaving.KEPT
    return await registration.erase_me(s, telegram_user_id=p.user_id, now=p.now)


async def on_confirmation(update: Update, context: BotContext) -> None:
    """`del:confirm` — erased (checked again); `del:cancel` — «No, resto». Once erased,
    messages composed before that name them go out as composed; then the bot's copies are
    wiped and SQLite's WAL, which still holds old page images, is emptied."""
    services = context.services
    if await answer_press(update, context, _erase, views.erasure_answer) == views.Leaving.ERASED:
        delivery.flush_soon(services, context.bot)
        menus_soon(services, context.bot)
        await wipe_copies_of_erased(services, context.bot, services.clock.now())
        await services.db.checkpoint_truncate()
