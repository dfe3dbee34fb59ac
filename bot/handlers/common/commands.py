"""/start, /aiuto, /privacy, /lingua and the language buttons."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Chat, Update, User
from telegram.constants import ParseMode

from bot import callback_data as cb
from bot import telegram_edit
from bot.config import SUPPORTED_LANGUAGES
from bot.context import BotContext
from bot.i18n import Translator, translator
from bot.markup import markup
from bot.scope import caller, reply, start_command, startable, tr_for, update_transaction
from bot.services import common
from bot.services.common import Profile
from bot.services.display_text import NAMELESS
from bot.views import common as views

from .hooks import START_PAYLOAD_HOOK
from .menus import menus_soon

R = TypeVar("R")


async def _about_the_caller(
    update: Update,
    context: BotContext,
    use: Callable[[AsyncSession, common.Reader], Awaitable[R]],
    render: Callable[[R, Translator], str],
) -> None:
    """Answer with what `use` reads about whoever wrote, here (one read transaction)."""
    services = context.services
    chat = update.effective_chat
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
        if who is None:
            return
        reader = common.Reader(
            telegram_user_id=who.user.id,
            first_name=who.user.first_name,
            group_chat_id=chat.id if chat is not None and chat.type != Chat.PRIVATE else None,
            admin_ids=tuple(services.settings.admin_ids),
        )
        outcome = await use(session, reader)
    await reply(update, render(outcome, who.tr), parse_mode=ParseMode.HTML)


async def start(update: Update, context: BotContext) -> None:
    """/start: hello and their Unions; with a payload (an invite), the hook's (registration)."""
    payload = context.args[0] if context.args else None
    hook = context.services.hooks.get(START_PAYLOAD_HOOK)
    if payload and hook is not None:
        await hook(update, context, payload)
        return
    await _about_the_caller(
        update, context, lambda s, reader: common.welcome(s, reader=reader), views.welcome_text
    )


def _reader(update: Update, context: BotContext, user: User) -> common.Reader:
    chat = update.effective_chat
    return common.Reader(
        telegram_user_id=user.id,
        first_name=user.first_name,
        group_chat_id=chat.id if chat is not None and chat.type != Chat.PRIVATE else None,
        admin_ids=tuple(context.services.settings.admin_ids),
    )


async def help_command(update: Update, context: BotContext) -> None:
    """/aiuto: in private what the reader may do, task by task («Vuoi proporre le date…?»),
    the first ones as buttons; in a group, the commands of their role there."""
    services = context.services
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
        if who is None:
            return
        page = await common.help_page(session, reader=_reader(update, context, who.user))
    text, keyboard = views.help_answer(page, who.tr)
    await reply(update, text, markup(keyboard), parse_mode=ParseMode.HTML)


async def on_task(update: Update, context: BotContext) -> None:
    """`help:go:<command>` (/aiuto's and the welcome's buttons): the command starts as if
    typed, for whoever pressed, when /aiuto offers it to them here (re-checked now)."""
    query = update.callback_query
    if query is None:
        return
    data = cb.decode(query.data)
    command = (data.str_arg(0) if data is not None else None) or ""
    services = context.services
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
        reader = _reader(update, context, query.from_user)
        allowed = startable(command) and await common.may_start(
            session, reader=reader, command=command
        )
    if who is None or not allowed or reader.group_chat_id is not None:
        tr = who.tr if who is not None else tr_for(services, user=query.from_user)
        await query.answer(views.task_refused(tr), show_alert=True)
        return
    await query.answer()
    await start_command(update, context, command)


async def privacy(update: Update, context: BotContext) -> None:
    services = context.services
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
    if who is not None:
        await reply(update, views.privacy_notice(who.tr), parse_mode=ParseMode.HTML)


async def language(update: Update, context: BotContext) -> None:
    services = context.services
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
    if who is None:
        return
    text, keyboard = views.language_question(who.tr)
    await reply(update, text, markup(keyboard))


async def on_language(update: Update, context: BotContext) -> None:
    """`lang:set:<code>` — the language they read from now on."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    data = cb.decode(query.data)
    code = data.str_arg(0) if data else None
    if code not in SUPPORTED_LANGUAGES:
        await query.answer()
        return
    services = context.services
    tr = translator(code)
    # A write: the update id is recorded with it, so a redelivered press changes nothing.
    async with update_transaction(context, update) as session:
        await common.set_language(
            session,
            profile=Profile.of(query.from_user, nameless=tr.gettext(NAMELESS)),
            language=code,
            now=services.clock.now(),
        )
    toast, text = views.language_set(tr)
    await query.answer(toast)
    menus_soon(services, context.bot)
    if query.message is not None:
        await telegram_edit.edit_or_send(update, context.bot, text)
