"""Plain keyboards (bot.views.keyboard) as python-telegram-bot markup, for direct answers."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

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
