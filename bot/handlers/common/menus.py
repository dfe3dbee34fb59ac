"""The BotFather command menus, set at start (bot.app.on_startup)."""

from __future__ import annotations

from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
)
from telegram.ext import Application

from bot.commands import menu, menu_description
from bot.config import SUPPORTED_LANGUAGES
from bot.i18n import translator


async def set_command_menus(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The BotFather menus by scope and language: what makes sense where the user is."""
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
