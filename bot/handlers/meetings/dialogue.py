"""Private dialogues: the /riunione wizard (its buttons `wiz:<verb>` and what is written to
it) and the date written after «Aggiungi data». Their state lives in the database
(bot.conversations); the steps are bot.services.meetings.wizard's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.constants import ParseMode

from bot import callback_data as cb
from bot import delivery, message_refresh, telegram_edit
from bot.context import BotContext
from bot.conversations import Conversation
from bot.i18n import Translator
from bot.markup import markup
from bot.scope import caller_tr, reply, update_transaction
from bot.services import meetings
from bot.views.meetings import problem_text, render_date_added


async def on_wizard_button(update: Update, context: BotContext) -> None:
    """`wiz:<verb>[:<arg>]`: a step of the wizard (table, skip, toggle, next, deadline,
    publish, stop)."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    services = context.services
    data = cb.decode(query.data)
    async with update_transaction(context, update) as session:
        tr = await caller_tr(session, services, update)
        shown = await meetings.wizard_press(
            session,
            telegram_user_id=query.from_user.id,
            verb=data.action if data else None,
            arg=data.str_arg(0) if data else None,
            now=services.clock.now(),
            language=tr.language,
            group_language=services.settings.default_language,
        )
    await query.answer(shown.toast or None)
    if shown.text is not None:
        await telegram_edit.edit_or_send(update, context.bot, shown.text, markup(shown.keyboard))
    if shown.published:
        delivery.flush_soon(services, context.bot)


Answer = TypeVar("Answer")
WrittenUseCase = Callable[[AsyncSession, int, str, str], Awaitable[Answer]]


async def _written(
    update: Update, context: BotContext, use_case: WrittenUseCase[Answer]
) -> tuple[Answer, Translator] | None:
    """A text written in a dialogue, given to its use case in the update's transaction:
    (session, the writer's Telegram id, the text, their language)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return None
    async with update_transaction(context, update) as session:
        tr = await caller_tr(session, context.services, update)
        return await use_case(session, user.id, message.text or "", tr.language), tr


async def on_wizard_text(update: Update, context: BotContext, conv: Conversation) -> None:
    """A text written to the wizard: the title, the place, the agenda, a date, the deadline."""
    now = context.services.clock.now()

    async def write(s: AsyncSession, user: int, text: str, language: str) -> meetings.WizardShown:
        return await meetings.wizard_text(
            s, telegram_user_id=user, text=text, now=now, language=language
        )

    if (written := await _written(update, context, write)) is not None:
        shown, _tr = written
        await reply(update, shown.text or "", markup(shown.keyboard), parse_mode=ParseMode.HTML)


async def on_add_date_text(update: Update, context: BotContext, conv: Conversation) -> None:
    """The coordinator's «Aggiungi data»: one written date added to an open poll."""
    now, poll_id = context.services.clock.now(), int(conv.data.get("poll_id", 0))
    written = await _written(
        update,
        context,
        lambda s, user, text, _language: meetings.add_date(
            s, poll_id=poll_id, telegram_user_id=user, text=text, now=now
        ),
    )
    if written is None:
        return
    answer, tr = written
    if (p := answer.problem) is not None:
        text = problem_text(p.kind, tr, day=p.day, weekday=p.weekday, words=p.words)
    else:
        tz = ZoneInfo(answer.timezone)
        text = render_date_added(answer.outcome, answer.at, tz, answer.holiday, tr)
    await reply(update, text, parse_mode=ParseMode.HTML)
    if answer.outcome == "added":
        await message_refresh.request_owed(context.services)
