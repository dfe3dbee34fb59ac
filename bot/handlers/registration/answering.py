"""The shapes registration's handlers share, so that each handler is its use case and nothing else.

A button (`button`): decode the callback data (never trusted), refuse the press in a group when
the button belongs to a private dialogue (bot.scope.button_refusal), run one use case in one
transaction, render its outcome with a view once the transaction is closed, answer. The use case
re-checks who presses and on what; data that names nothing (`RegistrationPress.id` of a
missing or non-numeric argument) is answered as a stale button. A message of a dialogue
(`dialogue`): the same, for the text typed. A command reads its caller first (`reader`,
`private_reader`; `private_read` for a private command about the caller only).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Chat, Update, User

from bot import callback_data as cb
from bot import delivery
from bot.context import BotContext
from bot.conversations import Conversation, write_message
from bot.handlers.common import menus_soon
from bot.i18n import Translator
from bot.scope import (
    Caller,
    Refusal,
    UnionScope,
    button_refusal,
    caller,
    reply,
    resolve_union,
    tr_for,
    transaction_for,
)
from bot.services.common import Profile
from bot.services.display_text import NAMELESS
from bot.services.registration import Form, Role
from bot.telegram_edit import deliver, send_answer
from bot.views.answer import Answer
from bot.views.registration.refusals import (
    PRIVATE_BUTTON,
    PRIVATE_COMMAND,
    Refused,
    command_refusal,
    refusal,
)
from bot.views.registration.shared import ROLE_FROM_SHORT
from bot.views.roles import FORM_FROM_SHORT

R = TypeVar("R")
Callback = Callable[[Update, BotContext], Coroutine[Any, Any, None]]
FlowCallback = Callable[[Update, BotContext, Conversation], Coroutine[Any, Any, None]]


class Garbage(Exception):
    """Callback data whose arguments name nothing: the press is answered as stale."""


@dataclass(frozen=True)
class RegistrationPress:
    """A button press, decoded: who pressed (re-checked by the use case), in which chat, when,
    the callback data, and what the use case may need of the running bot."""

    user: User
    chat_id: int
    data: cb.CallbackData
    now: datetime
    tr: Translator  # the presser's
    default_language: str  # of texts queued for people who never chose one
    bot_username: str

    @property
    def user_id(self) -> int:
        return self.user.id

    @property
    def verb(self) -> str:
        return self.data.action

    @property
    def in_own_chat(self) -> bool:
        """Pressed in the presser's own private chat with the bot."""
        return self.chat_id == self.user.id

    def id(self, index: int) -> int:
        value = self.data.int_arg(index)
        if value is None:
            raise Garbage(self.data)
        return value

    def role(self, index: int) -> Role:
        role = ROLE_FROM_SHORT.get(self.data.str_arg(index) or "")
        if role is None:
            raise Garbage(self.data)
        return role

    def role_and_form(self, index: int) -> tuple[Role, Form]:
        """`<role><form>`, e.g. `sf`: Sindaca (bot.views.roles.FORM_SHORT)."""
        code = self.data.str_arg(index) or ""
        role = ROLE_FROM_SHORT.get(code[:1])
        form = FORM_FROM_SHORT.get(code[1:])
        if role is None or form is None:
            raise Garbage(self.data)
        return role, form

    def profile(self) -> Profile:
        return profile_of(self.user, self.tr)


UseCase = Callable[[AsyncSession, RegistrationPress], Awaitable[R]]


async def answer_press(
    update: Update,
    context: BotContext,
    use: UseCase[R],
    render: Callable[[R, Translator], Answer],
    *,
    private_only: str | None = PRIVATE_BUTTON,
    write: bool = True,
) -> R | None:
    """Run `use` for this press and answer with `render` of its outcome (a view: it says
    refusals too). `private_only`: the toast for a press in a group (None: groups too).
    `write`: the update id is recorded with the change (bot.scope.update_transaction).
    Returns the outcome, for after-effects; None when the press was not run (it was refused
    in a group, or its data is garbage: answered as a stale button)."""
    query = update.callback_query
    if query is None or query.from_user is None or update.effective_chat is None:
        return None
    transaction = transaction_for(context, update, writes=write)
    async with transaction as session:
        tr, shut, outcome = await _run(session, update, context, use, private_only)
    if shut is not None:
        answer = Answer(toast=shut, alert=True)
    elif outcome is None:
        answer = refusal(Refused.STALE, tr)
    else:
        answer = render(outcome, tr)
    await deliver(update, answer)
    return outcome


async def _run(
    session: AsyncSession,
    update: Update,
    context: BotContext,
    use: UseCase[R],
    private_only: str | None,
) -> tuple[Translator, str | None, R | None]:
    """(the presser's translator, the refusal in a group, the outcome) of a press."""
    services, query, chat = context.services, update.callback_query, update.effective_chat
    assert query is not None and query.from_user is not None and chat is not None
    who = await caller(session, services, update)
    tr = who.tr if who else tr_for(services, user=query.from_user)
    only = tr.gettext(private_only) if private_only else None
    shut = await button_refusal(session, update, tr, union_id=None, private_only=only)
    data = cb.decode(query.data)
    if shut is not None or data is None:
        return tr, shut, None
    now, language = services.clock.now(), services.settings.default_language
    press = RegistrationPress(
        query.from_user, chat.id, data, now, tr, language, context.bot.username
    )
    try:
        return tr, None, await use(session, press)
    except Garbage:
        return tr, None, None


def button(
    render: Callable[[R, Translator], Answer],
    *,
    private_only: str | None = PRIVATE_BUTTON,
    write: bool = True,
    flush: bool = False,
) -> Callable[[UseCase[R]], Callback]:
    """The CallbackQueryHandler callback that answers a press with `use(session, press)`,
    rendered by `render` (see `answer_press`); `flush`: what the use case queued goes out now."""

    def handler_of(use: UseCase[R]) -> Callback:
        @wraps(use)
        async def handler(update: Update, context: BotContext) -> None:
            await answer_press(update, context, use, render, private_only=private_only, write=write)
            if flush:
                delivery.flush_soon(context.services, context.bot)
                menus_soon(context.services, context.bot)

        return handler

    return handler_of


@dataclass(frozen=True)
class Said:
    """A private message of a dialogue: who wrote, in which chat, when, what, and the stored
    state of the dialogue."""

    user: User
    chat_id: int
    text: str
    now: datetime
    tr: Translator  # the writer's
    default_language: str
    step: str
    state: dict[str, Any]

    def profile(self) -> Profile:
        return profile_of(self.user, self.tr)


def dialogue(
    render: Callable[[R, Translator], Answer], *, flush: bool = False
) -> Callable[[Callable[[AsyncSession, Said], Awaitable[R]]], FlowCallback]:
    """The flow handler (bot.conversations.register_flow) that answers a message of a dialogue
    with `use(session, said)`, in one transaction (its update id recorded with the change)."""

    def handler_of(use: Callable[[AsyncSession, Said], Awaitable[R]]) -> FlowCallback:
        @wraps(use)
        async def handler(update: Update, context: BotContext, conv: Conversation) -> None:
            services = context.services
            written = await write_message(
                update,
                context,
                lambda s, message, user, tr: use(
                    s,
                    Said(
                        user,
                        message.chat.id,
                        message.text or "",
                        services.clock.now(),
                        tr,
                        services.settings.default_language,
                        conv.step,
                        dict(conv.data),
                    ),
                ),
            )
            if written is None:
                return
            tr, outcome = written
            await deliver(update, render(outcome, tr))
            if flush:
                delivery.flush_soon(services, context.bot)
                menus_soon(services, context.bot)

        return handler

    return handler_of


async def reader(update: Update, context: BotContext) -> Caller | None:
    """Who sent a command (their stored person and language), read in a transaction of its own."""
    async with context.services.db.transaction() as session:
        return await caller(session, context.services, update)


async def private_reader(update: Update, context: BotContext) -> Caller | None:
    """Who sent a private command; in a group, None once told where the command works."""
    who = await reader(update, context)
    if who is None:
        return None
    chat = update.effective_chat
    if chat is None or chat.type != Chat.PRIVATE:
        await reply(update, who.tr.gettext(PRIVATE_COMMAND))
        return None
    return who


def private_read(
    render: Callable[[R, Translator], Answer],
) -> Callable[[Callable[[AsyncSession, int], Awaitable[R]]], Callback]:
    """The CommandHandler callback of a private command about the caller only (/profilo,
    /cancellami): `use(session, telegram_user_id)` in one read transaction, its outcome
    answered with `render`; in a group, only where the command works is said."""

    def handler_of(use: Callable[[AsyncSession, int], Awaitable[R]]) -> Callback:
        @wraps(use)
        async def handler(update: Update, context: BotContext) -> None:
            user = update.effective_user
            who = await private_reader(update, context)
            if who is None or user is None:
                return
            async with context.services.db.transaction() as session:
                outcome = await use(session, user.id)
            await deliver(update, render(outcome, who.tr))

        return handler

    return handler_of


def command_answer(outcome: R, render: Callable[[R, Translator], Answer], tr: Translator) -> Answer:
    """A command's outcome: a refusal as a message (`command_refusal`), else the view's."""
    if isinstance(outcome, Refused):
        return command_refusal(outcome, tr)
    return render(outcome, tr)


@dataclass(frozen=True)
class Asked:
    """A command, decoded: who sent it (their Telegram user id), where, when."""

    user_id: int
    chat_id: int
    private: bool
    now: datetime


UnionCommandBody = Callable[[Update, BotContext, int | None], Coroutine[Any, Any, None]]


def in_union(
    command: str,
    render: Callable[[R, Translator], Answer],
    *,
    private: bool = False,
    write: bool = False,
) -> Callable[[Callable[[AsyncSession, UnionScope, Asked], Awaitable[R]]], UnionCommandBody]:
    """The body of a command on the caller's Union, for bot.scope.union_command: the Union is
    the group's, their only one, or the one chosen in the picker (bot.scope.resolve_union);
    `use(session, scope, asked)` runs in one transaction and its outcome is answered with
    `render` (a refusal as a message). `private`: in a group, only where it works is said."""

    def body_of(use: Callable[[AsyncSession, UnionScope, Asked], Awaitable[R]]) -> UnionCommandBody:
        @wraps(use)
        async def body(update: Update, context: BotContext, union_id: int | None) -> None:
            user, chat = update.effective_user, update.effective_chat
            if user is None or chat is None:
                return
            services, in_group = context.services, chat.type != Chat.PRIVATE
            transaction = transaction_for(context, update, writes=write)
            asked = Asked(user.id, chat.id, not in_group, services.clock.now())
            scope: UnionScope | Refusal | None = None
            outcome = None
            async with transaction as session:
                who = await caller(session, services, update)  # read once, for both
                if who is not None and not (private and in_group):
                    scope = await resolve_union(
                        session, update, context, command=command, chosen_union_id=union_id, who=who
                    )
                    if not isinstance(scope, Refusal):
                        outcome = await use(session, scope, asked)
            if who is None:
                return
            if scope is None:  # a private command typed in a group
                await reply(update, who.tr.gettext(PRIVATE_COMMAND))
            elif isinstance(scope, Refusal):
                await scope.send(update)
            elif outcome is not None:  # typed, or re-entered from the picker: a new message
                await send_answer(update, command_answer(outcome, render, who.tr))

        return body

    return body_of


def profile_of(user: User, tr: Translator) -> Profile:
    """What Telegram tells of the user, with the reader's word for a name that shows nothing."""
    return Profile.of(user, nameless=tr.gettext(NAMELESS))


def message_text(update: Update) -> str:
    message = update.effective_message
    return (message.text or "") if message is not None else ""


def command_argument(update: Update) -> str:
    """Everything after the command, spaces and apostrophes kept ("Unione Val d'Enza")."""
    parts = message_text(update).split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""
