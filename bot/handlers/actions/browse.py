"""/azioni and the buttons that read: the list and its filters, an action's card and history,
the template and the export; and archiving an action (the coordinator's)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InputFile, Update
from telegram.error import Forbidden

from bot.context import BotContext
from bot.handlers.actions.presses import Press, action_arg, outcome_of, pressed, show
from bot.i18n import Translator
from bot.markup import markup
from bot.scope import Refusal, UnionScope, read_in_scope, reply, union_command
from bot.services import progress
from bot.services.progress import (
    CardShown,
    ExportAsked,
    FileMade,
    History,
    NotAllowed,
)
from bot.views.actions import (
    ALL,
    ActionList,
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
    """/azioni: the list, unfiltered (the picker first, for a member of several Unions)."""
    tr, scope, listed = await read_in_scope(update, context, "azioni", union_id, _unfiltered)
    if isinstance(scope, Refusal):
        await scope.send(update)
    elif listed is not None:
        text, keyboard = render_list(listed, tr)
        await reply(update, text, markup(keyboard))


def _unfiltered(s: AsyncSession, scope: UnionScope, _tr: Translator) -> Awaitable[ActionList]:
    return progress.action_list(
        s, union=scope.union, coordinator=scope.is_coordinator, filter=ListFilter()
    )


azioni = union_command("azioni", _azioni)


async def on_list(update: Update, context: BotContext) -> None:
    """`act:list:<union>:<comune>:<status>:<page>`: a page of the list, filtered."""
    got = await pressed(update, context, _page)
    if got is not None and (listed := await outcome_of(got, ActionList)):
        await show(update, render_list(listed, got.tr))


def _page(s: AsyncSession, p: Press, tr: Translator) -> Awaitable[ActionList | NotAllowed]:
    shown = ListFilter(p.str_arg(1) or ALL, p.str_arg(2) or ALL, p.int_arg(3) or 0)
    return progress.list_page(s, union_id=p.int_arg(0), telegram_user_id=p.user_id, filter=shown)


async def on_by_comune(update: Update, context: BotContext) -> None:
    """`act:by_comune:<union>:<status>`: which Comune to filter the list by."""
    got = await pressed(update, context, _comuni)
    if got is not None and (choices := await outcome_of(got, progress.ComuneChoices)):
        status = got.press.str_arg(1) or ALL
        await show(update, comune_filter(choices.union_id, status, choices.comuni, got.tr))


def _comuni(
    s: AsyncSession, p: Press, tr: Translator
) -> Awaitable[progress.ComuneChoices | NotAllowed]:
    return progress.comune_choices(s, union_id=p.int_arg(0), telegram_user_id=p.user_id)


async def on_by_status(update: Update, context: BotContext) -> None:
    """`act:by_status:<union>:<comune>`: which status to filter the list by."""
    got = await pressed(update, context, _member)
    if got is not None and (member := await outcome_of(got, progress.Reader)):
        await show(update, status_filter(member.union.id, got.press.str_arg(1) or ALL, got.tr))


def _member(s: AsyncSession, p: Press, tr: Translator) -> Awaitable[progress.Reader | NotAllowed]:
    return progress.member_of_union(s, union_id=p.int_arg(0), telegram_user_id=p.user_id)


async def on_show(update: Update, context: BotContext) -> None:
    """`act:show:<action>`: the action's card."""
    got = await pressed(update, context, _card, union=action_arg)
    if got is not None and (card := await outcome_of(got, progress.CardShown)):
        await show(update, (card.text, card.keyboard))


def _card(s: AsyncSession, p: Press, tr: Translator) -> Awaitable[CardShown | NotAllowed]:
    action_id, by, now = p.int_arg(0), p.user_id, p.now
    return progress.show_action(
        s, action_id=action_id, telegram_user_id=by, now=now, language=tr.language
    )


async def on_history(update: Update, context: BotContext) -> None:
    """`act:history:<action>`: its updates, newest first; pressed in a group, to the presser
    alone in private (the history is for its Comune's people)."""
    got = await pressed(update, context, _history, union=action_arg)
    if got is None or not (history := await outcome_of(got, progress.History)):
        return
    query = got.press.query
    if got.press.private:
        await query.answer()
        await reply(update, history.text)
        return
    try:
        await context.bot.send_message(chat_id=got.press.user_id, text=history.text)
        await query.answer(history_in_private(True, got.tr))
    except Forbidden:
        await query.answer(history_in_private(False, got.tr))


def _history(s: AsyncSession, p: Press, tr: Translator) -> Awaitable[History | NotAllowed]:
    action_id, by = p.int_arg(0), p.user_id
    return progress.action_history(
        s, action_id=action_id, telegram_user_id=by, language=tr.language
    )


async def on_template(update: Update, context: BotContext) -> None:
    """`act:template:<union>`: the empty spreadsheet, for the coordinator."""
    got = await pressed(update, context, _template)
    if got is not None and (made := await outcome_of(got, progress.FileMade)):
        await got.press.query.answer()
        await _send_file(update, made, template_caption(got.tr))


def _template(s: AsyncSession, p: Press, tr: Translator) -> Awaitable[FileMade | NotAllowed]:
    return progress.template_file(s, union_id=p.int_arg(0), telegram_user_id=p.user_id)


async def on_export(update: Update, context: BotContext) -> None:
    """`act:export:<union>:<csv|xlsx>`: the Union's actions as a file, for the coordinator."""
    got = await pressed(update, context, _export)
    if got is not None and (asked := await outcome_of(got, progress.ExportAsked)):
        made = await asyncio.to_thread(progress.export_file, asked)  # an .xlsx is CPU work
        await got.press.query.answer()
        await _send_file(update, made, export_caption(made.kind, got.tr))


def _export(s: AsyncSession, p: Press, tr: Translator) -> Awaitable[ExportAsked | NotAllowed]:
    union_id, kind = p.int_arg(0), p.str_arg(1) or "xlsx"
    return progress.export_actions(
        s, union_id=union_id, telegram_user_id=p.user_id, kind=kind, language=tr.language
    )


async def _send_file(update: Update, made: progress.FileMade, caption: str) -> None:
    if update.effective_chat is not None:
        await update.effective_chat.send_document(
            InputFile(made.data, filename=made.file_name), caption=caption
        )


async def on_archive(update: Update, context: BotContext) -> None:
    """`act:archive:<action>`: «archive it?», for the coordinator."""
    got = await pressed(update, context, _ask_archive, union=action_arg)
    if got is not None and (asked := await outcome_of(got, progress.ArchiveAsked)):
        await show(update, archive_question(asked.action, got.tr))


def _ask_archive(
    s: AsyncSession, p: Press, tr: Translator
) -> Awaitable[progress.ArchiveAsked | NotAllowed]:
    return progress.ask_to_archive(s, action_id=p.int_arg(0), telegram_user_id=p.user_id)


async def on_confirm_archive(update: Update, context: BotContext) -> None:
    """`act:confirm_archive:<action>`: archived; the card shows it."""
    got = await pressed(update, context, _archive, union=action_arg, write=True)
    if got is not None and (card := await outcome_of(got, progress.CardShown)):
        await show(update, (card.text, card.keyboard), archived(got.tr))


def _archive(s: AsyncSession, p: Press, tr: Translator) -> Awaitable[CardShown | NotAllowed]:
    action_id, by, now = p.int_arg(0), p.user_id, p.now
    return progress.archive_action(
        s, action_id=action_id, telegram_user_id=by, now=now, language=tr.language
    )
