"""Who is speaking, in which Union, and what they may do — re-checked on every update.

In a linked group the Union is the group's. In private a person with one Union gets it; with
several, `resolve_union` shows a picker and the chosen button re-runs the command (features
make their command with `union_command`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import (
    CallbackQuery,
    Chat,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)

from bot import callback_data as cb
from bot.callback_data import CallbackData
from bot.context import BotContext, Services
from bot.i18n import Translator, pick_language, translator
from bot.markup import markup
from bot.services.presses import Press, Pressed
from bot.views.common import union_picker
from storage.models import LinkedChat, Member, Person, Role, Union
from storage.repositories import core as core_repo

logger = logging.getLogger(__name__)

# Anonymous group admins post as this user: never trust it for anything.
ANONYMOUS_ADMIN_ID = 1087968824

UnionBody = Callable[[Update, BotContext, int | None], Awaitable[None]]
# The commands made with `union_command`, by name: the picker re-enters them with the chosen
# Union, a button starts them as if typed (without one).
_union_commands: dict[str, UnionBody] = {}


class DuplicateUpdate(Exception):
    """This update id was already handled; the error handler answers and ignores it."""


class UpdateNotProcessed(Exception):
    """A check that runs before the handlers (group -1) failed, e.g. the database is locked
    or down: the error handler tells the user once that nothing was recorded and stops the
    update, so no handler runs after it (an exception alone does not stop PTB's other groups)."""


@dataclass(frozen=True)
class Caller:
    """The Telegram user behind an update, with their stored person and language."""

    user: User
    person: Person | None
    language: str
    tr: Translator


@dataclass(frozen=True)
class Refusal:
    """What to tell the caller instead of going on; sent after the transaction is closed."""

    text: str
    markup: InlineKeyboardMarkup | None = None

    async def send(self, update: Update) -> None:
        if self.text:
            await reply(update, self.text, self.markup)


@dataclass(frozen=True)
class UnionScope:
    union: Union
    member: Member
    municipality_ids: tuple[int, ...]
    link: LinkedChat | None  # set when the update comes from a linked group

    @property
    def is_coordinator(self) -> bool:
        return self.member.is_coordinator

    @property
    def role(self) -> Role:
        return self.member.role


def tr_for(
    services: Services,
    *,
    person: Person | None = None,
    user: User | None = None,
    language: str | None = None,
    telegram_language: str | None = None,
    default: str | None = None,
) -> Translator:
    """The one way to pick someone's translator.

    Their chosen language (`language`, else `person.language`), else their Telegram language
    (the update's `user` first, else `telegram_language`, else the one stored on `person`),
    else `default` (the instance's default language unless given). With nobody given, the
    instance default: what a group reads, since a group has no person.
    """
    chosen = language or (person.language if person is not None else None)
    telegram_code = (
        (user.language_code if user is not None else None)
        or telegram_language
        or (person.telegram_language if person is not None else None)
    )
    return translator(
        pick_language(
            chosen=chosen,
            telegram_code=telegram_code,
            default=default or services.settings.default_language,
        )
    )


async def caller(session: AsyncSession, services: Services, update: Update) -> Caller | None:
    user = update.effective_user
    if user is None:
        return None
    person = await core_repo.person_by_telegram_id(session, user.id)
    tr = tr_for(services, person=person, user=user)
    return Caller(user=user, person=person, language=tr.language, tr=tr)


async def caller_tr(session: AsyncSession, services: Services, update: Update) -> Translator:
    """The translator of whoever sent this update (the instance default for nobody)."""
    who = await caller(session, services, update)
    return who.tr if who is not None else tr_for(services)


@asynccontextmanager
async def update_transaction(context: BotContext, update: Update) -> AsyncIterator[AsyncSession]:
    """One transaction for an update that changes data, with its update id recorded in it.

    A redelivered update raises DuplicateUpdate before the body runs, so its change is not
    applied twice (the error handler still answers a pressed button).
    """
    services = context.services
    body_done = False
    try:
        async with services.db.transaction() as session:
            if not await core_repo.mark_update_processed(
                session, update_id=update.update_id, now=services.clock.now()
            ):
                raise DuplicateUpdate(update.update_id)
            yield session
            body_done = True
    except Exception as error:
        if body_done and not isinstance(error, IntegrityError):
            # The body ran and the COMMIT itself failed (the connection dropped, the disk):
            # the server may have committed. The error handler must not say "not saved".
            services.note_outcome_unknown(update.update_id)
        raise
    services.note_committed(update.update_id)


def transaction_for(
    context: BotContext, update: Update, *, writes: bool
) -> AbstractAsyncContextManager[AsyncSession]:
    """The update's transaction (`update_transaction`) when the handler writes, else a read one."""
    return update_transaction(context, update) if writes else context.services.db.transaction()


def union_command(
    name: str, body: UnionBody
) -> Callable[[Update, BotContext], Coroutine[Any, Any, None]]:
    """The CommandHandler callback of a private command that needs the caller's Union.

    `body(update, context, union_id)` runs with None when the command is typed (it calls
    `resolve_union`, which answers with a picker for a member of several Unions) and with the
    chosen Union when the picker's button is pressed: one function, registered once.
    """
    _union_commands[name] = body

    async def command(update: Update, context: BotContext) -> None:
        await body(update, context, None)

    command.__name__ = command.__qualname__ = name
    return command


async def resolve_union(
    session: AsyncSession,
    update: Update,
    context: BotContext,
    *,
    command: str,
    chosen_union_id: int | None = None,
    who: Caller | None = None,
) -> UnionScope | Refusal:
    """The Union this update is about, with the caller's active membership.

    Otherwise a Refusal to send once the transaction is closed: a Union picker (private chat,
    several Unions) or the reason the caller may not go on. `chosen_union_id` comes from the
    picker button and is re-checked against the caller's memberships like any client data.
    `who`: the caller, when the handler has read them already in this transaction.
    """
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return Refusal("")
    who = who or await caller(session, context.services, update)
    tr = who.tr if who is not None else tr_for(context.services, user=user)
    _ = tr.gettext
    if user.id == ANONYMOUS_ADMIN_ID:
        return Refusal(
            _(
                "Stai scrivendo come amministratore anonimo: per questo comando scrivi con il "
                "tuo profilo."
            )
        )

    if chat.type != Chat.PRIVATE:
        links = await core_repo.links_of_chat(session, chat.id)
        if not links:
            return Refusal(
                _(
                    "Questo gruppo non è collegato a nessuna Unione. Il coordinatore può collegarlo con /collega."
                )
            )
        union_id = links[0].union_id
        member = await core_repo.member_of(session, union_id=union_id, telegram_user_id=user.id)
        if member is None:
            return Refusal(
                _("Questo comando è riservato ai membri del Team energia di questa Unione.")
            )
        return await _scope(session, union_id, member, links[0])

    memberships = await core_repo.memberships_of(session, telegram_user_id=user.id)
    if chosen_union_id is not None:
        memberships = [(m, u) for m, u in memberships if u.id == chosen_union_id]
    if not memberships:
        return Refusal(
            _(
                "Non fai ancora parte di nessun Team energia. Per entrare serve il link d'invito del coordinatore della tua Unione."
            )
        )
    if len(memberships) == 1:
        member, union = memberships[0]
        return await _scope(session, union.id, member, None)

    text, keyboard = union_picker(tr, command, [(u.id, u.name) for _m, u in memberships])
    return Refusal(text, markup(keyboard))


async def _scope(
    session: AsyncSession, union_id: int, member: Member, link: LinkedChat | None
) -> UnionScope | Refusal:
    union = await session.get(Union, union_id)
    if union is None:
        return Refusal("")
    ids = await core_repo.municipality_ids_of(session, member.id)
    return UnionScope(union=union, member=member, municipality_ids=tuple(ids), link=link)


async def button_refusal(
    session: AsyncSession,
    update: Update,
    tr: Translator,
    *,
    union_id: int | None,
    private_only: str | None = None,
) -> str | None:
    """Where a button on one Union's data may act: None to go on, else the toast to answer.

    Callback data can be forged, so every button handler calls this first, with the Union of
    the object its data names (a poll, an action, a decision…), then checks the presser's
    membership and role in that Union itself. In a private chat the presser's membership
    decides: this says go on. In a group the button works only if the group is linked to that
    Union (a group linked to nothing, or to another Union, gets none of it), and never when
    the button belongs to a private dialogue (`private_only` is then the refusal). A
    `union_id` of None (the object is gone) goes on: the handler says the button is stale.
    """
    chat = update.effective_chat
    if chat is None or chat.type == Chat.PRIVATE:
        return None
    _ = tr.gettext
    query = update.callback_query
    data = cb.decode(query.data) if query is not None else None
    button = f"{data.area}:{data.action}" if data is not None else "?"
    if private_only is not None:
        logger.info("Button %s refused in group %s: it works in private only", button, chat.id)
        return private_only
    if union_id is None:
        return None
    linked = {link.union_id for link in await core_repo.links_of_chat(session, chat.id)}
    if union_id in linked:
        return None
    logger.info(
        "Button %s on Union %s refused in group %s (linked to %s)",
        button,
        union_id,
        chat.id,
        sorted(linked) or "nothing",
    )
    if not linked:
        return _(
            "Questo gruppo non è collegato a nessuna Unione. Il coordinatore può collegarlo con /collega."
        )
    return _("Questo pulsante riguarda un'altra Unione: in questo gruppo non funziona.")


def press_of(query: CallbackQuery, chat_id: int) -> Press:
    """The press as plain values, for `Press.where` here or in a use case's transaction."""
    message = query.message
    carries = (
        isinstance(message, Message)  # an inaccessible (48 h old) message shows no keyboard
        and message.reply_markup is not None
        and message.from_user is not None
        and message.from_user.is_bot
        and any(
            button.callback_data == query.data
            for row in message.reply_markup.inline_keyboard
            for button in row
        )
    )
    return Press(
        chat_id=chat_id,
        message_id=message.message_id if message is not None else None,
        carries_button=carries,
    )


def pressed_where(query: CallbackQuery, chat_id: int, shown: Iterable[tuple[int, int]]) -> Pressed:
    """Was this group press made on a message that shows the object? (`Press.where`)"""
    return press_of(query, chat_id).where(shown)


def startable(name: str) -> bool:
    """Whether a button can start private command `name` as if typed (`start_command`)."""
    return name in _union_commands


async def start_command(update: Update, context: BotContext, name: str) -> bool:
    """Run private command `name` (one made with `union_command`) for whoever pressed a button,
    as if they had typed it: the command checks who may use it, and asks for the Union when
    they are in several. False when no such command exists."""
    body = _union_commands.get(name)
    if body is None:
        return False
    await body(update, context, None)
    return True


@dataclass(frozen=True)
class ButtonPress:
    """A pressed button whose data names an object: `object_id` is the data's first id."""

    query: CallbackQuery
    user_id: int
    data: CallbackData
    object_id: int


async def button_press(update: Update) -> ButtonPress | None:
    """The press of a button on an object (`area:verb:<id>[:arg…]`), decoded. None when the
    update is no press, or its data names no object: then it is answered, so the spinner stops
    (garbage is never trusted, bot.callback_data)."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return None
    data = cb.decode(query.data)
    object_id = data.int_arg(0) if data else None
    if data is None or object_id is None:
        await query.answer()
        return None
    return ButtonPress(query, query.from_user.id, data, object_id)


Outcome = TypeVar("Outcome")
P = TypeVar("P")
# (session, the object's id) → the Union of the poll, action, decision… it names (None: gone)
UnionOf = Callable[[AsyncSession, int], Awaitable[int | None]]


async def the_union(session: AsyncSession, union_id: int) -> int:
    """The `UnionOf` of a button whose data names the Union itself (`set:menu:<union>`)."""
    return union_id


async def on_object(
    update: Update,
    context: BotContext,
    union_of: UnionOf | None,
    use: Callable[[AsyncSession, ButtonPress, Translator], Awaitable[Outcome]],
    *,
    writes: bool = False,
    private_only: Callable[[Translator], str] | None = None,
) -> tuple[ButtonPress, Translator, Outcome] | None:
    """The prelude of every button on an object (`area:verb:<id>[:arg…]`): the press decoded
    (`button_press`: data naming nothing is answered, and this returns None), then
    `checked_press` with the Union of the object the data names (`union_of`; None for a button
    of a private dialogue, which `private_only` refuses in any group)."""
    pressed = await button_press(update)
    if pressed is None:
        return None
    union = None if union_of is None else _of_object(union_of)
    checked = await checked_press(
        update, context, pressed, union, use, writes=writes, private_only=private_only
    )
    return None if checked is None else (pressed, *checked)


def _of_object(union_of: UnionOf) -> Callable[[AsyncSession, ButtonPress], Awaitable[int | None]]:
    return lambda session, pressed: union_of(session, pressed.object_id)


async def checked_press(
    update: Update,
    context: BotContext,
    press: P,
    union_of: Callable[[AsyncSession, P], Awaitable[int | None]] | None,
    use: Callable[[AsyncSession, P, Translator], Awaitable[Outcome]],
    *,
    writes: bool = False,
    private_only: Callable[[Translator], str] | None = None,
) -> tuple[Translator, Outcome] | None:
    """A decoded press, in one transaction (an update's when the use case `writes`): the
    presser's translator, the chat check (`button_refusal`) with the Union `union_of` finds for
    the press, then the use case. A press the chat check refuses is answered here, with a popup
    that stays, and gives None; else (the presser's translator, the use case's outcome)."""
    services = context.services
    opened = transaction_for(context, update, writes=writes)
    async with opened as session:
        tr = await caller_tr(session, services, update)
        union_id = None if union_of is None else await union_of(session, press)
        only_here = None if private_only is None else private_only(tr)
        refusal = await button_refusal(
            session, update, tr, union_id=union_id, private_only=only_here
        )
        if refusal is None:
            outcome = await use(session, press, tr)
    if refusal is not None:
        if update.callback_query is not None:
            await update.callback_query.answer(refusal, show_alert=True)
        return None
    return tr, outcome


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


T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class MemberRead(Protocol[T_co]):
    def __call__(self, session: AsyncSession, *, member_id: int) -> Awaitable[T_co]: ...


async def read_in_union(
    update: Update,
    context: BotContext,
    command: str,
    chosen_union_id: int | None,
    read: MemberRead[T],
) -> tuple[Translator, UnionScope | Refusal, T | None]:
    """One read transaction for a command about the caller's Union: the caller's translator,
    the Union (or the Refusal to send: a picker, or why not), and what `read` found for the
    caller's membership there (None when refused)."""
    return await read_in_scope(
        update,
        context,
        command,
        chosen_union_id,
        lambda session, scope, _tr: read(session, member_id=scope.member.id),
    )


async def read_in_scope(
    update: Update,
    context: BotContext,
    command: str,
    chosen_union_id: int | None,
    read: Callable[[AsyncSession, UnionScope, Translator], Awaitable[T]],
    *,
    writes: bool = False,
) -> tuple[Translator, UnionScope | Refusal, T | None]:
    """`read_in_union` for a read that needs the whole scope (the Union, whether the caller
    coordinates it) or the caller's language; with `writes`, for a command that changes data
    (in the update's transaction: bot.scope.update_transaction)."""
    services = context.services
    opened = transaction_for(context, update, writes=writes)
    async with opened as session:
        who = await caller(session, services, update)
        tr = who.tr if who is not None else tr_for(services)
        scope = await resolve_union(
            session, update, context, command=command, chosen_union_id=chosen_union_id, who=who
        )
        found = None
        if not isinstance(scope, Refusal):
            found = await read(session, scope, tr)
    return tr, scope, found


async def on_union_picked(update: Update, context: BotContext) -> None:
    """The Union picker's button: re-run the command for the chosen Union."""
    query = update.callback_query
    if query is None:
        return
    data = cb.decode(query.data)
    command = data.action if data else None
    union_id = data.int_arg(0) if data else None
    handler = _union_commands.get(command or "")
    if handler is None or union_id is None:
        await query.answer()
        return
    await query.answer()
    await handler(update, context, union_id)


async def reply(
    update: Update, text: str, markup: InlineKeyboardMarkup | None = None, **kwargs: Any
) -> None:
    """Answer in the chat of the update (message or button press)."""
    chat = update.effective_chat
    message = update.effective_message
    if message is not None and update.callback_query is None:
        await message.reply_text(text, reply_markup=markup, **kwargs)
    elif chat is not None:
        await chat.send_message(text, reply_markup=markup, **kwargs)
