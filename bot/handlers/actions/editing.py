"""The coordinator's edits by hand, in private: a new action, a field typed anew, its Comune.
The dialogue's steps are bot.services.progress.editing's."""

from __future__ import annotations

from collections.abc import Awaitable

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from bot.context import BotContext
from bot.conversations import Conversation
from bot.handlers.actions.presses import Press, action_arg, outcome_of, pressed, show
from bot.i18n import Translator
from bot.markup import markup
from bot.scope import caller_tr, reply, update_transaction
from bot.services import progress
from bot.services.progress import NotAllowed
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


async def on_new(update: Update, context: BotContext) -> None:
    """`act:new:<union>`: a new action; its code is typed next."""
    got = await pressed(update, context, _new, write=True)
    if got is not None and await outcome_of(got, progress.Prompt) is not None:
        await got.press.query.answer()
        await reply(update, ask_code(got.tr))


def _new(s: AsyncSession, p: Press, tr: Translator) -> Awaitable[progress.Prompt | NotAllowed]:
    return progress.start_new_action(s, union_id=p.int_arg(0), actor=p.actor)


async def on_edit(update: Update, context: BotContext) -> None:
    """`act:edit:<action>`: which field to change."""
    got = await pressed(update, context, _edit, union=action_arg, write=True)
    if got is not None and (menu := await outcome_of(got, progress.EditMenu)):
        await show(update, edit_menu(menu.action, got.tr))


def _edit(s: AsyncSession, p: Press, tr: Translator) -> Awaitable[progress.EditMenu | NotAllowed]:
    return progress.edit_menu(s, action_id=p.int_arg(0), actor=p.actor)


async def on_edit_field(update: Update, context: BotContext) -> None:
    """`act:edit_field:<action>:<field>`: its new value is typed next."""
    got = await pressed(update, context, _edit_field, union=action_arg, write=True)
    if got is not None and (prompt := await outcome_of(got, progress.Prompt)):
        await got.press.query.answer()
        await reply(update, ask_field(prompt.ask, got.tr))


def _edit_field(
    s: AsyncSession, p: Press, tr: Translator
) -> Awaitable[progress.Prompt | NotAllowed]:
    return progress.start_field_edit(s, action_id=p.int_arg(0), field=p.str_arg(1), actor=p.actor)


async def on_edit_comune(update: Update, context: BotContext) -> None:
    """`act:edit_comune:<action>`: which Comune it belongs to."""
    got = await pressed(update, context, _comuni, union=action_arg, write=True)
    if got is not None and (choice := await outcome_of(got, progress.ComuneChoice)):
        await show(update, comune_choice(choice.target, choice.comuni, got.tr, code=choice.code))


def _comuni(
    s: AsyncSession, p: Press, tr: Translator
) -> Awaitable[progress.ComuneChoice | NotAllowed]:
    return progress.comune_choice(s, action_id=p.int_arg(0), actor=p.actor)


async def on_set_comune(update: Update, context: BotContext) -> None:
    """`act:set_comune:<action | new>:<comune | union>`: saved for an action; for the one being
    typed, the last step: it is created."""
    got = await pressed(update, context, _set_comune, union=_comune_target, write=True)
    if got is not None and (saved := await outcome_of(got, progress.Saved)):
        await show(update, (saved.text, saved.keyboard), comune_saved(saved.created, got.tr))


async def _comune_target(s: AsyncSession, p: Press) -> int | None:
    return await progress.comune_target_union(s, target=p.str_arg(0), actor=p.actor)


def _set_comune(
    s: AsyncSession, p: Press, tr: Translator
) -> Awaitable[progress.Saved | NotAllowed]:
    target, choice = p.str_arg(0), p.str_arg(1)
    return progress.set_comune(s, target=target, choice=choice, actor=p.actor, language=tr.language)


async def on_edit_text(update: Update, context: BotContext, conv: Conversation) -> None:
    """A text typed in the edit dialogue: the new action's code or title, or a field's value."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    services = context.services
    text = " ".join((message.text or "").split())
    async with update_transaction(context, update) as session:
        tr = await caller_tr(session, services, update)
        actor = progress.Actor(user.id, chat.id, services.clock.now())
        outcome = await progress.type_edit(session, actor=actor, text=text, language=tr.language)
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
