"""A user's retry is not a second decision, note or announcement.

Telegram has no idempotency key and people retry: after an error message, after a reply that
did not arrive, after a double send. A new update id is a new update to us (the update id guards
only against redelivery), so the same text sent again is recognised by its content: the same
person, in the same Union, with the same text once normalised (Unicode NFKC, case, whitespace),
within REPEAT_WINDOW of the first. The bot then answers that it is already recorded and points
at the existing one instead of storing it twice.

Ten minutes covers a retry "in a few seconds" and one "in a few minutes" (what the error message
asks for) with room; the same sentence written again after that is taken as meant.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TypeVar

REPEAT_WINDOW = timedelta(minutes=10)

T = TypeVar("T")


def normalise(text: str) -> str:
    """The text as a retry would compare: NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def repeat_since(now: datetime) -> datetime:
    """The earliest moment a stored item may have been created to count as repeated now."""
    return now - REPEAT_WINDOW


def find_repeat(
    candidates: Iterable[tuple[T, str, datetime]], *, text: str, now: datetime
) -> T | None:
    """The most recent candidate (item, its text, created at) with the same normalised text
    within REPEAT_WINDOW before `now`; None when the text is new."""
    wanted = normalise(text)
    since = repeat_since(now)
    best: tuple[T, datetime] | None = None
    for item, stored, created_at in candidates:
        if created_at < since or created_at > now or normalise(stored) != wanted:
            continue
        if best is None or created_at > best[1]:
            best = (item, created_at)
    return best[0] if best is not None else None
