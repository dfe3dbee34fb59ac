"""Plain keyboards (bot.views.keyboard) as python-telegram-bot markup, for direct answers, and
the handlers of their presses (`buttons`)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update, WebAppInfo
from telegram.ext import CallbackQueryHandler

from bot.callback_data import pattern
from bot.context import BotContext
from bot.views.keyboard import Button, Keyboard


def button(b: Button) -> InlineKeyboardButton:
    """One plain button as PTB's (for a keyboard still built with PTB's classes)."""
    if b.url is not None:
        return InlineKeyboardButton(b.text, url=b.url)
    if b.web_app is not None:
        return InlineKeyboardButton(b.text, web_app=WebAppInfo(b.web_app))
    return InlineKeyboardButton(b.text, callback_data=b.data)


def markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    if keyboard is None:
        return None
    return InlineKeyboardMarkup([[button(b) for b in row] for row in keyboard.rows])


PressCallback = Callable[[Update, BotContext], Coroutine[Any, Any, None]]
Verbs = str | tuple[str, ...]


def buttons(
    area: str, families: Mapping[Verbs, PressCallback]
) -> list[CallbackQueryHandler[Any, Any]]:
    """One area's press handlers as a table: each verb (or tuple of verbs: one button family;
    "" for the whole area) to the callback that answers its presses, in the table's order."""
    return [
        CallbackQueryHandler(callback, pattern=pattern(area, *_verbs(verbs)))
        for verbs, callback in families.items()
    ]


def _verbs(verbs: Verbs) -> tuple[str, ...]:
    if isinstance(verbs, tuple):
        return verbs
    return (verbs,) if verbs else ()
