"""The payload of a link that opens the bot in private: `t.me/<bot>?start=<kind>-<id>`.

Telegram sends `/start <payload>` once the person presses «Avvia». It allows 1-64 characters of
A-Za-z0-9_- after ?start=, and anyone can type anything after /start: only `<kind>-<id>`, with
one of the caller's kinds and a positive id of at most 9 digits (every id fits PostgreSQL's
INTEGER; a longer number would make the lookup fail, not find nothing), is ever looked up (an invite
token is 32 characters, never this). Meetings (bot.services.meetings.rules) and summaries
(bot.services.summaries.links) each have their own kinds.
"""

from __future__ import annotations

import re
from collections.abc import Collection

_SHAPE = re.compile(r"([a-z]+)-([1-9][0-9]{0,8})")


def parse_link(payload: str | None, kinds: Collection[str]) -> tuple[str, int] | None:
    """(kind, id) of a link of one of `kinds`; None for anything else (before any lookup)."""
    found = _SHAPE.fullmatch(payload or "")
    if found is None or found.group(1) not in kinds:
        return None
    return found.group(1), int(found.group(2))


def make_link(kind: str, object_id: int, kinds: Collection[str]) -> str:
    """The payload of a link of one of `kinds` to the object `object_id` (`mg-123`)."""
    payload = f"{kind}-{object_id}"
    if parse_link(payload, kinds) != (kind, object_id):
        raise ValueError(f"not a link of {sorted(kinds)}: {payload!r}")
    return payload
