"""/impostazioni → «Pagina pubblica» (issue 20): the coordinator switches the Union's public
progress page on and off, sees its address and the image for the Union's website, and gets the
draft press note. Buttons `pub:show|on|off|press:<union>`, in private only; the row in
/impostazioni's menu appears when the dashboard is configured (WEBAPP_PORT, WEBAPP_URL)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
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
from bot.views.common import stale_button
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
Outcome = uc.PublicPageState | uc.PressNote | uc.NotAllowed


async def on_public_button(update: Update, context: BotContext) -> None:
    """One transaction: who presses, the chat check, then the use case the verb names (an
    update's transaction when it switches the page)."""
    query = update.callback_query
    if query is None or update.effective_chat is None:
        return
    services = context.services
    data = cb.decode(query.data)
    union_id = data.int_arg(0) if data else None
    verb = data.action if data is not None and data.action in VERBS else None
    switching = verb in ("on", "off")
    opened = update_transaction(context, update) if switching else services.db.transaction()
    outcome: Outcome | None = None
    async with opened as session:
        tr = await caller_tr(session, services, update)
        refusal = await button_refusal(
            session,
            update,
            tr,
            union_id=union_id,
            private_only=tr.gettext("Le impostazioni si cambiano in chat privata con me."),
        )
        configured = bool(services.settings.webapp_url)
        if refusal is None and verb is not None and union_id is not None and configured:
            outcome = await _run(session, services, update, verb, union_id)
    if refusal is not None:
        await query.answer(refusal)
    elif verb is None or union_id is None:
        await query.answer(stale_button(tr))
    elif outcome is None:
        await query.answer(not_configured_toast(tr))
    elif isinstance(outcome, uc.NotAllowed):
        await query.answer(refusal_toast(outcome, tr))
    elif isinstance(outcome, uc.PressNote):
        await query.answer()
        await _send_press_note(update, services, outcome, tr)
    else:
        await _show(update, context, outcome, tr)


async def _run(
    session: AsyncSession, services: Services, update: Update, verb: str, union_id: int
) -> Outcome:
    user = update.effective_user
    assert user is not None
    who = uc.Who(user.id, user.language_code, services.settings.default_language)
    now = services.clock.now()
    if verb == "press":
        return await uc.press_note(session, who=who, union_id=union_id, now=now)
    if verb == "show":
        return await uc.public_page_state(session, who=who, union_id=union_id)
    return await uc.switch_public_page(
        session, who=who, union_id=union_id, enabled=verb == "on", now=now
    )


async def _show(
    update: Update, context: BotContext, state: uc.PublicPageState, tr: Translator
) -> None:
    query = update.callback_query
    assert query is not None
    if state.changed:
        logger.info("Union %s: public page %s", state.union_id, "on" if state.enabled else "off")
    await query.answer(public_page_toast(state, tr) or None)
    public_url, badge_url = public_addresses(context.services.settings.webapp_url, state.slug)
    text, keyboard = public_page_view(state, tr, public_url=public_url, badge_url=badge_url)
    await telegram_edit.edit_or_send(update, context.bot, text, markup(keyboard))


async def _send_press_note(
    update: Update, services: Services, note: uc.PressNote, tr: Translator
) -> None:
    chat = update.effective_chat
    assert chat is not None
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
