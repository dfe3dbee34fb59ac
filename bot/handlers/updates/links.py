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

from telegram import Update

from bot.context import BotContext, Services
from bot.handlers.common.hooks import put_link_in_front
from bot.handlers.updates.dialogue import reply_started
from bot.scope import caller_tr, reply, update_transaction
from bot.services import progress
from bot.views.actions import not_allowed
from bot.views.updates import link_refusal


def install(services: Services) -> None:
    """Answer the progress links in /start; pass any other payload to the hook before."""
    put_link_in_front(services, progress.parse_start_link, on_link)


async def on_link(update: Update, context: BotContext, kind: str, object_id: int) -> None:
    """The update dialogue of the Union, or the action's history, if the caller may have it."""
    services, user, chat = context.services, update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    if kind == progress.LINK_HISTORY:
        async with services.db.transaction() as session:
            tr = await caller_tr(session, services, update)
            history = await progress.action_history(
                session, action_id=object_id, telegram_user_id=user.id, language=tr.language
            )
        if isinstance(history, progress.NotAllowed):  # a stranger, another Comune, no action
            await reply(update, not_allowed("history", tr))
        else:
            await reply(update, history.text)
        return
    async with update_transaction(context, update) as session:
        shown = await progress.start_dialogue(
            session,
            union_id=object_id,
            telegram_user_id=user.id,
            chat_id=chat.id,
            now=services.clock.now(),
        )
    await reply_started(update, context, shown, link_refusal)
