"""Every message in the source has an Italian and an English translation, placeholders intact;
the compiled catalogs the bot reads (gettext .mo) hold exactly what the .po files say."""

from __future__ import annotations

import gettext
import io
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.mofile import read_mo

from bot.config import SUPPORTED_LANGUAGES
from bot.i18n import (
    compiled_catalog_path,
    format_datetime,
    normalize_language,
    pick_language,
    translator,
)
from scripts.i18n_extract import compiled_catalog, compiled_messages, source_messages

_PLACEHOLDER = re.compile(r"\{[a-z_0-9]*\}")
_TAG = re.compile(r"</?[a-z]+[^>]*>")
_RUN_THE_TOOL = "run python -m scripts.i18n_extract and commit what it writes"


def _all_messages() -> list[tuple[str, str | tuple[str, str]]]:
    return [(d, m) for d, msgs in source_messages().items() for m in msgs]


def _shipped(language: str) -> dict[object, object]:
    """The compiled catalog the bot reads, as (message → translation)."""
    return compiled_messages(compiled_catalog_path(language).read_bytes())


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_the_compiled_catalog_matches_the_po_files(language: str) -> None:
    """The .po files are the source of truth; the .mo beside them must say the same."""
    assert compiled_catalog_path(language).exists(), _RUN_THE_TOOL
    expected = compiled_messages(compiled_catalog(language))
    assert len(expected) > 100  # not vacuous
    assert _shipped(language) == expected, f"{language}: the .mo is out of date: {_RUN_THE_TOOL}"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    shipped = _shipped(language)
    missing = []
    for domain, message in _all_messages():
        translation = shipped.get(message)
        if isinstance(message, tuple):
            if not isinstance(translation, tuple) or len(translation) != 2 or not all(translation):
                missing.append(f"{domain}: {message!r}")
        elif not translation:
            missing.append(f"{domain}: {message!r}")
    assert not missing, f"{language} lacks {len(missing)} translations:\n" + "\n".join(missing)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_translations_keep_placeholders_and_tags(language: str) -> None:
    shipped = _shipped(language)
    broken = []
    for _domain, message in _all_messages():
        translation = shipped.get(message, message)
        sources = message if isinstance(message, tuple) else (message,)
        targets = translation if isinstance(translation, tuple) else (translation,)
        for source, target in zip(sources, targets, strict=False):
            assert isinstance(target, str)
            if sorted(_PLACEHOLDER.findall(source)) != sorted(_PLACEHOLDER.findall(target)):
                broken.append(f"placeholders differ: {source!r} → {target!r}")
            if sorted(_TAG.findall(source)) != sorted(_TAG.findall(target)):
                broken.append(f"HTML tags differ: {source!r} → {target!r}")
    assert not broken, "\n".join(broken)


def test_the_bot_translates_with_the_compiled_catalogs() -> None:
    en, it = translator("en"), translator("it")
    assert isinstance(en.translations, gettext.GNUTranslations)
    assert en.gettext("Unione") == "Union"
    assert it.gettext("Unione") == "Unione"
    assert en.ngettext("{n} azione", "{n} azioni", 1) == "{n} action"
    assert en.ngettext("{n} azione", "{n} azioni", 3) == "{n} actions"
    assert it.ngettext("{n} azione", "{n} azioni", 1_000_000) == "{n} azioni"  # one, other
    assert en.gettext("Nessun messaggio con questo testo") == "Nessun messaggio con questo testo"


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


_HEADER = """msgid ""
msgstr ""
"Language: en\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"

"""


def _compiled_from(tmp_path: Path, *files: str) -> gettext.GNUTranslations:
    for n, body in enumerate(files):
        (tmp_path / f"module{n}.po").write_text(_HEADER + body, encoding="utf-8")
    return gettext.GNUTranslations(io.BytesIO(compiled_catalog("en", tmp_path)))


def test_the_compiler_keeps_only_current_translated_messages(tmp_path: Path) -> None:
    t = _compiled_from(
        tmp_path,
        """# translator comment
#, python-brace-format
msgid ""
"Riga uno\\n"
"«{name}» dice \\"ciao\\"\\t\\\\ fine"
msgstr ""
"Line one\\n"
"«{name}» says \\"hi\\"\\t\\\\ end"

#, python-brace-format, fuzzy
msgid "Due {n}"
msgstr "Two {n}"

msgid "Tre"
msgstr ""

#~ msgid "Vecchio"
#~ msgstr "Old"

msgid "{n} azione"
msgid_plural "{n} azioni"
msgstr[0] "{n} action"
msgstr[1] "{n} actions"

msgid "{n} voto"
msgid_plural "{n} voti"
msgstr[0] "{n} vote"
msgstr[1] ""
""",
    )
    assert t.gettext('Riga uno\n«{name}» dice "ciao"\t\\ fine') == (
        'Line one\n«{name}» says "hi"\t\\ end'
    )
    assert t.gettext("Due {n}") == "Due {n}"  # fuzzy: left out
    assert t.gettext("Tre") == "Tre"  # untranslated
    assert t.gettext("Vecchio") == "Vecchio"  # obsolete
    assert [t.ngettext("{n} azione", "{n} azioni", n) for n in (1, 2)] == [
        "{n} action",
        "{n} actions",
    ]
    # A missing plural form reads as the source's
    assert [t.ngettext("{n} voto", "{n} voti", n) for n in (1, 2)] == ["{n} vote", "{n} voti"]


def test_the_compiler_merges_the_modules_catalogs_the_later_file_winning(tmp_path: Path) -> None:
    t = _compiled_from(
        tmp_path,
        'msgid "Apri"\nmsgstr "Open"\n\nmsgid "Chiudi"\nmsgstr "Close"\n',
        'msgid "Apri"\nmsgstr "Open it"\n',
    )
    assert (t.gettext("Apri"), t.gettext("Chiudi")) == ("Open it", "Close")
    mo = read_mo(io.BytesIO(compiled_catalog("en", tmp_path)))
    assert mo.plural_forms == "nplurals=2; plural=(n != 1);"
