"""The language of someone the bot writes to unprompted (a message a use case queues).

The rule of `bot.scope.tr_for` for a stored person, without the update: their chosen
language, else the language of their Telegram app as last seen, else the instance default.
"""

from __future__ import annotations

from bot.i18n import Translator, pick_language, translator
from storage.models import Person


def reader_translator(person: Person, *, default_language: str) -> Translator:
    return translator(
        pick_language(
            chosen=person.language,
            telegram_code=person.telegram_language,
            default=default_language,
        )
    )
