"""The BotFather command menus: the shared ones by scope and language, set at start
(bot.app.on_startup), and each person's own in their private chat, owed by the change that
alters what they may do and set here by the tick (and right after the change)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application

from bot.commands import describe, menu, menu_description
from bot.config import SUPPORTED_LANGUAGES
from bot.context import Services
from bot.i18n import translator
from bot.scope import tr_for
from bot.services import common

logger = logging.getLogger(__name__)

_locks: dict[int, asyncio.Lock] = {}


async def set_command_menus(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The BotFather menus by scope and language: what makes sense where the user is. In
    private, everyone's is a newcomer's (/start, /aiuto); a member's own replaces it."""
    bot = application.bot
    scopes = (
        (BotCommandScopeAllPrivateChats(), True, False),
        (BotCommandScopeAllGroupChats(), False, False),
        (BotCommandScopeAllChatAdministrators(), False, True),
    )
    for language in SUPPORTED_LANGUAGES:
        tr = translator(language)
        for scope, private, admins in scopes:
            commands = [
                BotCommand(c.name, menu_description(c, tr)[:256])
                for c in menu(private=private, admins=admins)
            ]
            # The Italian menu is the default for every client language.
            code = None if language == "it" else language
            await bot.set_my_commands(commands, scope=scope, language_code=code)


async def _set(services: Services, bot: Bot, menu: common.PersonalMenu) -> None:
    scope = BotCommandScopeChat(menu.chat_id)
    if menu.commands is None:
        await bot.delete_my_commands(scope=scope)
        return
    tr = tr_for(services, language=menu.language, telegram_language=menu.telegram_language)
    commands = [BotCommand(c.name, describe(c, tr)[:256]) for c in menu.commands]
    await bot.set_my_commands(commands, scope=scope)


async def send_owed_menus(services: Services, bot: Bot, now: datetime) -> None:
    """Due work: set the private menus owed (a few per tick), each as the database says now;
    one that cannot be set (the chat is gone) is settled, one Telegram could not take yet
    waits for the next tick. Restart-safe: what is owed is a row, not a task."""
    async with _locks.setdefault(id(services), asyncio.Lock()):
        async with services.db.transaction() as session:
            owed = await common.owed_menus(session, admin_ids=tuple(services.settings.admin_ids))
        for menu in owed:
            try:
                await _set(services, bot, menu)
            except (BadRequest, Forbidden) as exc:
                logger.info("Menu of chat %s not set: %s", menu.chat_id, exc.message)
            except TelegramError as exc:  # flood control, network: the next tick tries again
                logger.warning("Menus: Telegram did not take them (%s); next tick", exc)
                return
            async with services.db.transaction() as session:
                await common.menu_set(session, chat_id=menu.chat_id, owed_since=menu.owed_since)


def menus_soon(services: Services, bot: Bot) -> None:
    """After a change that owes menus: set them in the background (the tick would anyway)."""
    services.run_in_background(send_owed_menus(services, bot, services.clock.now()))
