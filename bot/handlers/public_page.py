"""/impostazioni → «Pagina pubblica» (issue 20): the coordinator switches the Union's public
progress page on and off, sees its address and the image for the Union's website, and gets the
draft press note. Buttons `pub:show|on|off|press:<union>`, in private only; the row in
/impostazioni's menu appears when the dashboard is configured (WEBAPP_PORT, WEBAPP_URL)."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler

from bot import callback_data as cb
from bot import telegram_edit
from bot.context import BotContext, Services
from bot.i18n import Translator
from bot.markup import markup
from bot.scope import button_refusal, caller_tr, update_transaction
from bot.services import dashboard as uc
from bot.views.dashboard import public as public_views
from bot.views.dashboard.links import public_addresses
from bot.views.dashboard.telegram import (
    PUBLIC_AREA,
    not_configured_toast,
    press_note_message,
    public_page_toast,
    public_page_view,
    refusal_toast,
)

logger = logging.getLogger(__name__)

VERBS = ("show", "on", "off", "press")


async def on_public_button(update: Update, context: BotContext) -> None:
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None:
        return
    services = context.services
    data = cb.decode(query.data)
    union_id = data.int_arg(0) if data else None
    async with services.db.transaction() as session:
        tr = await caller_tr(session, services, update)
        refusal = await button_refusal(
            session,
            update,
            tr,
            union_id=union_id,
            private_only=tr.gettext("Le impostazioni si cambiano in chat privata con me."),
        )
    if refusal is not None:
        await query.answer(refusal)
        return
    if data is None or union_id is None or data.action not in VERBS:
        await query.answer(tr.gettext("Questo pulsante non è più valido."))
        return
    if not services.settings.webapp_url:
        await query.answer(not_configured_toast(tr))
        return
    who = uc.Who(
        query.from_user.id, query.from_user.language_code, services.settings.default_language
    )
    if data.action == "press":
        await _send_press_note(update, context, who, union_id, tr)
    else:
        await _show_or_switch(update, context, who, union_id, data.action, tr)


async def _show_or_switch(
    update: Update, context: BotContext, who: uc.Who, union_id: int, verb: str, tr: Translator
) -> None:
    services = context.services
    query = update.callback_query
    assert query is not None
    if verb == "show":
        async with services.db.transaction() as session:
            state = await uc.public_page_state(session, who=who, union_id=union_id)
    else:
        async with update_transaction(context, update) as session:
            state = await uc.switch_public_page(
                session, who=who, union_id=union_id, enabled=verb == "on", now=services.clock.now()
            )
    if isinstance(state, uc.NotAllowed):
        await query.answer(refusal_toast(state, tr))
        return
    if state.changed:
        logger.info("Union %s: public page %s", union_id, "on" if state.enabled else "off")
    await query.answer(public_page_toast(state, tr) or None)
    public_url, badge_url = public_addresses(services.settings.webapp_url, state.slug)
    text, keyboard = public_page_view(state, tr, public_url=public_url, badge_url=badge_url)
    await telegram_edit.edit_or_send(update, context.bot, text, markup(keyboard))


async def _send_press_note(
    update: Update, context: BotContext, who: uc.Who, union_id: int, tr: Translator
) -> None:
    services = context.services
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None
    async with services.db.transaction() as session:
        note = await uc.press_note(session, who=who, union_id=union_id, now=services.clock.now())
    if isinstance(note, uc.NotAllowed):
        await query.answer(refusal_toast(note, tr))
        return
    await query.answer()
    public_url = (
        public_addresses(services.settings.webapp_url, note.progress.slug)[0]
        if note.public
        else None
    )
    text = public_views.press_note_text(
        note.progress, timezone=note.timezone, public_url=public_url
    )
    await chat.send_message(press_note_message(text, tr), parse_mode=ParseMode.HTML)


def register(application: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    application.add_handler(CallbackQueryHandler(on_public_button, pattern=cb.pattern(PUBLIC_AREA)))
