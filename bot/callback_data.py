"""Callback data: `area:action[:arg…]`, short ASCII, ≤ 64 bytes, never trusted.

The button carries only ids and verbs; every handler re-reads the state from the database and
re-checks who is pressing. Parsing never raises: garbage gives None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
_PART = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")


# The largest id a row can have on either database (PostgreSQL's INTEGER; bot.web's routes take
# ids of at most 9 digits for the same reason).
MAX_ID = 2**31 - 1


class CallbackDataError(ValueError):
    pass


@dataclass(frozen=True)
class CallbackData:
    area: str
    action: str
    args: tuple[str, ...] = ()

    def int_arg(self, index: int) -> int | None:
        """The index-th argument as a non-negative int no larger than any stored id, or None when
        absent, not a number or larger (a forged 99999999999 would make PostgreSQL refuse the
        query instead of finding nothing)."""
        if index >= len(self.args):
            return None
        value = self.args[index]
        if not value.isdigit() or len(value) > len(str(MAX_ID)):
            return None
        number = int(value)
        return number if number <= MAX_ID else None

    def str_arg(self, index: int) -> str | None:
        return self.args[index] if index < len(self.args) else None


def encode(area: str, action: str, *args: object) -> str:
    parts = [area, action, *(str(a) for a in args)]
    for part in parts:
        if not _PART.fullmatch(part):
            raise CallbackDataError(f"invalid callback part {part!r}")
    data = ":".join(parts)
    if len(data.encode("utf-8")) > MAX_BYTES:
        raise CallbackDataError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: str | None) -> CallbackData | None:
    if not data or len(data.encode("utf-8")) > MAX_BYTES:
        return None
    parts = data.split(":")
    if len(parts) < 2 or not all(_PART.fullmatch(p) for p in parts):
        return None
    return CallbackData(area=parts[0], action=parts[1], args=tuple(parts[2:]))


def pattern(area: str, *actions: str) -> str:
    """A `CallbackQueryHandler(pattern=...)` regex for one area, or for some of its actions
    (one button family: `pattern("mtg", "close")` matches `mtg:close:7`, not `mtg:closed:7`)."""
    if not actions:
        return rf"^{re.escape(area)}:"
    return rf"^{re.escape(area)}:({'|'.join(re.escape(a) for a in actions)})(:|$)"
