"""Every message in the source has an Italian and an English catalog entry, placeholders intact."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.config import SUPPORTED_LANGUAGES
from bot.i18n import format_datetime, normalize_language, pick_language, translator
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
