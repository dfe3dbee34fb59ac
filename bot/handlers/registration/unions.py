"""/crea_unione."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.handlers.common import menus_soon
from bot.scope import update_transaction
from bot.services import registration
from bot.telegram_edit import deliver
from bot.views.registration.unions import created_answer

from .answering import command_argument, private_reader, profile_of


async def create_union(update: Update, context: BotContext) -> None:
    """/crea_unione <name> (private): a new Union, coordinated by whoever creates it."""
    services = context.services
    user = update.effective_user
    who = await private_reader(update, context)
    if who is None or user is None:
        return
    async with update_transaction(context, update) as session:
        outcome = await registration.create_union(
            session,
            profile=profile_of(user, who.tr),
            name=command_argument(update),
            admin_ids=services.settings.admin_ids,
            now=services.clock.now(),
        )
    await deliver(update, created_answer(outcome, who.tr))
    menus_soon(services, context.bot)
