"""Every message in the source has an Italian and an English catalog entry, placeholders intact;
the bot reads the catalogs as Babel, which writes them, does."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po

from bot.config import SUPPORTED_LANGUAGES
from bot.i18n import (
    catalog_files,
    format_datetime,
    normalize_language,
    pick_language,
    read_catalog,
    translator,
)
from bot.i18n_extract import source_messages

_PLACEHOLDER = re.compile(r"\{[a-z_0-9]*\}")
_TAG = re.compile(r"</?[a-z]+[^>]*>")


def _all_messages() -> list[tuple[str, str | tuple[str, str]]]:
    return [(d, m) for d, msgs in source_messages().items() for m in msgs]


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    tr = translator(language)
    missing = []
    for domain, message in _all_messages():
        if isinstance(message, tuple):
            forms = tr.plurals.get(message)
            if not forms or not all(forms):
                missing.append(f"{domain}: {message!r}")
        elif message not in tr.messages:
            missing.append(f"{domain}: {message!r}")
    assert not missing, f"{language} lacks {len(missing)} translations:\n" + "\n".join(missing)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_translations_keep_placeholders_and_tags(language: str) -> None:
    tr = translator(language)
    broken = []
    for _domain, message in _all_messages():
        if isinstance(message, tuple):
            pairs = list(zip(message, tr.plurals.get(message, ()), strict=False))
        else:
            pairs = [(message, tr.messages.get(message, message))]
        for source, target in pairs:
            if sorted(_PLACEHOLDER.findall(source)) != sorted(_PLACEHOLDER.findall(target)):
                broken.append(f"placeholders differ: {source!r} → {target!r}")
            if sorted(_TAG.findall(source)) != sorted(_TAG.findall(target)):
                broken.append(f"HTML tags differ: {source!r} → {target!r}")
    assert not broken, "\n".join(broken)


def test_language_choice() -> None:
    assert normalize_language("en-GB") == "en"
    assert normalize_language("de") is None
    assert pick_language(chosen=None, telegram_code="en-US", default="it") == "en"
    assert pick_language(chosen="it", telegram_code="en", default="it") == "it"
    assert pick_language(chosen=None, telegram_code="fr", default="it") == "it"


def test_italian_date_format() -> None:
    rome = ZoneInfo("Europe/Rome")
    when = datetime(2026, 12, 9, 16, 0, tzinfo=UTC)  # 17:00 in Rome
    assert format_datetime(when, rome, "it") == "mer 9 dic, 17:00"
    assert format_datetime(when, rome, "en") == "Wed 9 Dec, 17:00"
    assert format_datetime(when, rome, "it", year=True) == "mer 9 dic 2026, 17:00"


def _as_babel_reads(text: str) -> tuple[dict[str, str], dict[tuple[str, str], tuple[str, ...]]]:
    """What the bot took from a catalog when it read it with Babel (until session 6)."""
    messages: dict[str, str] = {}
    plurals: dict[tuple[str, str], tuple[str, ...]] = {}
    for msg in read_po(io.StringIO(text), locale="en"):
        if not msg.id or msg.fuzzy:
            continue
        if isinstance(msg.id, tuple | list):
            raw = msg.string if isinstance(msg.string, tuple | list) else (msg.string,)
            plurals[(str(msg.id[0]), str(msg.id[1]))] = tuple(str(s or "") for s in raw)
        elif msg.string:
            messages[str(msg.id)] = str(msg.string)
    return messages, plurals


@pytest.mark.parametrize(
    "path",
    [p for language in SUPPORTED_LANGUAGES for p in catalog_files(language)],
    ids=lambda p: f"{p.parent.parent.name}/{p.name}",
)
def test_the_bot_reads_each_catalog_as_babel_does(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    messages, plurals = read_catalog(text)
    assert messages  # not vacuous: every catalog holds translations
    assert (messages, plurals) == _as_babel_reads(text)


_HEADER = """msgid ""
msgstr ""
"Language: en\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"

"""


@pytest.mark.parametrize(
    "body",
    [
        # strings over several lines, the escapes Babel writes, a translator's comments
        """# translator comment
#: bot/handlers/x.py:12
#, python-brace-format
msgid ""
"Riga uno\\n"
"«{name}» dice \\"ciao\\"\\t\\\\ fine"
msgstr ""
"Line one\\n"
"«{name}» says \\"hi\\"\\t\\\\ end"
""",
        # fuzzy (alone and among other flags), untranslated, and obsolete entries are left out
        """#, fuzzy
msgid "Uno"
msgstr "One"

#, python-brace-format, fuzzy
msgid "Due {n}"
msgstr "Two {n}"

msgid "Tre"
msgstr ""

#~ msgid "Vecchio"
#~ msgstr "Old"

msgid "Quattro"
msgstr "Four"
""",
        # plurals, one with a form missing; a context; entries with no blank line between
        """msgid "{n} azione"
msgid_plural "{n} azioni"
msgstr[0] "{n} action"
msgstr[1] "{n} actions"
msgid "{n} voto"
msgid_plural "{n} voti"
msgstr[0] "{n} vote"
msgctxt "menu"
msgid "Apri"
msgstr "Open"
""",
        # an entry without its msgstr, and a plural without any form
        """msgid "Senza"
msgid "{n} riga"
msgid_plural "{n} righe"

msgid "Dopo"
msgstr "After"
""",
    ],
    ids=[
        "multiline-escapes",
        "fuzzy-untranslated-obsolete",
        "plurals-context-packed",
        "missing-msgstr",
    ],
)
def test_read_catalog_agrees_with_babel_on_the_edge_cases(body: str) -> None:
    text = _HEADER + body
    assert read_catalog(text) == _as_babel_reads(text)
    assert read_catalog(text) != ({}, {})


def test_read_catalog_keeps_only_translated_current_messages() -> None:
    text = _HEADER + (
        '#, fuzzy\nmsgid "Uno"\nmsgstr "One"\n\nmsgid "Tre"\nmsgstr ""\n\n'
        '#~ msgid "Vecchio"\n#~ msgstr "Old"\n\n'
        'msgid ""\n"Quattro\\n"\n"e \\"cinque\\""\nmsgstr "Four\\nand \\"five\\""\n\n'
        'msgid "{n} voto"\nmsgid_plural "{n} voti"\nmsgstr[0] "{n} vote"\n'
    )
    assert read_catalog(text) == (
        {'Quattro\ne "cinque"': 'Four\nand "five"'},
        {("{n} voto", "{n} voti"): ("{n} vote", "")},
    )
