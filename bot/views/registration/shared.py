"""What the registration views share: callback areas, labels of roles and tables, names."""

from __future__ import annotations

import html
from collections.abc import Sequence

from bot import callback_data as cb
from bot.i18n import N_, Translator
from bot.views.keyboard import Button
from bot.views.names import person_name
from bot.views.roles import ROLE_LABELS, role_label
from storage.models import Role, TableKind
from storage.repositories.people import ShownName

__all__ = ["ROLE_LABELS", "role_label"]  # re-exported for the registration views

# Callback areas (docs/HACKING.md); each handler registers its verbs with cb.pattern.
REG, APPR, COM, INV, TEAM, LINK, MBR, DEL = (
    "reg",
    "appr",
    "com",
    "inv",
    "team",
    "link",
    "mbr",
    "del",
)

ROLE_ICONS = {
    Role.SINDACO: "🏛",
    Role.ASSESSORE: "🏛",
    Role.TECNICO: "🛠",
    Role.STAFF: "•",
}
TABLE_LABELS = {
    TableKind.POLITICAL: N_("Tavolo politico"),
    TableKind.TECHNICAL: N_("Tavolo tecnico"),
}
# Short codes for callback data (64 bytes go fast); handlers decode them with the maps below.
ROLE_SHORT = {Role.SINDACO: "s", Role.ASSESSORE: "a", Role.TECNICO: "t", Role.STAFF: "u"}
ROLE_FROM_SHORT = {v: k for k, v in ROLE_SHORT.items()}
ANY_ROLE = "x"  # an invite for any role
TABLE_SHORT = {TableKind.POLITICAL: "p", TableKind.TECHNICAL: "t"}
TABLE_FROM_SHORT = {v: k for k, v in TABLE_SHORT.items()}
# Telegram allows 100 buttons in a keyboard; keep room for the rest.
MAX_LISTED_BUTTONS = 90


# Inside a sentence: «il {table}» (the glossary's lower case).
TABLE_WORDS = {
    TableKind.POLITICAL: N_("tavolo politico"),
    TableKind.TECHNICAL: N_("tavolo tecnico"),
}


def table_label(table: TableKind, tr: Translator) -> str:
    return tr.gettext(TABLE_LABELS[table])


def table_word(table: TableKind, tr: Translator) -> str:
    return tr.gettext(TABLE_WORDS[table])


def esc(value: str | None) -> str:
    return html.escape(value or "")


def name_of(name: ShownName, tr: Translator) -> str:
    """A person's name, escaped; «ex membro» in the reader's language once they left."""
    return esc(person_name(name, tr))


def button(text: str, area: str, verb: str, *args: object) -> Button:
    return Button(text, data=cb.encode(area, verb, *args))


def rows_of(buttons: Sequence[Button], width: int = 2) -> list[list[Button]]:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
