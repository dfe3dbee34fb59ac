"""A person's name as a reader sees it: «ex membro» (in the reader's language) for one who left.

Storage hands out a name or FORMER_MEMBER (storage.repositories.people.shown_name); the word is
never stored: the erased person row is what says it.
"""

from __future__ import annotations

from bot.i18n import N_, Translator
from storage.repositories.people import FORMER_MEMBER, ShownName

# What a reader sees for a person who left with /cancellami: the author of a note, a voter,
# who asked a question.
FORMER_MEMBER_WORD = N_("ex membro")


def person_name(name: ShownName, tr: Translator) -> str:
    """A person's name as the reader sees it: one who left reads «ex membro», «former member»
    in English. The word is never stored: the erased person row is what says it."""
    return tr.gettext(FORMER_MEMBER_WORD) if name is FORMER_MEMBER else name
