"""Translations from gettext catalogs (.po), chosen per update, and Italian-style dates.

Source strings are Italian. Each source module has its own catalog file
`bot/locales/<lang>/LC_MESSAGES/<module>.po` (so parallel work never collides); all files of a
language are merged at start. Translate first, format after:
`_("Ciao, {name}!").format(name=...)`, never an f-string inside `_()`.

The bot reads the catalogs with `read_catalog` below, not with Babel: Babel's reader builds a
Catalog of Message objects and imports Babel's locale machinery, 0.8 MB more at the bot's peak
(bench/README.md, "Session 6"). Babel still writes them (`python -m bot.i18n_extract`), and a
test checks that both readers see the same catalogs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import SUPPORTED_LANGUAGES
from bot.i18n_marker import N_ as N_  # the marker, also for modules that must import light

logger = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
PLURAL_FORMS = 2  # Italian and English: one, other (Translator.ngettext)


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


_PO_LINE = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+(".*")$')
_PO_ESCAPE = re.compile(r'\\([\\abfnrtv"])')
_PO_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _po_string(quoted: str) -> str:
    return _PO_ESCAPE.sub(lambda m: _PO_ESCAPES.get(m.group(1), m.group(1)), quoted[1:-1])


def _po_entries(text: str) -> Iterator[tuple[dict[str, str], bool]]:
    """Each entry of a .po file as {keyword: string} (msgid, msgid_plural, msgstr,
    msgstr[0], …), with whether it is marked fuzzy. Obsolete entries (#~) are comments."""
    entry: dict[str, str] = {}
    fuzzy = flagged_fuzzy = False
    key: str | None = None
    for line in (raw.strip() for raw in text.splitlines()):
        if line.startswith('"'):
            if key is not None:  # a continuation of the keyword's string
                entry[key] += _po_string(line)
            continue
        key = None
        if line.startswith("#,"):
            flagged_fuzzy = "fuzzy" in {flag.strip() for flag in line[2:].split(",")}
        elif match := _PO_LINE.match(line):
            key = match.group(1)
            if (key == "msgctxt" and entry) or (key == "msgid" and "msgid" in entry):
                yield entry, fuzzy
                entry = {}
            if not entry:  # the flags above an entry belong to it
                fuzzy, flagged_fuzzy = flagged_fuzzy, False
            entry[key] = _po_string(match.group(2))
    if entry:
        yield entry, fuzzy


def read_catalog(text: str) -> tuple[dict[str, str], dict[tuple[str, str], tuple[str, ...]]]:
    """The translated messages and plural forms of one .po file, as Babel's reader gives them
    (a test compares the two on every catalog): the header and fuzzy and untranslated
    messages are left out; a message context is not used."""
    messages: dict[str, str] = {}
    plurals: dict[tuple[str, str], tuple[str, ...]] = {}
    for entry, fuzzy in _po_entries(text):
        msgid = entry.get("msgid", "")
        if not msgid or fuzzy:
            continue
        if "msgid_plural" in entry:
            forms = {int(k[7:-1]): v for k, v in entry.items() if k.startswith("msgstr[")}
            count = max([PLURAL_FORMS, *(i + 1 for i in forms)])
            plurals[(msgid, entry["msgid_plural"])] = tuple(forms.get(i, "") for i in range(count))
        elif entry.get("msgstr"):
            messages[msgid] = entry["msgstr"]
    return messages, plurals


@cache
def translator(language: str) -> Translator:
    messages: dict[str, str] = {}
    plurals: dict[tuple[str, str], tuple[str, ...]] = {}
    for path in catalog_files(language):
        file_messages, file_plurals = read_catalog(path.read_text(encoding="utf-8"))
        messages.update(file_messages)
        plurals.update(file_plurals)
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
