"""What every user meets: /start, /aiuto, /privacy, /lingua (`commands`), whether the bot can
reach them, its own membership of groups and groups that migrate (`chats`), the fallbacks, the
error handler (`errors`) and the command menus (`menus`). Use cases: bot.services.common; texts:
bot.views.common."""

from __future__ import annotations

from typing import Any

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import callback_data as cb
from bot.context import Services
from bot.scope import on_union_picked
from bot.views.common import HELP_AREA, LANG_AREA, UNION_PICK_AREA

from . import chats, commands, errors, fallbacks
from .hooks import GROUP_MEMBERSHIP_HOOK, START_PAYLOAD_HOOK
from .menus import menus_soon, send_owed_menus, set_command_menus

__all__ = [
    "GROUP_MEMBERSHIP_HOOK",
    "START_PAYLOAD_HOOK",
    "menus_soon",
    "register",
    "register_fallbacks",
    "send_owed_menus",
    "set_command_menus",
]


def register(application: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(private, chats.on_private_reachable), group=-1)
    application.add_handlers(
        [
            CommandHandler("start", commands.start),
            CommandHandler(["aiuto", "help"], commands.help_command),
            CommandHandler("privacy", commands.privacy),
            CommandHandler("lingua", commands.language),
            CallbackQueryHandler(commands.on_language, pattern=cb.pattern(LANG_AREA, "set")),
            CallbackQueryHandler(commands.on_task, pattern=cb.pattern(HELP_AREA, "go")),
            CallbackQueryHandler(on_union_picked, pattern=cb.pattern(UNION_PICK_AREA)),
            ChatMemberHandler(chats.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
            MessageHandler(filters.StatusUpdate.MIGRATE, chats.on_migrate),
        ]
    )
    application.add_error_handler(errors.on_error)
    services.add_due_work("common.private_menus", send_owed_menus)


def register_fallbacks(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Registered after every feature: only what nobody else took reaches these."""
    private = filters.ChatType.PRIVATE
    application.add_handlers(
        [
            MessageHandler(
                private & ~filters.COMMAND & (filters.TEXT | filters.PHOTO | filters.Document.ALL),
                fallbacks.on_private_input,
            ),
            MessageHandler(filters.COMMAND, fallbacks.on_unknown_command),
            CallbackQueryHandler(fallbacks.on_stale_button),
        ]
    )
