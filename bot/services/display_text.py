"""Names people read: what the bot keeps of a typed or Telegram-given name, and when there is none.

A name is shown to other people (the roster, a summary, a request to the coordinator), so what
is stored must look like what it is. Telegram lets a name be made of characters that show
nothing (U+3164 HANGUL FILLER «ㅤ», zero-width spaces, a lone combining accent) or that turn
the text around it (U+202E RIGHT-TO-LEFT OVERRIDE makes «Mario‮ossoR» read «Mario Rosso»
backwards and flips whatever follows it on the line). `clean_display_text` removes those,
and `has_visible_text` says whether anything readable is left.

Plain functions: no Telegram, no database.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Protocol

from bot.i18n import N_
from bot.views.names import FORMER_MEMBER_WORD, person_name

# The name of someone whose Telegram name shows nothing and who has no @username.
NAMELESS = N_("Membro senza nome")

__all__ = [
    "FORMER_MEMBER_WORD",
    "NAMELESS",
    "clean_display_text",
    "has_visible_text",
    "person_name",
    "telegram_display_name",
]


# Characters that render as blank space although Unicode calls them letters (Lo): Hangul
# fillers. With the format characters (Cf) below they are the "default ignorable" code points a
# name can be made of and still look empty (Unicode DerivedCoreProperties, Default_Ignorable).
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
# Ignorable code points that are not of category Cf: the combining grapheme joiner, the
# Khmer inherent vowels, the Mongolian free variation selectors and the variation selectors.
_IGNORABLE = frozenset(
    "\u034f\u17b4\u17b5\u180b\u180c\u180d\u180f"
    + "".join(chr(c) for c in range(0xFE00, 0xFE10))
    + "".join(chr(c) for c in range(0xE0100, 0xE01F0))
)
_SPACES = re.compile(r"\s+")


def _kept(ch: str) -> str:
    """One character as stored: '' (dropped), ' ' (a space of any kind), or itself."""
    if ch in _BLANK_LETTERS:
        return " "
    if ch in _IGNORABLE:
        return ""
    category = unicodedata.category(ch)
    if category in ("Zs", "Zl", "Zp") or ch in "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85":
        return " "
    # Cf: format characters, among them every bidi control (LRE, RLE, PDF, LRO, RLO, LRI, RLI,
    # FSI, PDI, LRM, RLM, ALM), zero-width spaces and joiners, the BOM, the tag characters.
    # Cc: other control characters. Cs: lone surrogates (not text; PostgreSQL refuses them).
    if category in ("Cf", "Cc", "Cs"):
        return ""
    return ch


def clean_display_text(raw: str) -> str:
    """What the bot stores of a name: NFC, without format, control and bidi characters (Cf,
    Cc), every run of spaces (of any kind, including the Hangul filler «ㅤ») one plain space,
    trimmed. It may come out empty: see `has_visible_text`."""
    text = unicodedata.normalize("NFC", raw)
    text = _SPACES.sub(" ", "".join(_kept(ch) for ch in text)).strip()
    # A combining mark left at the start (its base was a removed character) marks nothing.
    while text and unicodedata.category(text[0]) in ("Mn", "Me", "Mc"):
        text = text[1:].lstrip()
    return unicodedata.normalize("NFC", text)


def has_visible_text(text: str) -> bool:
    """True when the text has at least one letter or digit that shows (not a Hangul filler)."""
    return any(
        unicodedata.category(ch)[0] in ("L", "N") and ch not in _BLANK_LETTERS for ch in text
    )


class TelegramUserName(Protocol):
    """What a Telegram user (telegram.User) tells of their name."""

    @property
    def first_name(self) -> str: ...
    @property
    def last_name(self) -> str | None: ...
    @property
    def username(self) -> str | None: ...


def telegram_display_name(user: TelegramUserName, *, nameless: str) -> str:
    """The name to show for a Telegram user: their first and last name, cleaned; when nothing
    readable is left, their @username; without one, `nameless` (the reader's translation of
    NAMELESS, «Membro senza nome»). A person confirms or changes the name when joining a Union."""
    name = clean_display_text(" ".join(p for p in (user.first_name, user.last_name) if p))
    if has_visible_text(name):
        return name
    username = clean_display_text(user.username or "")
    if has_visible_text(username):
        return "@" + username
    return nameless
