"""Roles and «coordinatore» in the form each person chose (Sindaca / Sindaco…).

A person chooses once (joining's role buttons, or /profilo); until then, and for a group of
people, the masculine forms stand, as Italian does (docs/GLOSSARY.md).
"""

from __future__ import annotations

from bot.i18n import N_, Translator
from storage.models import Form, Role

ROLE_LABELS = {
    Role.SINDACO: N_("Sindaco"),
    Role.ASSESSORE: N_("Assessore"),
    Role.TECNICO: N_("Funzionario tecnico"),
    Role.STAFF: N_("Personale dell'Unione"),
}
ROLE_LABELS_FEMININE = {
    Role.SINDACO: N_("Sindaca"),
    Role.ASSESSORE: N_("Assessora"),
    Role.TECNICO: N_("Funzionaria tecnica"),
    Role.STAFF: N_("Personale dell'Unione"),
}
COORDINATOR = N_("coordinatore")
COORDINATOR_FEMININE = N_("coordinatrice")
# Short codes of the forms in callback data (joining's role buttons, /profilo).
FORM_SHORT = {Form.FEMININE: "f", Form.MASCULINE: "m"}
FORM_FROM_SHORT = {v: k for k, v in FORM_SHORT.items()}


def role_label(role: str, tr: Translator, form: Form | None = None) -> str:
    """«Sindaca» or «Sindaco»: the role in the person's form (masculine when not chosen)."""
    labels = ROLE_LABELS_FEMININE if form == Form.FEMININE else ROLE_LABELS
    return tr.gettext(labels[Role(role)])


def coordinator_word(tr: Translator, form: Form | None = None) -> str:
    """«coordinatrice» or «coordinatore», lower case (capitalise at the start of a line)."""
    return tr.gettext(COORDINATOR_FEMININE if form == Form.FEMININE else COORDINATOR)


def capitalised(word: str) -> str:
    return word[:1].upper() + word[1:]
