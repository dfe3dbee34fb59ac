"""Links that open the bot in private from a group: `t.me/<bot>?start=<kind>-<union>`.

Where the bot says that something happens «in privato», it gives a button that opens the
private chat; Telegram then sends `/start <payload>` once the person presses «Avvia», and
bot.handlers.summaries.links answers it:

- `exp-<union>`   /esporta's formats (from /esporta written in a group);
- `sheet-<union>` the spreadsheet under a summary (pressed by someone the bot could not write to);
- `dec-<union>`   /decisione's desk (from /decisione written in the technical group).

A payload is 1-64 characters of A-Za-z0-9_- (Telegram's rule) and anyone can type anything after
/start: only this shape is looked up, and whoever arrives is checked again as if they had typed
the command (membership, the coordinator or a Sindaco for the export).
"""

from __future__ import annotations

from bot.services.start_links import make_link, parse_link

LINK_EXPORT = "exp"
LINK_SHEET = "sheet"
LINK_DECISION = "dec"
_KINDS = (LINK_EXPORT, LINK_SHEET, LINK_DECISION)


def start_link(kind: str, union_id: int) -> str:
    """The payload of a link to one of the Union's private dialogues (`exp-12`)."""
    return make_link(kind, union_id, _KINDS)


def parse_start_link(payload: str | None) -> tuple[str, int] | None:
    """(kind, Union id) of a summaries link; None for anything else (before any lookup)."""
    return parse_link(payload, _KINDS)
