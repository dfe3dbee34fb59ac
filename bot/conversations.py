"""Multi-step private dialogues whose state lives in the database (restart-safe).

A feature starts a dialogue with `storage.repositories.core.set_conversation(flow=..., step=...)`
and registers `register_flow(flow, handler)`. Every private text, photo or document that is not
a command is routed to the handler of the caller's current flow, with the stored state; the
handler moves the step forward or clears it. State expires (default 7 days) so nothing hangs
forever; buttons of a flow are ordinary callback handlers that read the same state.

A command that carries its text (`/decisione …`, `/annuncio …`) keeps it here while the Union
picker asks which Union (`remember_text`), and takes it back when the choice comes
(`recall_text`); text typed meanwhile is pointed at the picker (`point_at_picker`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message, Update, User

from bot.context import BotContext
from bot.i18n import Translator
from bot.scope import caller_tr, reply, update_transaction
from storage.models import Conversation
from storage.repositories import core as core_repo

FlowHandler = Callable[[Update, BotContext, Conversation], Awaitable[None]]
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
_flows: dict[str, FlowHandler] = {}


def register_flow(name: str, handler: FlowHandler) -> None:
    if name in _flows and _flows[name] is not handler:
        raise ValueError(f"flow {name!r} registered twice")
    _flows[name] = handler


async def route(update: Update, context: BotContext) -> bool:
    """Hand the update to the caller's current flow. False when there is none."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return False
    services = context.services
    async with services.db.transaction() as session:
        conv = await core_repo.get_conversation(
            session, telegram_user_id=user.id, chat_id=chat.id, now=services.clock.now()
        )
    if conv is None:
        return False
    handler = _flows.get(conv.flow)
    if handler is None:
        return False
    await handler(update, context, conv)
    return True


def command_text(update: Update) -> str:
    """What follows the command in the message, with its line breaks kept ("" when nothing)."""
    message = update.effective_message
    if message is None or not message.text:
        return ""
    parts = message.text.split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


async def remember_text(
    session: AsyncSession, update: Update, *, now: datetime, flow: str, text: str
) -> None:
    """Keep a command's text while the Union picker asks which Union (restart-safe)."""
    user, chat = update.effective_user, update.effective_chat
    if user is not None and chat is not None:
        await core_repo.set_conversation(
            session,
            telegram_user_id=user.id,
            chat_id=chat.id,
            flow=flow,
            step="union",
            data={"text": text},
            now=now,
            ttl=timedelta(hours=1),
        )


async def recall_text(session: AsyncSession, update: Update, *, now: datetime, flow: str) -> str:
    """The text `remember_text` kept for this flow, forgotten once taken ("" when none)."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return ""
    conv = await core_repo.get_conversation(
        session, telegram_user_id=user.id, chat_id=chat.id, now=now
    )
    if conv is None or conv.flow != flow:
        return ""
    await core_repo.clear_conversation(session, telegram_user_id=user.id, chat_id=chat.id)
    return str(conv.data.get("text", ""))


async def point_at_picker(update: Update, context: BotContext, conversation: Conversation) -> None:
    """Text typed while the Union picker is waiting: point at the buttons."""
    services = context.services
    async with services.db.transaction() as session:
        tr = await caller_tr(session, services, update)
    if update.effective_user is not None:
        await reply(update, tr.gettext("Scegli prima l'Unione con i pulsanti qui sopra."))


class TypedWrite(Protocol[T_co]):
    """A use case that takes what a person typed in a private dialogue."""

    def __call__(
        self,
        session: AsyncSession,
        *,
        telegram_user_id: int,
        chat_id: int,
        text: str,
        now: datetime,
    ) -> Awaitable[T_co]: ...


async def write_message(
    update: Update,
    context: BotContext,
    write: Callable[[AsyncSession, Message, User, Translator], Awaitable[T]],
) -> tuple[Translator, T] | None:
    """Hand a person's message in a dialogue to `write(session, message, user, their
    translator)`, in one write transaction of the update (its id recorded:
    bot.scope.update_transaction); their translator comes back for the answer. None when the
    update carries no message of a person."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or update.effective_chat is None:
        return None
    async with update_transaction(context, update) as session:
        tr = await caller_tr(session, context.services, update)
        outcome = await write(session, message, user, tr)
    return tr, outcome


async def write_typed(
    update: Update, context: BotContext, write: TypedWrite[T]
) -> tuple[Translator, T] | None:
    """Hand what the person typed to `write` (see `write_message`), with their translator
    for the answer."""
    clock = context.services.clock
    return await write_message(
        update,
        context,
        lambda s, message, user, _tr: write(
            s,
            telegram_user_id=user.id,
            chat_id=message.chat.id,
            text=message.text or "",
            now=clock.now(),
        ),
    )


def union_of(conversation: Conversation) -> int:
    """The Union a dialogue is about, as its first step stored it."""
    return int(conversation.data.get("union_id", 0))
