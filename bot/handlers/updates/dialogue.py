"""The technician's update in private: its buttons (`upd:<verb>`), what is typed or sent to it,
«Nessuna novità». The steps are bot.services.progress.dialogue's; the screens
bot.views.updates'. A step is the round's hot path: one transaction, one toast, one edit (a
save also sends the next question)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import CallbackQuery, Chat, Message, Update

from bot import callback_data as cb
from bot import telegram_edit
from bot.context import BotContext
from bot.conversations import Conversation
from bot.i18n import Translator
from bot.markup import markup
from bot.scope import caller_tr, reply, tr_for, update_transaction
from bot.services import progress
from bot.views.common import start_link_url
from bot.views.updates import (
    no_news_recorded,
    private_only,
    render_screen,
    step_refusal,
    step_toast,
)

# The dialogue's steps: `upd:<verb>:<action>[:<arg>]`, or `upd:<verb>:<union>` for list, finish.
STEP_VERBS = ("pick", "same", "status", "progress", "question", "skip", "list", "finish")


def answer_tr(update: Update, context: BotContext, language: progress.Language) -> Translator:
    return tr_for(
        context.services,
        language=language.chosen,
        user=update.effective_user,
        telegram_language=language.telegram,
    )


async def refuse_in_group(update: Update, context: BotContext) -> bool:
    """The dialogue is private: a press in a group opens it there (answerCallbackQuery's url,
    `t.me/<bot>?start=upd-<union>`, bot.handlers.updates.links); a button that names nothing
    is told where to go. True if the press was in a group."""
    chat, query = update.effective_chat, update.callback_query
    if chat is None or chat.type == Chat.PRIVATE or query is None:
        return False
    services, data = context.services, cb.decode(query.data)
    target = data.int_arg(0) if data else None
    async with services.db.transaction() as session:
        tr = await caller_tr(session, services, update)
        link = None
        if data is not None and target is not None:
            link = await progress.update_link_of_button(session, data.action, target)
    if link is not None:
        url = start_link_url(context.bot.username, link)
        await query.answer(private_only(tr, opened=True), url=url)
    else:
        await query.answer(private_only(tr, opened=False))
    return True


async def reply_started(
    update: Update,
    context: BotContext,
    shown: progress.StepShown | progress.StepRefused,
    refusal: Callable[[str, Translator], str] = step_refusal,
) -> None:
    """The dialogue's first screen as a new message (/aggiornamento, its /start link), or why
    not (`refusal`)."""
    tr = answer_tr(update, context, shown.language)
    if isinstance(shown, progress.StepRefused):
        await reply(update, refusal(shown.reason, tr))
    elif shown.edit is not None:
        text, keyboard = render_screen(shown.edit, tr)
        await reply(update, text, markup(keyboard))


async def _in_dialogue(
    update: Update,
    context: BotContext,
    step: Callable[[AsyncSession, int], Awaitable[progress.StepShown | progress.StepRefused]],
) -> tuple[progress.StepShown, Translator] | None:
    """Run a button's step in the update's transaction (refused in a group: the dialogue is
    private); a refusal is answered, and gives None."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    if await refuse_in_group(update, context):
        return None
    async with update_transaction(context, update) as session:
        shown = await step(session, query.from_user.id)
    tr = answer_tr(update, context, shown.language)
    if isinstance(shown, progress.StepRefused):
        await query.answer(step_refusal(shown.reason, tr))
        return None
    return shown, tr


async def on_step(update: Update, context: BotContext) -> None:
    """`upd:<verb>:<id>[:<arg>]`: a step of the dialogue (see STEP_VERBS)."""
    query, chat = update.callback_query, update.effective_chat
    if query is None or query.from_user is None or chat is None:
        return
    data = cb.decode(query.data)
    target = data.int_arg(0) if data else None
    if data is None or target is None:
        await query.answer()
        return
    now = context.services.clock.now()
    got = await _in_dialogue(
        update,
        context,
        lambda s, user: progress.press_step(
            s,
            verb=data.action,
            telegram_user_id=user,
            chat_id=chat.id,
            target=target,
            arg=data.str_arg(1),
            now=now,
        ),
    )
    if got is not None:
        await _show(update, context, *got)


async def _show(
    update: Update, context: BotContext, shown: progress.StepShown, tr: Translator
) -> None:
    """A step's answer: the toast, the pressed message replaced, then what follows it."""
    query = update.callback_query
    assert query is not None
    await query.answer(step_toast(shown.toast, tr))
    if shown.edit is not None:
        text, keyboard = render_screen(shown.edit, tr)
        await telegram_edit.edit_or_send(update, context.bot, text, markup(keyboard))
    for screen in shown.then:
        text, keyboard = render_screen(screen, tr)
        await reply(update, text, markup(keyboard))


def _round_of(update: Update) -> tuple[CallbackQuery, int | None] | None:
    """A round's button (`upd:<verb>:<round>`): the press and its round id (None: garbage)."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return None
    data = cb.decode(query.data)
    return query, (data.int_arg(0) if data else None)


async def on_no_news(update: Update, context: BotContext) -> None:
    """`upd:no_news:<round>`: nothing new this month, in one tap."""
    if (pressed := _round_of(update)) is None:
        return
    (query, round_id), now = pressed, context.services.clock.now()
    got = await _in_dialogue(
        update,
        context,
        lambda s, user: progress.no_news(s, round_id=round_id, telegram_user_id=user, now=now),
    )
    if got is not None:
        toast, text = no_news_recorded(got[1])
        await query.answer(toast)
        await telegram_edit.edit_or_send(update, context.bot, text, None)


async def on_rest(update: Update, context: BotContext) -> None:
    """`upd:rest:<round>`: the actions not answered yet are as last month, in one tap."""
    if (pressed := _round_of(update)) is None:
        return
    round_id, now = pressed[1], context.services.clock.now()
    got = await _in_dialogue(
        update,
        context,
        lambda s, user: progress.rest_unchanged(
            s, round_id=round_id, telegram_user_id=user, now=now
        ),
    )
    if got is not None:
        await _show(update, context, *got)


async def on_written(update: Update, context: BotContext, conv: Conversation) -> None:
    """A text, photo or document sent while the dialogue waits for one."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    services = context.services
    async with update_transaction(context, update) as session:
        shown = await progress.type_in_dialogue(
            session,
            telegram_user_id=user.id,
            chat_id=chat.id,
            written=written(message),
            now=services.clock.now(),
        )
    if shown is None:
        return
    tr = answer_tr(update, context, shown.language)
    for screen in shown.then:
        text, keyboard = render_screen(screen, tr)
        await reply(update, text, markup(keyboard))


def written(message: Message) -> progress.Written:
    return progress.Written(
        text=(message.text or message.caption or "").strip(),
        attachment=attachment_of(message),
        captioned=bool(message.caption),
    )


def attachment_of(message: Message) -> dict[str, Any] | None:
    if message.photo:
        best = message.photo[-1]
        return {
            "kind": "photo",
            "file_id": best.file_id,
            "file_unique_id": best.file_unique_id,
            "file_name": None,
            "mime_type": "image/jpeg",
        }
    if message.document is not None:
        doc = message.document
        return {
            "kind": "document",
            "file_id": doc.file_id,
            "file_unique_id": doc.file_unique_id,
            "file_name": (doc.file_name or "")[:256] or None,
            "mime_type": (doc.mime_type or "")[:128] or None,
        }
    return None
