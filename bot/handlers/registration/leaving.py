"""/cancellami and its confirmation."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from bot import delivery
from bot.context import BotContext
from bot.handlers.common import menus_soon
from bot.services import registration
from bot.views.registration import leaving as views
from bot.views.registration.refusals import Refused

from .answering import RegistrationPress, answer_press, private_read
from .scheduled import wipe_copies_of_erased


@private_read(views.question_answer)
async def cancellami(
    s: AsyncSession, telegram_user_id: int
) -> views.Leaving | views.MustHandOver | Refused:
    """/cancellami (private): the question, or what to do first (hand over the coordination)."""
    return await registration.may_leave(s, telegram_user_id=telegram_user_id)


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
