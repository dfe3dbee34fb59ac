"""How storage hands out a person's name: the name, or FORMER_MEMBER for someone who left.

/cancellami clears the person row's name (storage.repositories.registration.erase_person) and
writes no word in its place: every text that names a person reads the person row when it is
made, and a reader sees «ex membro», in their own language, where `shown_name` gives
FORMER_MEMBER (bot.services.summaries.summary.person_name).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Final, TypeAlias

from storage.models import Person


class Former(enum.Enum):
    MEMBER = "former member"


FORMER_MEMBER: Final = Former.MEMBER
# A person's name as a text shows it: their name, or FORMER_MEMBER once they left.
ShownName: TypeAlias = str | Former


def shown_name(person: Person | None) -> ShownName:
    """The person's name; FORMER_MEMBER once erased (or when the row is gone)."""
    if person is None:
        return FORMER_MEMBER
    return name_of(person.display_name, person.erased_at)


def name_of(display_name: str | None, erased_at: datetime | None) -> ShownName:
    """`shown_name` from the person row's two columns (a read of columns, not of the row); both
    None: no person row."""
    if erased_at is not None or display_name is None:
        return FORMER_MEMBER
    return display_name


class ErasedPersonError(LookupError):
    """An erased person where only people still in a team can be."""


def present_name(person: Person) -> str:
    """The name of someone still in a team: an active or pending member, a coordinator, the
    person writing to the bot. /cancellami ends every membership and drops the Telegram id, so
    an erased person never reaches these; if one did, that is a bug to see, not to print."""
    if person.display_name is None or person.erased_at is not None:
        raise ErasedPersonError(f"person {person.id} was erased")
    return person.display_name
