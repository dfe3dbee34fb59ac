"""Hooks by which a feature takes part in common updates without being imported by them
(`services.hooks[...]`): registration answers /start <payload> and the bot's own membership of
groups; a feature puts its own links in front of registration with `put_link_in_front`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Chat, Update

from bot.context import BotContext, Services
from bot.i18n import Translator
from bot.scope import caller_tr

START_PAYLOAD_HOOK = "start_payload"  # (update, context, payload): /start with a payload
GROUP_MEMBERSHIP_HOOK = "bot_group_membership"  # (update, context): the bot in a group changed

StartHook = Callable[[Update, BotContext, str], Awaitable[Any]]
# (session, the link's kind, its id, the caller's Telegram id) → what the link opens, read
# (and checked) in one transaction, as the command or the button would check it
LinkRead = Callable[[AsyncSession, str, int, int], Awaitable[Any]]
# (update, context, the caller's translator, the link's id, what `LinkRead` found): the answer
LinkAnswer = Callable[[Update, BotContext, Translator, int, Any], Awaitable[None]]


def put_link_in_front(
    services: Services,
    parse: Callable[[str | None], tuple[str, int] | None],
    read: LinkRead,
    answer: LinkAnswer,
) -> None:
    """`/start <payload>` in a private chat: a payload that `parse` recognises (checked before
    any lookup: anyone can type anything after /start) is `read` for the caller, then
    answered by `answer`; everything else goes on to the hook registered before."""
    previous: StartHook | None = services.hooks.get(START_PAYLOAD_HOOK)

    async def on_start_payload(update: Update, context: BotContext, payload: str) -> None:
        link, chat, user = parse(payload), update.effective_chat, update.effective_user
        if link is None or chat is None or chat.type != Chat.PRIVATE:
            if previous is not None:
                await previous(update, context, payload)
            return
        if user is None:
            return
        kind, object_id = link
        async with services.db.transaction() as session:
            tr = await caller_tr(session, services, update)
            found = await read(session, kind, object_id, user.id)
        await answer(update, context, tr, object_id, found)

    services.hooks[START_PAYLOAD_HOOK] = on_start_payload
