"""/impostazioni's buttons, in private only: a page, a change (then its page again), and
«Scrivi la data». Each asks one use case of bot.services.settings, which re-checks that the
presser is the coordinator of the Union the button names."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from bot.callback_data import CallbackData
from bot.context import BotContext
from bot.i18n import Translator
from bot.scope import ButtonPress, on_object, the_union
from bot.services import settings
from bot.telegram_edit import deliver
from bot.views import settings as views
from bot.views.answer import Answer

# (session, the presser's Telegram id, the decoded data, the Union's id) → outcome
Outcome = settings.SettingsPage | settings.DateAsked | settings.SettingsRefused
Case = Callable[[AsyncSession, int, CallbackData, int], Awaitable[Outcome]]


async def _on_press(update: Update, context: BotContext, case: Case) -> None:
    """The kit's prelude (a private dialogue: refused in any group), the case, the answer."""

    def use(session: AsyncSession, p: ButtonPress, _tr: Translator) -> Awaitable[Outcome]:
        return case(session, p.user_id, p.data, p.object_id)

    guarded = await on_object(
        update, context, the_union, use, writes=True, private_only=views.settings_in_private
    )
    if guarded is None:
        return
    _pressed, tr, outcome = guarded
    dashboard = bool(context.services.settings.webapp_url)  # the menu's public page (issue 20)
    await deliver(update, _answer(tr, outcome, dashboard=dashboard))


def _answer(
    tr: Translator,
    outcome: Outcome,
    *,
    dashboard: bool,
) -> Answer:
    if isinstance(outcome, settings.SettingsRefused):
        return Answer(toast=views.coordinator_only(tr))
    if isinstance(outcome, settings.DateAsked):
        return views.ask_paes_date(tr)
    return views.shown(tr, _page(tr, outcome, dashboard=dashboard), outcome.toast)


def _page(tr: Translator, page: settings.SettingsPage, *, dashboard: bool) -> views.Keyboarded:
    if page.meetings is not None:
        return views.meetings(tr, page.union, page.meetings)
    if page.rounds is not None:
        return views.rounds(tr, page.union, page.rounds)
    if page.section == views.HASHTAG:
        return views.hashtag(tr, page.union, page.links)
    if page.section == views.PAES:
        return views.paes(tr, page.union)
    return views.menu(tr, page.union, dashboard=dashboard)


async def on_section(update: Update, context: BotContext) -> None:
    """`set:menu|meetings|rounds|paes|hashtag:<union>`: a page."""

    async def section(
        s: AsyncSession, user: int, d: CallbackData, uid: int
    ) -> settings.SettingsPage | settings.SettingsRefused:
        return await settings.open_section(s, union_id=uid, telegram_user_id=user, section=d.action)

    await _on_press(update, context, section)


async def on_change(update: Update, context: BotContext) -> None:
    """`set:meeting|round:<union>:<field>:<op>`, `set:weekday:<union>:<day>`,
    `set:capture:<union>:<link>`, `set:paes_clear:<union>`: one change, then its page."""

    async def change(
        s: AsyncSession, user: int, d: CallbackData, uid: int
    ) -> settings.SettingsPage | settings.SettingsRefused:
        return await settings.change_setting(
            s, union_id=uid, telegram_user_id=user, change=_change(d)
        )

    await _on_press(update, context, change)


def _change(data: CallbackData) -> settings.Change:
    if data.action == views.WEEKDAY:
        return settings.Change(data.action, day=data.int_arg(1))
    if data.action == views.CAPTURE:
        return settings.Change(data.action, link_id=data.int_arg(1))
    return settings.Change(data.action, field=data.str_arg(1) or "", op=data.str_arg(2) or "")


async def on_ask_paes_date(update: Update, context: BotContext) -> None:
    """`set:paes_date:<union>`: the coordinator's next message is the date."""
    now = context.services.clock.now()
    chat = update.effective_chat

    async def ask(
        s: AsyncSession, user: int, d: CallbackData, uid: int
    ) -> settings.DateAsked | settings.SettingsRefused:
        assert chat is not None
        return await settings.ask_paes_date(
            s, union_id=uid, telegram_user_id=user, chat_id=chat.id, now=now
        )

    await _on_press(update, context, ask)
