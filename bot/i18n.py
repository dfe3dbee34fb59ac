"""Translations from gettext catalogs (.po), chosen per update, and Italian-style dates.

Source strings are Italian. Each source module has its own catalog file
`bot/locales/<lang>/LC_MESSAGES/<module>.po` (so parallel work never collides); all files of a
language are merged at start. Translate first, format after:
`_("Ciao, {name}!").format(name=...)`, never an f-string inside `_()`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.pofile import read_po

from bot.config import SUPPORTED_LANGUAGES

logger = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).resolve().parent / "locales"


def N_(message: str) -> str:
    """Marks a string for extraction without translating it (translate later with `_`)."""
    return message


@dataclass(frozen=True)
class Translator:
    language: str
    messages: dict[str, str]
    plurals: dict[tuple[str, str], tuple[str, ...]]

    def gettext(self, message: str) -> str:
        return self.messages.get(message) or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        forms = self.plurals.get((singular, plural))
        index = 0 if n == 1 else 1  # Italian and English share this rule
        if forms and len(forms) > index and forms[index]:
            return forms[index]
        return singular if n == 1 else plural

    # Short aliases for handler code: `_ = tr._`
    _ = gettext


def catalog_files(language: str) -> list[Path]:
    return sorted((LOCALES_DIR / language / "LC_MESSAGES").glob("*.po"))


@cache
def translator(language: str) -> Translator:
    messages: dict[str, str] = {}
    plurals: dict[tuple[str, str], tuple[str, ...]] = {}
    for path in catalog_files(language):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=language)
        for msg in catalog:
            if not msg.id or msg.fuzzy:
                continue
            if isinstance(msg.id, tuple | list):
                raw = msg.string if isinstance(msg.string, tuple | list) else (msg.string,)
                plurals[(str(msg.id[0]), str(msg.id[1]))] = tuple(str(s or "") for s in raw)
            elif msg.string:
                messages[str(msg.id)] = str(msg.string)
    return Translator(language=language, messages=messages, plurals=plurals)


def normalize_language(code: str | None) -> str | None:
    """'en-GB' → 'en'; unsupported or empty → None."""
    if not code:
        return None
    base = code.replace("_", "-").split("-", 1)[0].lower()
    return base if base in SUPPORTED_LANGUAGES else None


def pick_language(*, chosen: str | None, telegram_code: str | None, default: str) -> str:
    """Stored preference, then the Telegram client's language, then the default."""
    return normalize_language(chosen) or normalize_language(telegram_code) or default


# --- dates, Italian style: "mar 9 dic, 17:00" ---------------------------------------------

_WEEKDAYS = {
    "it": ("lun", "mar", "mer", "gio", "ven", "sab", "dom"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
_MONTHS = {
    "it": ("gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}
_MONTHS_LONG = {
    "it": (
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def _lang(language: str) -> str:
    return language if language in _WEEKDAYS else "it"


def format_date(dt: datetime, tz: ZoneInfo, language: str, *, year: bool = False) -> str:
    """'mar 9 dic' (or 'mar 9 dic 2026')."""
    local = dt.astimezone(tz)
    lang = _lang(language)
    text = f"{_WEEKDAYS[lang][local.weekday()]} {local.day} {_MONTHS[lang][local.month - 1]}"
    return f"{text} {local.year}" if year else text


def format_datetime(dt: datetime, tz: ZoneInfo, language: str, *, year: bool = False) -> str:
    """'mar 9 dic, 17:00' in the Union's time zone."""
    local = dt.astimezone(tz)
    return f"{format_date(dt, tz, language, year=year)}, {local:%H:%M}"


def format_month(year: int, month: int, language: str) -> str:
    """'dicembre 2026'."""
    return f"{_MONTHS_LONG[_lang(language)][month - 1]} {year}"
