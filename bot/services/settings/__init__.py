"""/impostazioni: the Union's settings (the meetings' and the update rounds' rhythm, the PAES
approval date, the `#aggiornamento` capture), changed by its coordinator with buttons.

Use cases in `changes` (async, a session and plain values in, a frozen dataclass out); the pure
rules (the ranges of the +/− buttons, the weekdays, the date) in `rules`. The handlers
(bot.handlers.settings) import what they need from here: never storage.
"""

from __future__ import annotations

from bot.services.settings.changes import (
    PAES_FLOW,
    BadDate,
    Change,
    DateAsked,
    SettingsPage,
    SettingsRefused,
    ask_paes_date,
    change_setting,
    open_section,
    set_paes_date,
    settings_menu,
)
from bot.services.settings.rules import parse_italian_date, step_value, toggle_weekday

__all__ = [
    "PAES_FLOW",
    "BadDate",
    "Change",
    "DateAsked",
    "SettingsPage",
    "SettingsRefused",
    "ask_paes_date",
    "change_setting",
    "open_section",
    "parse_italian_date",
    "set_paes_date",
    "settings_menu",
    "step_value",
    "toggle_weekday",
]
