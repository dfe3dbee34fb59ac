"""Multi-step private dialogues whose state lives in the database (restart-safe).

A feature starts a dialogue with `storage.repositories.core.set_conversation(flow=..., step=...)`
and registers `register_flow(flow, handler)`. Every private text, photo or document that is not
a command is routed to the handler of the caller's current flow, with the stored state; the
handler moves the step forward or clears it. State expires (default 7 days) so nothing hangs
forever; buttons of a flow are ordinary callback handlers that read the same state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from bot.context import BotContext
from storage.models import Conversation
from storage.repositories import core as core_repo

FlowHandler = Callable[[Update, BotContext, Conversation], Awaitable[None]]
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
