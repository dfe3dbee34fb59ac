"""Links that open the progress dialogues in private: `t.me/<bot>?start=upd-<union>` (the
update dialogue, from an update button pressed in a group) and `hist-<action>` (an action's
history, from «Storico» pressed in a group by someone the bot may not write to first);
bot.services.progress.links says which press gives which.

`install` puts this module in front of the /start hooks found (registration's invites, the
meetings' and summaries' links): a payload of this shape (`parse_start_link`, checked before
any lookup) is answered here in a private chat, anything else goes on. Whoever arrives is
checked again, as /aggiornamento or the «Storico» button would check them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from bot.context import BotContext, Services
from bot.handlers.common.hooks import put_link_in_front
from bot.handlers.updates.dialogue import reply_started
from bot.i18n import Translator
from bot.scope import reply
from bot.services import progress
from bot.views.actions import not_allowed
from bot.views.updates import link_refusal


def install(services: Services) -> None:
    """Answer the progress links in /start; pass any other payload to the hook before."""

    async def read(session: AsyncSession, kind: str, object_id: int, user_id: int) -> Any:
        """The update dialogue opened for the caller (its state saved in this transaction),
        or why not; an action's history is read by `on_link`, in the caller's language."""
        if kind != progress.LINK_UPDATE:
            return None
        return await progress.start_dialogue(
            session,
            union_id=object_id,
            telegram_user_id=user_id,
            chat_id=user_id,  # the private chat, where a link is answered
            now=services.clock.now(),
        )

    put_link_in_front(services, progress.parse_start_link, read, on_link)


async def on_link(
    update: Update, context: BotContext, tr: Translator, object_id: int, found: Any
) -> None:
    """The update dialogue's first screen, or the action's history, if the caller may have it."""
    if found is not None:
        await reply_started(update, context, found, link_refusal)
        return
    user = update.effective_user
    assert user is not None
    async with context.services.db.transaction() as session:
        history = await progress.action_history(
            session, action_id=object_id, telegram_user_id=user.id, language=tr.language
        )
    if isinstance(history, progress.NotAllowed):  # a stranger, another Comune, no action
        await reply(update, not_allowed("history", tr))
    else:
        await reply(update, history.text)
