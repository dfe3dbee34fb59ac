"""The private word a meetings button may send (the buttons' prelude is the kit's:
`bot.scope.on_object`), and the link that opens the chat when the bot may not write first."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, CallbackQuery, Message, Update
from telegram.constants import ParseMode
from telegram.error import Forbidden

from bot.context import BotContext
from bot.i18n import Translator
from bot.markup import markup
from bot.scope import ButtonPress, UnionOf, in_private, on_object
from bot.telegram_edit import deliver
from bot.views.answer import Answer
from bot.views.common import start_link_url
from bot.views.keyboard import Keyboard
from bot.views.meetings import confirmations_in_private_only

Use = Callable[[AsyncSession, ButtonPress, Translator], Awaitable[object]]


async def tell_privately(
    bot: Bot, user_id: int, text: str, keyboard: Keyboard | None = None
) -> Message | None:
    """Write to someone in private; None when they never started the bot or blocked it."""
    try:
        return await bot.send_message(
            chat_id=user_id, text=text, reply_markup=markup(keyboard), parse_mode=ParseMode.HTML
        )
    except Forbidden:
        return None


async def in_private_or_link(
    update: Update,
    bot: Bot,
    query: CallbackQuery,
    answer: tuple[str, Keyboard | None],
    *,
    sent: str,
    link: str,
) -> None:
    """A press whose answer is a private message: written to the presser (in a group the
    toast `sent` says where), or, when the bot may not write first, the toast opens
    t.me/<bot>?start=<link>, whose «Avvia» brings the same answer (the feature's /start hook)."""
    text, keyboard = answer
    if await tell_privately(bot, query.from_user.id, text, keyboard) is not None:
        await query.answer(None if in_private(update) else sent)
    else:
        await query.answer(url=start_link_url(bot.username, link))


async def pressed_refusing(
    update: Update,
    context: BotContext,
    union_of: UnionOf,
    use: Use,
    *,
    private: bool,
    refusal: Callable[[object, Translator], str | None],
) -> tuple[ButtonPress, Translator, object] | None:
    """The kit's prelude (`bot.scope.on_object`, a write) and the use case, for the agenda's
    and the tasks' buttons; an outcome that `refusal` words is answered here, in a popup that
    stays (None then). `private`: the button works in private only."""
    done = await on_object(
        update,
        context,
        union_of,
        use,
        writes=True,
        private_only=confirmations_in_private_only if private else None,
    )
    if done is not None and (toast := refusal(done[2], done[1])) is not None:
        await deliver(update, Answer(toast=toast, alert=True))
        return None
    return done
