"""What every /azioni button handler does around its use case: decode the press, open the
transaction, check the chat against the Union the pressed object belongs to
(the kit's `bot.scope.checked_press`), run the use case, then answer — the use case's refusal
as a toast, or the outcome shown in place of the pressed message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import CallbackQuery, Chat, Update

from bot import callback_data as cb
from bot import telegram_edit
from bot.callback_data import CallbackData
from bot.context import BotContext
from bot.i18n import Translator
from bot.markup import markup
from bot.scope import checked_press
from bot.services import progress
from bot.views.actions import not_allowed
from bot.views.keyboard import Keyboard

T = TypeVar("T")


@dataclass(frozen=True)
class Press:
    query: CallbackQuery
    data: CallbackData
    user_id: int
    chat_id: int
    private: bool
    context: BotContext

    def int_arg(self, index: int) -> int | None:
        return self.data.int_arg(index)

    def str_arg(self, index: int) -> str | None:
        return self.data.str_arg(index)

    @property
    def now(self) -> datetime:
        return self.context.services.clock.now()

    @property
    def actor(self) -> progress.Actor:
        return progress.Actor(self.user_id, self.chat_id, self.now, self.private)


UnionOf = Callable[[AsyncSession, Press], Awaitable[int | None]]
UseCase = Callable[[AsyncSession, Press, Translator], Awaitable[T]]


async def union_arg(session: AsyncSession, press: Press) -> int | None:
    """The Union a button names first (`act:list:<union>…`)."""
    return press.int_arg(0)


async def action_arg(session: AsyncSession, press: Press) -> int | None:
    """The Union of the action a button names first (`act:show:<action>`)."""
    return await progress.action_union_id(session, press.int_arg(0))


@dataclass(frozen=True)
class Outcome(Generic[T]):
    press: Press
    result: T
    tr: Translator


async def pressed(
    update: Update,
    context: BotContext,
    use_case: UseCase[T],
    *,
    union: UnionOf = union_arg,
    write: bool = False,
) -> Outcome[T] | None:
    """Decode the press, then the kit's `checked_press` (the chat check for `union`'s Union,
    `use_case`, in an update's transaction when it `write`s). None: garbage, or refused for
    the chat, answered already."""
    query, chat = update.callback_query, update.effective_chat
    if query is None or query.from_user is None or chat is None:
        return None
    if (data := cb.decode(query.data)) is None:
        await query.answer()
        return None
    press = Press(query, data, query.from_user.id, chat.id, chat.type == Chat.PRIVATE, context)
    checked = await checked_press(update, context, press, union, use_case, writes=write)
    if checked is None:  # refused for the chat: answered
        return None
    tr, result = checked
    return Outcome(press, result, tr)


async def outcome_of(outcome: Outcome[Any] | None, kind: type[T]) -> T | None:
    """The use case's outcome when it is `kind`; a refusal is answered as a toast, and gives
    None."""
    if outcome is None:
        return None
    if isinstance(outcome.result, kind):
        return outcome.result
    refused = outcome.result
    reason = (
        not_allowed(refused.reason, outcome.tr)
        if isinstance(refused, progress.NotAllowed)
        else None
    )
    await outcome.press.query.answer(reason)
    return None


async def show(
    update: Update, shown: tuple[str, Keyboard | None], toast: str | None = None
) -> None:
    """Answer the press, then show `shown` in place of the pressed message."""
    query = update.callback_query
    assert query is not None
    await query.answer(toast)
    await telegram_edit.edit_or_send(update, update.get_bot(), shown[0], markup(shown[1]))
