"""The coordinator's edits by hand, in private: a new action, a field typed anew, its Comune.
The dialogue's steps are bot.services.progress.editing's."""

from __future__ import annotations

from telegram import Chat, Update

from bot.context import BotContext
from bot.conversations import Conversation
from bot.handlers.actions.presses import decoded, refused, show
from bot.markup import markup
from bot.scope import button_refusal, caller_tr, reply, update_transaction
from bot.services import progress
from bot.views.actions import (
    ask_code,
    ask_field,
    ask_title,
    comune_choice,
    comune_saved,
    edit_menu,
    edit_refusal,
    field_problem,
)


def _private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == Chat.PRIVATE


def _chat_id(update: Update) -> int:
    assert update.effective_chat is not None
    return update.effective_chat.id


async def on_new(update: Update, context: BotContext) -> None:
    """`act:new:<union>`: a new action; its code is typed next."""
    pressed = await decoded(update)
    if pressed is None:
        return
    query, data = pressed
    services = context.services
    union_id = data.int_arg(0)
    async with update_transaction(context, update) as session:
        tr = await caller_tr(session, services, update)
        refusal = await button_refusal(session, update, tr, union_id=union_id)
        outcome = refusal or await progress.start_new_action(
            session,
            union_id=union_id,
            telegram_user_id=query.from_user.id,
            chat_id=_chat_id(update),
            private=_private(update),
            now=services.clock.now(),
        )
    await query.answer(refused(outcome, tr))
    if isinstance(outcome, progress.Prompt):
        await reply(update, ask_code(tr))


async def on_edit(update: Update, context: BotContext) -> None:
    """`act:edit:<action>`: which field to change."""
    pressed = await decoded(update)
    if pressed is None:
        return
    query, data = pressed
    services = context.services
    action_id = data.int_arg(0)
    async with update_transaction(context, update) as session:
        tr = await caller_tr(session, services, update)
        union_id = await progress.action_union_id(session, action_id)
        refusal = await button_refusal(session, update, tr, union_id=union_id)
        outcome = refusal or await progress.edit_menu(
            session,
            action_id=action_id,
            telegram_user_id=query.from_user.id,
            private=_private(update),
        )
    if not isinstance(outcome, progress.EditMenu):
        await query.answer(refused(outcome, tr))
        return
    await show(update, edit_menu(outcome.action, tr))


async def on_edit_field(update: Update, context: BotContext) -> None:
    """`act:edit_field:<action>:<field>`: its new value is typed next."""
    pressed = await decoded(update)
    if pressed is None:
        return
    query, data = pressed
    services = context.services
    action_id = data.int_arg(0)
    async with update_transaction(context, update) as session:
        tr = await caller_tr(session, services, update)
        union_id = await progress.action_union_id(session, action_id)
        refusal = await button_refusal(session, update, tr, union_id=union_id)
        outcome = refusal or await progress.start_field_edit(
            session,
            action_id=action_id,
            field=data.str_arg(1),
            telegram_user_id=query.from_user.id,
            chat_id=_chat_id(update),
            private=_private(update),
            now=services.clock.now(),
        )
    await query.answer(refused(outcome, tr))
    if isinstance(outcome, progress.Prompt):
        await reply(update, ask_field(outcome.ask, tr))


async def on_edit_comune(update: Update, context: BotContext) -> None:
    """`act:edit_comune:<action>`: which Comune it belongs to."""
    pressed = await decoded(update)
    if pressed is None:
        return
    query, data = pressed
    services = context.services
    action_id = data.int_arg(0)
    async with update_transaction(context, update) as session:
        tr = await caller_tr(session, services, update)
        union_id = await progress.action_union_id(session, action_id)
        refusal = await button_refusal(session, update, tr, union_id=union_id)
        outcome = refusal or await progress.comune_choice(
            session,
            action_id=action_id,
            telegram_user_id=query.from_user.id,
            private=_private(update),
        )
    if not isinstance(outcome, progress.ComuneChoice):
        await query.answer(refused(outcome, tr))
        return
    await show(update, comune_choice(outcome.target, outcome.comuni, tr, code=outcome.code))


async def on_set_comune(update: Update, context: BotContext) -> None:
    """`act:set_comune:<action | new>:<comune | union>`: saved for an action; for the one being
    typed, the last step: it is created."""
    pressed = await decoded(update)
    if pressed is None:
        return
    query, data = pressed
    services = context.services
    now, user_id, chat_id = services.clock.now(), query.from_user.id, _chat_id(update)
    target, choice = data.str_arg(0), data.str_arg(1)
    async with update_transaction(context, update) as session:
        tr = await caller_tr(session, services, update)
        union_id = await progress.comune_target_union(
            session, target=target, telegram_user_id=user_id, chat_id=chat_id, now=now
        )
        refusal = await button_refusal(session, update, tr, union_id=union_id)
        outcome = refusal or await progress.set_comune(
            session,
            target=target,
            choice=choice,
            telegram_user_id=user_id,
            chat_id=chat_id,
            now=now,
            language=tr.language,
        )
    if not isinstance(outcome, progress.Saved):
        await query.answer(refused(outcome, tr))
        return
    await show(update, (outcome.text, outcome.keyboard), comune_saved(outcome.created, tr))


async def on_edit_text(update: Update, context: BotContext, conv: Conversation) -> None:
    """A text typed in the edit dialogue: the new action's code or title, or a field's value."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    services = context.services
    text = " ".join((message.text or "").split())
    async with update_transaction(context, update) as session:
        tr = await caller_tr(session, services, update)
        outcome = await progress.type_edit(
            session,
            telegram_user_id=user.id,
            chat_id=chat.id,
            text=text,
            now=services.clock.now(),
            language=tr.language,
        )
    if isinstance(outcome, progress.Prompt):
        await reply(update, ask_title(tr))
    elif isinstance(outcome, progress.ComuneChoice):
        shown, keyboard = comune_choice(outcome.target, outcome.comuni, tr, code=None)
        await reply(update, shown, markup(keyboard))
    elif isinstance(outcome, progress.Saved):
        await reply(update, outcome.text, markup(outcome.keyboard))
    elif isinstance(outcome, progress.Problem):
        if outcome.template:
            await reply(update, field_problem(outcome.template, text, tr))
        else:
            await reply(update, edit_refusal(outcome.reason, tr))
