"""The coordinator's «Titolo https://…» after «Aggiungi un link» (/documenti)."""

from __future__ import annotations

from functools import partial

from telegram import Update
from telegram.constants import ParseMode

from bot.context import BotContext
from bot.conversations import Conversation, union_of, write_typed
from bot.markup import markup
from bot.scope import reply
from bot.services import announcements
from bot.views import announcements as views


async def on_link_text(update: Update, context: BotContext, conversation: Conversation) -> None:
    add = partial(announcements.add_link, union_id=union_of(conversation))
    done = await write_typed(update, context, add)
    if done is None:
        return
    tr, outcome = done
    if not isinstance(outcome, announcements.LinkAdded):
        bad = isinstance(outcome, announcements.BadLink)
        await reply(update, views.bad_link(tr) if bad else views.folders_coordinator_only(tr))
        return
    text, keyboard = views.link_added(
        tr, added=outcome.added, title=outcome.title, shown=outcome.folders
    )
    await reply(update, text, markup(keyboard), parse_mode=ParseMode.HTML)
