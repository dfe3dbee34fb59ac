"""The bot's one splitter now lives with the texts, bot.views.html_split: views sit below services
and split what they render (the roster). These names stay here for today's importers."""

from bot.views.html_split import (
    ROW_SEPARATOR,
    SECTION_SEPARATOR,
    TELEGRAM_LIMIT,
    plain_text,
    split_row,
    split_sections,
    split_text,
    telegram_length,
)

__all__ = [
    "ROW_SEPARATOR",
    "SECTION_SEPARATOR",
    "TELEGRAM_LIMIT",
    "plain_text",
    "split_row",
    "split_sections",
    "split_text",
    "telegram_length",
]
