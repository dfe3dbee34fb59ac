"""Find translatable strings in the source: calls of `_`, `gettext`, `N_`, `ngettext`.

Used by `python -m bot.i18n_extract` (refresh the catalogs) and by the catalog test.
"""

from __future__ import annotations

import ast
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from bot.config import SUPPORTED_LANGUAGES
from bot.i18n import LOCALES_DIR

BOT_DIR = Path(__file__).resolve().parent
SOURCE_LANGUAGE = "it"
_SINGULAR_FUNCS = {"_", "gettext", "N_"}
_PLURAL_FUNCS = {"ngettext"}

Message = str | tuple[str, str]
# Fixed header dates keep the catalogs' diffs to the strings that changed.
_STABLE_DATE = datetime(2026, 11, 26, tzinfo=UTC)


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
            catalog = Catalog(
                locale=language,
                project="team-energia",
                domain=domain,
                creation_date=_STABLE_DATE,
                revision_date=_STABLE_DATE,
                fuzzy=False,
            )
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


def add_translations(language: str, domain: str, translations: dict[str, str]) -> int:
    """Fill msgstr for the given msgids of one catalog; returns how many were set."""
    path = catalog_path(language, domain)
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    count = 0
    for message in catalog:
        if isinstance(message.id, str) and message.id in translations:
            message.string = translations[message.id]
            count += 1
    with path.open("wb") as fh:
        write_po(fh, catalog, width=0, sort_output=False)
    return count


if __name__ == "__main__":
    # python -m bot.i18n_extract                       refresh catalogs, list what lacks English
    # python -m bot.i18n_extract en DOMAIN file.json   set translations {"italiano": "English"}
    if len(sys.argv) == 4:
        with open(sys.argv[3], encoding="utf-8") as fh:
            print(add_translations(sys.argv[1], sys.argv[2], json.load(fh)), "translations set")
    still_missing = sync()
    for line in still_missing:
        print("missing English:", line)
    sys.exit(1 if still_missing else 0)
