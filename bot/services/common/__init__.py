"""Use cases of what every user meets: /start and /aiuto (who they are here), /lingua, whether
the bot can reach them, a group that became a supergroup. The handlers: bot.handlers.common."""

from bot.services.common.chats import migrate_chat
from bot.services.common.menus import PersonalMenu, menu_set, owe_menu, owed_menus
from bot.services.common.people import (
    Profile,
    person_for,
    person_wrote,
    set_language,
    set_reachable,
)
from bot.services.common.tasks import commands_for
from bot.services.common.welcome import Reader, help_page, may_start, welcome

__all__ = [
    "PersonalMenu",
    "Profile",
    "Reader",
    "commands_for",
    "help_page",
    "may_start",
    "menu_set",
    "migrate_chat",
    "owe_menu",
    "owed_menus",
    "person_for",
    "person_wrote",
    "set_language",
    "set_reachable",
    "welcome",
]
