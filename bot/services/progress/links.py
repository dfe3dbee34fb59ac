"""Links that open the progress dialogues in private: `t.me/<bot>?start=<kind>-<id>`.

A button that works only in private, pressed in a group, answers with one of these links
(answerCallbackQuery's `url`): the client opens the private chat, and its «Avvia» sends
`/start <payload>`, which bot.handlers.updates.links answers:

- `upd-<union>`   the update dialogue (/aggiornamento) for that Union;
- `hist-<action>` an action's history (when the bot may not write first).

Anyone can type anything after /start: only this shape is looked up
(bot.services.start_links), and whoever arrives is checked again as if they had typed the
command or pressed the button (a member of the Union who reports on actions; the history's
readers).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.progress.dialogue import ACTION_VERBS
from bot.services.start_links import make_link, parse_link
from storage.models import Action, Union, UpdateRound

LINK_UPDATE = "upd"
LINK_HISTORY = "hist"
_KINDS = (LINK_UPDATE, LINK_HISTORY)

# The update dialogue's buttons (bot.views.updates) and what their id names.
_ON_ROUND = frozenset({"no_news", "rest"})
_ON_UNION = frozenset({"list", "finish"})


def start_link(kind: str, object_id: int) -> str:
    """The payload of a link to a progress dialogue (`upd-12`)."""
    return make_link(kind, object_id, _KINDS)


def parse_start_link(payload: str | None) -> tuple[str, int] | None:
    """(kind, id) of a progress link; None for anything else (before any lookup)."""
    return parse_link(payload, _KINDS)


async def update_link_of_button(session: AsyncSession, verb: str, target: int) -> str | None:
    """The link to the update dialogue of the Union an update button (`upd:<verb>:<target>`)
    belongs to; None when the button names nothing that exists. The callback data only picks
    the Union: the dialogue checks who arrives."""
    union_id: int | None = None
    if verb in ACTION_VERBS:
        action = await session.get(Action, target)
        union_id = action.union_id if action is not None else None
    elif verb in _ON_ROUND:
        round_ = await session.get(UpdateRound, target)
        union_id = round_.union_id if round_ is not None else None
    elif verb in _ON_UNION and await session.get(Union, target) is not None:
        union_id = target
    if union_id is None:
        return None
    try:
        return start_link(LINK_UPDATE, union_id)
    except ValueError:  # an id past a link's 9 digits: no link, the toast says where to go
        return None
