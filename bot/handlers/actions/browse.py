"""/azioni and the buttons that read: the list and its filters, an action's card and history,
the template and the export; and archiving an action (the coordinator's)."""

from __future__ import annotations

import asyncio

from telegram import Chat, InputFile, Update
from telegram.error import Forbidden

from bot.context import BotContext
from bot.handlers.actions.presses import decoded, refused, show
from bot.markup import markup
from bot.scope import (
    Refusal,
    button_refusal,
    caller_tr,
    reply,
    resolve_union,
    union_command,
    update_transaction,
)
from bot.services import progress
from bot.views.actions import (
    ALL,
    ListFilter,
    archive_question,
    archived,
    comune_filter,
    export_caption,
    history_in_private,
    render_list,
    status_filter,
    template_caption,
)


async def _azioni(update: Update, context: BotContext, union_id: int | None) -> None:
    services = context.services
    async with services.db.transaction() as session:
        scope = await resolve_union(
            session, update, context, command="azioni", chosen_union_id=union_id
        )
        tr = await caller_tr(session, services, update)
        listed = (
            None
            if isinstance(scope, Refusal)
            else await progress.action_list(
                session, union=scope.union, coordinator=scope.is_coordinator, filter=ListFilter()
            )
        )
    if isinstance(scope, Refusal):
        await scope.send(update)
        return
    assert listed is not None
    text, keyboard = render_list(listed, tr)
    await reply(update, text, markup(keyboard))


azioni = union_command("azioni", _azioni)


async def on_list(update: Update, context: BotContext) -> None:
    """`act:list:<union>:<comune>:<status>:<page>`: a page of the list, filtered."""
    pressed = await decoded(update)
    if pressed is None:
        return
    query, data = pressed
    services = context.services
    union_id = data.int_arg(0)
    shown = ListFilter(data.str_arg(1) or ALL, data.str_arg(2) or ALL, data.int_arg(3) or 0)
    async with services.db.transaction() as session:
        tr = await caller_tr(session, services, update)
        refusal = await button_refusal(session, update, tr, union_id=union_id)
        outcome = refusal or await progress.list_page(
            session, union_id=union_id, telegram_user_id=query.from_user.id, filter=shown
        )
    if isinstance(outcome, (str, progress.NotAllowed)):
        await query.answer(refused(outcome, tr))
        return
    await show(update, render_list(outcome, tr))


async def on_by_comune(update: Update, context: BotContext) -> None:
    """`act:by_comune:<union>:<status>`: which Comune to filter the list by."""
    pressed = await decoded(update)
    if pressed is None:
        return
    query, data = pressed
    services = context.services
    union_id = data.int_arg(0)
    async with services.db.transaction() as session:
        tr = await caller_tr(session, services, update)
        refusal = await button_refusal(session, update, tr, union_id=union_id)
        outcome = refusal or await progress.comune_choices(
            session, union_id=union_id, telegram_user_id=query.from_user.id
        )
    if not isinstance(outcome, progress.ComuneChoices):
        await query.answer(refused(outcome, tr))
        return
    await show(update, comune_filter(outcome.union_id, data.str_arg(1) or ALL, outcome.comuni, tr))


async def on_by_status(update: Update, context: BotContext) -> None:
    """`act:by_status:<union>:<comune>`: which status to filter the list by."""
    pressed = await decoded(update)
    if pressed is None:
        return
    query, data = pressed
    services = context.services
    union_id = data.int_arg(0)
    async with services.db.transaction() as session:
        tr = await caller_tr(session, services, update)
        refusal = await button_refusal(session, update, tr, union_id=union_id)
        outcome = refusal or await progress.member_of_union(
            session, union_id=union_id, telegram_user_id=query.from_user.id
        )
    if not isinstance(outcome, progress.Reader):
        await query.answer(refused(outcome, tr))
        return
    await show(update, status_filter(outcome.union.id, data.str_arg(1) or ALL, tr))


async def on_show(update: Update, context: BotContext) -> None:
    """`act:show:<action>`: the action's card."""
    pressed = await decoded(update)
    if pressed is None:
        return
    query, data = pressed
    services = context.services
    action_id = data.int_arg(0)
    async with services.db.transaction() as session:
        tr = await caller_tr(session, services, update)
        union_id = await progress.action_union_id(session, action_id)
        refusal = await button_refusal(session, update, tr, union_id=union_id)
        outcome = refusal or await progress.show_action(
            session,
            action_id=action_id,
            telegram_user_id=query.from_user.id,
            now=services.clock.now(),
            language=tr.language,
        )
    if not isinstance(outcome, progress.CardShown):
        await query.answer(refused(outcome, tr))
        return
    await show(update, (outcome.text, outcome.keyboard))


async def on_history(update: Update, context: BotContext) -> None:
    """`act:history:<action>`: its updates, newest first; pressed in a group, to the presser
    alone in private (the history is for its Comune's people)."""
    pressed = await decoded(update)
    if pressed is None:
        return
    query, data = pressed
    services = context.services
    action_id = data.int_arg(0)
    async with services.db.transaction() as session:
        tr = await caller_tr(session, services, update)
        union_id = await progress.action_union_id(session, action_id)
        refusal = await button_refusal(session, update, tr, union_id=union_id)
        outcome = refusal or await progress.action_history(
            session, action_id=action_id, telegram_user_id=query.from_user.id, language=tr.language
        )
    if not isinstance(outcome, progress.History):
        await query.answer(refused(outcome, tr))
        return
    chat = update.effective_chat
    if chat is None or chat.type == Chat.PRIVATE:
        await query.answer()
        await reply(update, outcome.text)
        return
    try:
        await context.bot.send_message(chat_id=query.from_user.id, text=outcome.text)
        await query.answer(history_in_private(True, tr))
    except Forbidden:
        await query.answer(history_in_private(False, tr))


async def on_template(update: Update, context: BotContext) -> None:
    """`act:template:<union>`: the empty spreadsheet, for the coordinator."""
    pressed = await decoded(update)
    if pressed is None:
        return
    query, data = pressed
    services = context.services
    union_id = data.int_arg(0)
    async with services.db.transaction() as session:
        tr = await caller_tr(session, services, update)
        refusal = await button_refusal(session, update, tr, union_id=union_id)
        outcome = refusal or await progress.template_file(
            session, union_id=union_id, telegram_user_id=query.from_user.id
        )
    if not isinstance(outcome, progress.FileMade):
        await query.answer(refused(outcome, tr))
        return
    await query.answer()
    await _send_file(update, outcome, template_caption(tr))


async def on_export(update: Update, context: BotContext) -> None:
    """`act:export:<union>:<csv|xlsx>`: the Union's actions as a file, for the coordinator."""
    pressed = await decoded(update)
    if pressed is None:
        return
    query, data = pressed
    services = context.services
    union_id = data.int_arg(0)
    async with services.db.transaction() as session:
        tr = await caller_tr(session, services, update)
        refusal = await button_refusal(session, update, tr, union_id=union_id)
        outcome = refusal or await progress.export_actions(
            session,
            union_id=union_id,
            telegram_user_id=query.from_user.id,
            kind=data.str_arg(1) or "xlsx",
            language=tr.language,
        )
    if not isinstance(outcome, progress.ExportAsked):
        await query.answer(refused(outcome, tr))
        return
    made = await asyncio.to_thread(progress.export_file, outcome)  # an .xlsx is CPU work
    await query.answer()
    await _send_file(update, made, export_caption(made.kind, tr))


async def _send_file(update: Update, made: progress.FileMade, caption: str) -> None:
    if update.effective_chat is not None:
        await update.effective_chat.send_document(
            InputFile(made.data, filename=made.file_name), caption=caption
        )


async def on_archive(update: Update, context: BotContext) -> None:
    """`act:archive:<action>`: «archive it?», for the coordinator."""
    pressed = await decoded(update)
    if pressed is None:
        return
    query, data = pressed
    services = context.services
    action_id = data.int_arg(0)
    async with services.db.transaction() as session:
        tr = await caller_tr(session, services, update)
        union_id = await progress.action_union_id(session, action_id)
        refusal = await button_refusal(session, update, tr, union_id=union_id)
        outcome = refusal or await progress.ask_to_archive(
            session, action_id=action_id, telegram_user_id=query.from_user.id
        )
    if not isinstance(outcome, progress.ArchiveAsked):
        await query.answer(refused(outcome, tr))
        return
    await show(update, archive_question(outcome.action, tr))


async def on_confirm_archive(update: Update, context: BotContext) -> None:
    """`act:confirm_archive:<action>`: archived; the card shows it."""
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
        outcome = refusal or await progress.archive_action(
            session,
            action_id=action_id,
            telegram_user_id=query.from_user.id,
            now=services.clock.now(),
            language=tr.language,
        )
    if not isinstance(outcome, progress.CardShown):
        await query.answer(refused(outcome, tr))
        return
    await show(update, (outcome.text, outcome.keyboard), archived(tr))
