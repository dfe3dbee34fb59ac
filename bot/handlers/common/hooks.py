"""Hooks by which a feature takes part in common updates without being imported by them
(`services.hooks[...]`): registration answers /start <payload> and the bot's own membership of
groups; a feature puts its own links in front of registration with `put_link_in_front`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Chat, Update

from bot.context import BotContext, Services

START_PAYLOAD_HOOK = "start_payload"  # (update, context, payload): /start with a payload
GROUP_MEMBERSHIP_HOOK = "bot_group_membership"  # (update, context): the bot in a group changed

StartHook = Callable[[Update, BotContext, str], Awaitable[Any]]
# (update, context, the link's kind, its id): the dialogue a link opens
LinkOpener = Callable[[Update, BotContext, str, int], Awaitable[None]]


def put_link_in_front(
    services: Services,
    parse: Callable[[str | None], tuple[str, int] | None],
    open_link: LinkOpener,
) -> None:
    """`/start <payload>` in a private chat: a payload that `parse` recognises (checked before
    any lookup: anyone can type anything after /start) is answered by `open_link`; everything
    else goes on to the hook registered before."""
    previous: StartHook | None = services.hooks.get(START_PAYLOAD_HOOK)

    async def on_start_payload(update: Update, context: BotContext, payload: str) -> None:
        link = parse(payload)
        chat = update.effective_chat
        if link is not None and chat is not None and chat.type == Chat.PRIVATE:
            await open_link(update, context, *link)
        elif previous is not None:
            await previous(update, context, payload)

    services.hooks[START_PAYLOAD_HOOK] = on_start_payload
