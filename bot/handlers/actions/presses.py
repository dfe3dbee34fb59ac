"""What every /azioni button handler does around its use case: decode the press, open the
transaction, check the chat against the Union the pressed object belongs to
(`bot.scope.button_refusal`), run the use case, then answer — the refusal as a toast, or the
outcome shown in place of the pressed message."""

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
from bot.scope import button_refusal, caller_tr, update_transaction
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
    result: T | str  # a str: the chat check's refusal
    tr: Translator


async def pressed(
    update: Update,
    context: BotContext,
    use_case: UseCase[T],
    *,
    union: UnionOf = union_arg,
    write: bool = False,
) -> Outcome[T] | None:
    """Decode the press and run `use_case` in one transaction (an update's, when it `write`s),
    after the chat check for `union`'s Union. None: garbage, answered already."""
    query, chat = update.callback_query, update.effective_chat
    if query is None or query.from_user is None or chat is None:
        return None
    data = cb.decode(query.data)
    if data is None:
        await query.answer()
        return None
    press = Press(query, data, query.from_user.id, chat.id, chat.type == Chat.PRIVATE, context)
    services = context.services
    opened = update_transaction(context, update) if write else services.db.transaction()
    async with opened as session:
        tr = await caller_tr(session, services, update)
        refusal = await button_refusal(session, update, tr, union_id=await union(session, press))
        result = refusal or await use_case(session, press, tr)
    return Outcome(press, result, tr)


async def outcome_of(outcome: Outcome[Any] | None, kind: type[T]) -> T | None:
    """The use case's outcome when it is `kind`; anything else (a refusal) is answered as a
    toast, and gives None."""
    if outcome is None:
        return None
    if isinstance(outcome.result, kind):
        return outcome.result
    await outcome.press.query.answer(refused(outcome.result, outcome.tr))
    return None


def refused(result: object, tr: Translator) -> str | None:
    """The toast of a refusal: the chat check's text, or the use case's reason."""
    if isinstance(result, str):
        return result
    if isinstance(result, progress.NotAllowed):
        return not_allowed(result.reason, tr)
    return None


async def show(
    update: Update, shown: tuple[str, Keyboard | None], toast: str | None = None
) -> None:
    """Answer the press, then show `shown` in place of the pressed message."""
    query = update.callback_query
    assert query is not None
    await query.answer(toast)
    await telegram_edit.edit_or_send(update, update.get_bot(), shown[0], markup(shown[1]))
