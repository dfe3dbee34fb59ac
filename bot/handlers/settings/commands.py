"""/impostazioni: the coordinator's menu, in private (bot.scope.union_command), and the PAES
date written after «Scrivi la data»."""

from __future__ import annotations

from functools import partial

from telegram import Chat, Update
from telegram.constants import ParseMode

from bot.context import BotContext
from bot.conversations import Conversation, union_of, write_typed
from bot.markup import markup
from bot.scope import Refusal, read_in_union, reply
from bot.services import settings
from bot.views import settings as views


async def settings_menu(update: Update, context: BotContext, union_id: int | None) -> None:
    chat = update.effective_chat
    tr, scope, page = await read_in_union(
        update, context, "impostazioni", union_id, settings.settings_menu
    )
    if update.effective_user is None or chat is None:
        return
    if chat.type != Chat.PRIVATE:
        await reply(update, views.settings_in_private(tr))
    elif isinstance(scope, Refusal):
        await scope.send(update)
    elif not isinstance(page, settings.SettingsPage):
        await reply(update, views.coordinator_only(tr))
    else:
        dashboard = bool(context.services.settings.webapp_url)  # the public page (issue 20)
        text, keyboard = views.menu(tr, page.union, dashboard=dashboard)
        await reply(update, text, markup(keyboard), parse_mode=ParseMode.HTML)


async def on_paes_date(update: Update, context: BotContext, conversation: Conversation) -> None:
    """The date written after «Scrivi la data»: saved, and the PAES page again."""
    done = await write_typed(
        update, context, partial(settings.set_paes_date, union_id=union_of(conversation))
    )
    if done is None:
        return
    tr, outcome = done
    if isinstance(outcome, settings.SettingsPage):
        text, keyboard = views.paes_saved(tr, views.paes(tr, outcome.union))
        await reply(update, text, markup(keyboard), parse_mode=ParseMode.HTML)
    elif isinstance(outcome, settings.BadDate):
        await reply(update, views.bad_paes_date(tr))
    else:
        await reply(update, views.coordinator_only(tr))
