"""The translators' tool: catalogs from the source, compiled for the bot. A developer's tool
(it writes with Babel, a dev dependency), kept out of the shipped packages.

    python -m scripts.i18n_extract                       # after changing strings
    python -m scripts.i18n_extract en DOMAIN file.json   # set translations {"italiano": "English"}

It finds the translatable strings in bot/ (calls of `_`, `gettext`, `N_`, `ngettext`), rewrites
one .po catalog per source module and language (`bot/locales/<lang>/LC_MESSAGES/<module>.po`,
the source of truth: translators and merges work on these), compiles each language's catalogs
into the one `team_energia.mo` the bot reads with the standard library's gettext (bot.i18n),
and lists the English strings still missing. tests/unit/test_i18n.py checks that the compiled
catalogs match the .po files: after a merge that touched a .po (or a conflict in a .mo), run
the tool and commit what it writes.
"""

from __future__ import annotations

import ast
import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

from bot.config import SUPPORTED_LANGUAGES
from bot.i18n import DOMAIN, LOCALES_DIR, compiled_catalog_path

BOT_DIR = LOCALES_DIR.parent
SOURCE_LANGUAGE = "it"
_SINGULAR_FUNCS = {"_", "gettext", "N_"}
_PLURAL_FUNCS = {"ngettext"}

Message = str | tuple[str, str]
# Fixed header dates keep the catalogs' diffs to the strings that changed.
_STABLE_DATE = datetime(2026, 11, 26, tzinfo=UTC)
# Italian and English alike: one, other. (Babel 2.19's CLDR data gives Italian a third form for
# exact millions, «1 milione di…», which no message of ours needs.)
PLURAL_FORMS = "nplurals=2; plural=(n != 1);"


def _new_catalog(language: str, domain: str) -> Catalog:
    catalog = Catalog(
        locale=language,
        project="team-energia",
        domain=domain,
        creation_date=_STABLE_DATE,
        revision_date=_STABLE_DATE,
        fuzzy=False,
    )
    catalog.mime_headers = [("Plural-Forms", PLURAL_FORMS)]
    return catalog


def _func_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def extract_file(path: Path) -> list[Message]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Message] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _func_name(node)
        args = node.args
        if name in _SINGULAR_FUNCS and args and isinstance(args[0], ast.Constant):
            if isinstance(args[0].value, str):
                found.append(args[0].value)
        elif (
            name in _PLURAL_FUNCS
            and len(args) >= 2
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args[:2])
        ):
            found.append((str(args[0].value), str(args[1].value)))  # type: ignore[attr-defined]
    return list(dict.fromkeys(found))


def domain_of(path: Path) -> str:
    """bot/handlers/meetings.py → 'handlers.meetings'."""
    rel = path.resolve().relative_to(BOT_DIR).with_suffix("")
    return ".".join(rel.parts)


def source_messages() -> dict[str, list[Message]]:
    result: dict[str, list[Message]] = {}
    for path in sorted(BOT_DIR.rglob("*.py")):
        messages = extract_file(path)
        if messages:
            result[domain_of(path)] = messages
    return result


def catalog_path(language: str, domain: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{domain}.po"


def sync() -> list[str]:
    """Rewrite every catalog from the source; returns the English strings still missing."""
    missing: list[str] = []
    domains = source_messages()
    for language in SUPPORTED_LANGUAGES:
        folder = LOCALES_DIR / language / "LC_MESSAGES"
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.po"):
            if stale.stem not in domains:
                stale.unlink()
        for domain, messages in domains.items():
            path = catalog_path(language, domain)
            old: dict[Message, object] = {}
            if path.exists():
                with path.open("rb") as fh:
                    for m in read_po(fh, locale=language):
                        if m.id:
                            old[m.id if isinstance(m.id, str) else (m.id[0], m.id[1])] = m.string
            catalog = _new_catalog(language, domain)
            for msg in messages:
                previous = old.get(msg)
                if language == SOURCE_LANGUAGE:
                    string: object = previous or msg
                else:
                    string = previous or ("" if isinstance(msg, str) else ("", ""))
                    if not string or string == ("", ""):
                        missing.append(f"{domain}: {msg!r}")
                catalog.add(msg, string=string)  # type: ignore[arg-type]
            with path.open("wb") as fh:
                write_po(fh, catalog, width=0, omit_header=False, sort_output=False)
    return missing


def add_translations(language: str, domain: str, translations: dict[str, Any]) -> int:
    """Fill msgstr for the given msgids of one catalog; returns how many were set. A plural is
    keyed by its singular msgid, its value the list of forms."""
    path = catalog_path(language, domain)
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    count = 0
    for message in catalog:
        if isinstance(message.id, str) and message.id in translations:
            message.string = translations[message.id]
            count += 1
        elif isinstance(message.id, tuple) and isinstance(translations.get(message.id[0]), list):
            message.string = tuple(translations[message.id[0]])
            count += 1
    with path.open("wb") as fh:
        write_po(fh, catalog, width=0, sort_output=False)
    return count


def compiled_catalog(language: str, folder: Path | None = None) -> bytes:
    """The .mo of one language: every .po of its folder merged (a message in two files: the
    later file's translation, in name order), fuzzy, untranslated and obsolete entries left
    out (write_mo), a plural's missing form shown as the source's. The header is fixed, so the
    bytes change only when a translation does."""
    folder = folder or LOCALES_DIR / language / "LC_MESSAGES"
    merged: dict[Message, object] = {}
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as fh:
            for message in read_po(fh, locale=language):
                if not message.id or message.fuzzy:
                    continue
                key = message.id if isinstance(message.id, str) else tuple(message.id)
                merged.pop(key, None)  # moved to the end: the later file wins
                merged[key] = message.string  # type: ignore[index]
    catalog = _new_catalog(language, DOMAIN)
    for key, string in merged.items():
        catalog.add(key, string=string)  # type: ignore[arg-type]
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def compiled_messages(data: bytes) -> dict[object, object]:
    """What a compiled catalog holds: its translations and its plural rule (the rest of its
    header, e.g. the Babel version that wrote it, does not count)."""
    catalog = read_mo(io.BytesIO(data))
    messages: dict[object, object] = {
        (m.id if isinstance(m.id, str) else tuple(m.id)): (
            m.string if isinstance(m.string, str) else tuple(m.string)
        )
        for m in catalog
        if m.id
    }
    messages["Plural-Forms"] = catalog.plural_forms
    return messages


def compile_catalogs() -> list[Path]:
    """Write each language's compiled catalog when its translations changed; returns those
    written."""
    written = []
    for language in SUPPORTED_LANGUAGES:
        path = compiled_catalog_path(language)
        data = compiled_catalog(language)
        if not path.exists() or compiled_messages(path.read_bytes()) != compiled_messages(data):
            path.write_bytes(data)
            written.append(path)
    return written


def main(argv: list[str]) -> int:
    """Refresh the catalogs from the source (with translations from a json file first, when
    given), compile them, list what lacks English: exit status 1 when something does."""
    if len(argv) == 3:
        language, domain, translations = argv
        with open(translations, encoding="utf-8") as fh:
            print(add_translations(language, domain, json.load(fh)), "translations set")
    elif argv:
        print(__doc__, file=sys.stderr)
        return 2
    still_missing = sync()
    for path in compile_catalogs():
        print("compiled", path.relative_to(BOT_DIR.parent))
    for line in still_missing:
        print("missing English:", line)
    return 1 if still_missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
