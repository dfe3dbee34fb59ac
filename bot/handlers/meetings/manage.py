"""The poll's management row, one handler per button family (bot.views.meetings lists the data).

Under the poll in its groups: «Chi manca?» (`mtg:missing`), «Aggiungi data» (`mtg:add_date`),
«Proroga» (`mtg:extend`), «Chiudi ora» (`mtg:close`), «Annulla sondaggio» (`mtg:cancel`); the
last three ask in private, where the answer is pressed (`mtg:extend_by`, `mtg:confirm_close`,
`mtg:confirm_cancel`: refused in a group). `mtg:invite` sends a meeting's .ics in private.
Who may, and on which message, is the use case's (bot.services.meetings.managing); the chat
check is the kit's `button_refusal`, asked first.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, CallbackQuery, Chat, InputFile, Update
from telegram.constants import ParseMode
from telegram.error import Forbidden

from bot import callback_data as cb
from bot import message_refresh, telegram_edit
from bot.context import BotContext
from bot.handlers.meetings.scheduled import after_closing
from bot.i18n import Translator
from bot.markup import markup
from bot.scope import button_refusal, caller_tr, press_of, update_transaction
from bot.services import meetings
from bot.services.presses import Press
from bot.views import meetings as views
from bot.views.keyboard import Keyboard

Outcome = TypeVar("Outcome")
UseCase = Callable[[AsyncSession, int, int, Press | None], Awaitable[Outcome]]


async def tell_privately(
    bot: Bot, user_id: int, text: str, keyboard: Keyboard | None = None
) -> bool:
    """Write to the presser in private; False when they never started the bot or blocked it."""
    try:
        await bot.send_message(
            chat_id=user_id, text=text, reply_markup=markup(keyboard), parse_mode=ParseMode.HTML
        )
    except Forbidden:
        return False
    return True


async def _guarded(
    update: Update,
    context: BotContext,
    use_case: UseCase[Outcome],
    *,
    writes: bool = False,
    confirmation: bool = False,
) -> tuple[Translator, Outcome | meetings.NotAllowed | str]:
    """Decode `mtg:<verb>:<poll>`, ask the kit's chat check, then the use case (in a write
    transaction when it `writes`). A str is the chat check's refusal."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    services, chat = context.services, update.effective_chat
    data = cb.decode(query.data)
    poll_id = data.int_arg(0) if data else None
    press = press_of(query, chat.id) if chat is not None and chat.type != Chat.PRIVATE else None
    opened = update_transaction(context, update) if writes else services.db.transaction()
    async with opened as session:
        tr = await caller_tr(session, services, update)
        union_id = await meetings.poll_union_id(session, poll_id)
        if poll_id is None or union_id is None:
            return tr, meetings.NotAllowed("gone")
        private_only = views.confirmations_in_private_only(tr) if confirmation else None
        refusal = await button_refusal(
            session, update, tr, union_id=union_id, private_only=private_only
        )
        outcome = refusal or await use_case(session, poll_id, query.from_user.id, press)
    return tr, outcome


async def _refused(query: CallbackQuery, tr: Translator, outcome: object) -> bool:
    """Answer a refusal (an alert) and say so."""
    if isinstance(outcome, str):
        await query.answer(outcome, show_alert=True)
    elif isinstance(outcome, meetings.NotAllowed):
        await query.answer(views.render_manage_refusal(outcome.reason, tr), show_alert=True)
    else:
        return False
    return True


async def _ask_in_private(
    query: CallbackQuery, bot: Bot, tr: Translator, text: str, keyboard: Keyboard | None
) -> None:
    assert query.from_user is not None
    if await tell_privately(bot, query.from_user.id, text, keyboard):
        await query.answer(views.told_in_private(tr))
    else:
        await query.answer(views.cannot_write_privately(tr), show_alert=True)


async def on_missing(update: Update, context: BotContext) -> None:
    """«Chi manca?»: an alert, or a private message when the list is long."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    tr, outcome = await _guarded(
        update,
        context,
        lambda s, poll, user, press: meetings.managed_poll(
            s, poll_id=poll, telegram_user_id=user, press=press, open_only=False
        ),
    )
    if await _refused(query, tr, outcome) or not isinstance(outcome, meetings.Managed):
        return
    text = views.render_missing(outcome.view, tr)
    plain = html.unescape(text)
    if len(plain) <= 200:
        await query.answer(plain, show_alert=True)
    elif await tell_privately(context.bot, query.from_user.id, text):
        await query.answer(views.missing_sent_in_private(tr))
    else:
        await query.answer(plain[:190] + "…", show_alert=True)


async def on_close(update: Update, context: BotContext) -> None:
    """«Chiudi ora»: the question in private, with the date closing now would choose."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    tr, outcome = await _guarded(
        update,
        context,
        lambda s, poll, user, press: meetings.ask_to_close(
            s, poll_id=poll, telegram_user_id=user, press=press
        ),
    )
    if await _refused(query, tr, outcome) or not isinstance(outcome, meetings.CloseAsked):
        return
    text, keyboard = views.render_close_question(outcome.view, outcome.best, tr)
    await _ask_in_private(query, context.bot, tr, text, keyboard)


async def on_cancel(update: Update, context: BotContext) -> None:
    """«Annulla sondaggio»: the question in private."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    tr, outcome = await _guarded(
        update,
        context,
        lambda s, poll, user, press: meetings.managed_poll(
            s, poll_id=poll, telegram_user_id=user, press=press
        ),
    )
    if await _refused(query, tr, outcome) or not isinstance(outcome, meetings.Managed):
        return
    text, keyboard = views.render_cancel_question(outcome.view, tr)
    await _ask_in_private(query, context.bot, tr, text, keyboard)


async def on_extend(update: Update, context: BotContext) -> None:
    """«Proroga»: the extensions still allowed, in private."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    tr, outcome = await _guarded(
        update,
        context,
        lambda s, poll, user, press: meetings.extend_choices(
            s, poll_id=poll, telegram_user_id=user, press=press
        ),
    )
    if await _refused(query, tr, outcome) or not isinstance(outcome, meetings.ExtendChoices):
        return
    text, keyboard = views.render_extend_choices(outcome.view, outcome.choices, tr)
    await _ask_in_private(query, context.bot, tr, text, keyboard)


async def on_add_date(update: Update, context: BotContext) -> None:
    """«Aggiungi data»: the new date is written in private (bot.handlers.meetings.dialogue)."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    now = context.services.clock.now()
    tr, outcome = await _guarded(
        update,
        context,
        lambda s, poll, user, press: meetings.start_adding_date(
            s, poll_id=poll, telegram_user_id=user, press=press, now=now
        ),
        writes=True,
    )
    if await _refused(query, tr, outcome) or not isinstance(outcome, meetings.Managed):
        return
    await _ask_in_private(
        query, context.bot, tr, views.render_add_date_prompt(outcome.view, tr), None
    )


async def _confirmed(query: CallbackQuery, bot: Bot, message: str) -> None:
    """The toast says it; the question in private shows it too, when it can still be edited."""
    await query.answer(message)
    await telegram_edit.edit_pressed(bot, query, html.escape(message))


async def on_confirm_close(update: Update, context: BotContext) -> None:
    """«Sì, chiudi» (private): the poll closes now (bot.services.meetings.close_poll)."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    services = context.services
    tr, outcome = await _guarded(
        update,
        context,
        lambda s, poll, user, _press: meetings.close_now(
            s,
            poll_id=poll,
            telegram_user_id=user,
            now=services.clock.now(),
            language=services.settings.default_language,
        ),
        writes=True,
        confirmation=True,
    )
    if await _refused(query, tr, outcome) or not isinstance(outcome, meetings.Closed):
        return
    message = views.render_closed(outcome.closed.starts_at, outcome.view.tz, tr)
    await _confirmed(query, context.bot, message)
    await after_closing(services, context.bot)


async def on_confirm_cancel(update: Update, context: BotContext) -> None:
    """«Sì, annulla il sondaggio» (private)."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    now = context.services.clock.now()
    tr, outcome = await _guarded(
        update,
        context,
        lambda s, poll, user, _press: meetings.cancel_poll(
            s, poll_id=poll, telegram_user_id=user, now=now
        ),
        writes=True,
        confirmation=True,
    )
    if await _refused(query, tr, outcome) or not isinstance(outcome, meetings.Cancelled):
        return
    await _confirmed(query, context.bot, views.render_cancelled(tr))
    await message_refresh.request_owed(context.services)


async def on_extend_by(update: Update, context: BotContext) -> None:
    """`mtg:extend_by:<poll>:<days>` (private): the new deadline."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    data = cb.decode(query.data)
    days = data.int_arg(1) if data else None
    now = context.services.clock.now()
    tr, outcome = await _guarded(
        update,
        context,
        lambda s, poll, user, _press: meetings.extend_deadline(
            s, poll_id=poll, telegram_user_id=user, days=days, now=now
        ),
        writes=True,
        confirmation=True,
    )
    if await _refused(query, tr, outcome) or not isinstance(outcome, meetings.Extended):
        return
    await _confirmed(
        query, context.bot, views.render_extended(outcome.deadline, outcome.view.tz, tr)
    )
    await message_refresh.request_owed(context.services)


async def on_invite(update: Update, context: BotContext) -> None:
    """`mtg:invite:<meeting>` (/riunioni): the meeting's .ics, in private, for its members."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    services, user = context.services, query.from_user
    data = cb.decode(query.data)
    meeting_id = data.int_arg(0) if data else None
    async with services.db.transaction() as session:
        tr = await caller_tr(session, services, update)
        union_id = await meetings.meeting_union_id(session, meeting_id)
        refusal = await button_refusal(session, update, tr, union_id=union_id)
        invite = refusal or await meetings.meeting_invite(
            session,
            meeting_id=meeting_id or 0,
            telegram_user_id=user.id,
            now=services.clock.now(),
            language=tr.language,
        )
    if isinstance(invite, (str, meetings.NoInvite)):
        text = invite if isinstance(invite, str) else views.only_members_get_invites(tr)
        await query.answer(text, show_alert=True)
        return
    try:
        document = InputFile(invite.data, filename=invite.file_name)
        await context.bot.send_document(chat_id=user.id, document=document, caption=invite.caption)
    except Forbidden:
        await query.answer(views.cannot_write_privately(tr), show_alert=True)
        return
    in_private = query.message is not None and query.message.chat.id == user.id
    await query.answer(views.invite_sent(in_private, tr))
