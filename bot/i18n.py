"""Translations from compiled gettext catalogs, chosen per update, and Italian-style dates.

Source strings are Italian. The catalogs' source of truth is one .po file per source module
and language, `bot/locales/<lang>/LC_MESSAGES/<module>.po` (so parallel work never collides);
`python -m scripts.i18n_extract` rewrites them from the source and compiles each language's
files into one `team_energia.mo` beside them, which the bot reads with the standard
library's `gettext` (docs/HACKING.md, "Texts"). Translate first, format after:
`_("Ciao, {name}!").format(name=...)`, never an f-string inside `_()`.
"""

from __future__ import annotations

import gettext
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import SUPPORTED_LANGUAGES
from bot.i18n_marker import N_ as N_  # the marker, also for modules that must import light

logger = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "team_energia"  # LC_MESSAGES/team_energia.mo, compiled from the .po files beside it


@dataclass(frozen=True, slots=True)
class Translator:
    """One language's messages. A message without a translation stays as written (Italian)."""

    language: str
    translations: gettext.NullTranslations

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    # Short aliases for handler code: `_ = tr._`
    _ = gettext


def compiled_catalog_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"


@cache
def translator(language: str) -> Translator:
    try:
        with compiled_catalog_path(language).open("rb") as fh:
            translations: gettext.NullTranslations = gettext.GNUTranslations(fh)
    except FileNotFoundError:
        # A broken install: the users of this language read the Italian source texts.
        logger.error("No compiled catalog for %r: run python -m scripts.i18n_extract", language)
        translations = gettext.NullTranslations()
    return Translator(language=language, translations=translations)


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
