"""What every meetings button handler starts with, and the private word it may send."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, CallbackQuery, Chat, Message, Update
from telegram.constants import ParseMode
from telegram.error import Forbidden

from bot.context import BotContext
from bot.i18n import Translator
from bot.markup import markup
from bot.scope import (
    ButtonPress,
    button_press,
    button_refusal,
    caller_tr,
    press_of,
    update_transaction,
)
from bot.services.presses import Press
from bot.views.keyboard import Keyboard

Outcome = TypeVar("Outcome")
# (session, the object's id) → the Union of the poll, date or meeting it names (None: gone)
UnionOf = Callable[[AsyncSession, int], Awaitable[int | None]]


async def on_object(
    update: Update,
    context: BotContext,
    union_of: UnionOf,
    use: Callable[[AsyncSession, ButtonPress, Translator], Awaitable[Outcome]],
    *,
    writes: bool = False,
    private_only: Callable[[Translator], str] | None = None,
) -> tuple[ButtonPress, Translator, Outcome] | None:
    """The prelude of a button on a poll, a date or a meeting (`area:verb:<id>[:arg]`): the
    press decoded by the kit (`bot.scope.button_press`: data naming nothing is answered, and
    this returns None), then in one transaction (a write one when the use case `writes`) the
    presser's translator, the kit's chat check with the Union of the object the data names
    (`button_refusal`; `private_only` gives its refusal for a button of a private dialogue),
    and the use case (given the press and the presser's translator). A press the chat check
    refuses is answered here (a popup that stays) and returns None too."""
    pressed = await button_press(update)
    if pressed is None:
        return None
    services = context.services
    opened: AbstractAsyncContextManager[AsyncSession] = (
        update_transaction(context, update) if writes else services.db.transaction()
    )
    async with opened as session:
        tr = await caller_tr(session, services, update)
        union_id = await union_of(session, pressed.object_id)
        only_here = private_only(tr) if private_only is not None else None
        refusal = await button_refusal(
            session, update, tr, union_id=union_id, private_only=only_here
        )
        if refusal is None:
            outcome = await use(session, pressed, tr)
    if refusal is not None:
        await pressed.query.answer(refusal, show_alert=True)
        return None
    return pressed, tr, outcome


def in_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == Chat.PRIVATE


def group_press(update: Update, query: CallbackQuery) -> Press | None:
    """Where in a group the button was pressed (None in a private chat)."""
    chat = update.effective_chat
    return press_of(query, chat.id) if chat is not None and not in_private(update) else None


def private_press(update: Update, query: CallbackQuery) -> Press | None:
    """Where in the presser's private chat the button was pressed (None in a group)."""
    chat = update.effective_chat
    return press_of(query, chat.id) if chat is not None and in_private(update) else None


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
