"""A spreadsheet sent in private: a technician's attachment, or a coordinator's actions to import.

The import is admitted by the bot's `ImportGate` (one per Union, a few at a time), read in a
worker process (bot/services/import_worker.py) outside the uploader's update, previewed, and
written when the coordinator confirms (`imp:confirm`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.error import BadRequest

from bot import conversations
from bot.context import BotContext
from bot.conversations import Conversation
from bot.handlers.actions.presses import Press, outcome_of, pressed
from bot.i18n import Translator
from bot.markup import markup
from bot.scope import caller_tr, reply, update_transaction
from bot.services import action_import as importer
from bot.services import import_worker, progress
from bot.services.progress import Cancelled, Imported, NotAllowed, UploadedFile
from bot.telegram_edit import edit_or_send
from bot.views.actions import (
    download_refused,
    import_busy,
    import_cancelled,
    import_done,
    import_failed,
    not_allowed,
    press_buttons_or_send,
    render_errors,
    render_preview,
    upload_union_picker,
)

logger = logging.getLogger(__name__)


async def on_document(update: Update, context: BotContext) -> None:
    """A CSV/XLSX in private: the update flow's attachment, or an import by a coordinator."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None or message.document is None:
        return
    services = context.services
    actor = progress.Actor(user.id, chat.id, services.clock.now())
    document = message.document
    file = progress.UploadedFile(document.file_id, document.file_name, document.file_size)
    async with services.db.transaction() as session:
        tr = await caller_tr(session, services, update)
        target = await progress.upload_target(session, actor=actor)
    if isinstance(target, progress.ToDialogue):
        if not await conversations.route(update, context):
            await reply(update, not_allowed("not_coordinator", tr))
    elif isinstance(target, progress.NotCoordinator):
        await reply(update, not_allowed("not_coordinator", tr))
    elif isinstance(target, progress.PickUnion):
        async with update_transaction(context, update) as session:
            await progress.hold_upload(session, actor=actor, file=file)
        text, keyboard = upload_union_picker(target.unions, tr)
        await reply(update, text, markup(keyboard))
    else:
        await preview_import(update, context, target.union_id, file)


async def preview_import(
    update: Update, context: BotContext, union_id: int, file: progress.UploadedFile
) -> None:
    """Admit the import (one per Union, a few at a time) and read it in the background."""
    services = context.services
    async with services.db.transaction() as session:
        tr = await caller_tr(session, services, update)
        known = await progress.import_context(session, union_id=union_id)
    if known is None:
        return
    if file.size is not None and file.size > importer.MAX_FILE_BYTES:
        await reply(update, tr.gettext(importer.E_TOO_BIG))
        return
    ticket = import_worker.gate_of(services.extras).admit(union_id)
    if isinstance(ticket, import_worker.Busy):
        await reply(update, import_busy(ticket is import_worker.Busy.UNION, tr))
        return
    # Read outside this update (bot/services/import_worker.py): the slot it holds goes back to
    # other people's updates while a worker process reads the file.
    reading = _Reading(ticket, known, tr, file)
    services.run_in_background(_read_and_preview(update, context, reading))


@dataclass(frozen=True)
class _Reading:
    """An admitted import: its ticket (released when done), the Union's names, the uploader's
    language, the file."""

    ticket: import_worker.Ticket
    known: progress.ImportContext
    tr: Translator
    file: UploadedFile


async def _read_and_preview(update: Update, context: BotContext, reading: _Reading) -> None:
    try:
        await _read_and_preview_admitted(update, context, reading)
    except Exception:
        logger.exception("Reading an uploaded actions file failed")
        await reply(update, import_failed(reading.tr))
    finally:
        reading.ticket.release()


async def _download(
    update: Update, context: BotContext, file: progress.UploadedFile, tr: Translator
) -> bytes | None:
    """The file's bytes from Telegram; None (the uploader told why) when it will not give them."""
    try:
        got = await context.bot.get_file(file.file_id)
        return bytes(await got.download_as_bytearray())
    except BadRequest as exc:
        # Telegram hands bots files up to 20 MB only ("file is too big"), whatever the message
        # said about the size; any other refusal is worth a retry by the user, not a crash.
        logger.info("Could not download import file %s: %s", file.file_name, exc.message)
        too_big = "too big" in exc.message.lower()
        await reply(update, tr.gettext(importer.E_TOO_BIG) if too_big else download_refused(tr))
        return None


async def _read_and_preview_admitted(
    update: Update, context: BotContext, reading: _Reading
) -> None:
    ticket, known, tr, file = reading.ticket, reading.known, reading.tr, reading.file
    services = context.services
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    data = await _download(update, context, file, tr)
    if data is None:
        return
    result = await ticket.parse(
        data=data,
        file_name=file.file_name,
        municipalities=importer.municipality_lookup(known.comuni),
        union_name=known.union_name,
    )
    if not result.ok:
        await reply(update, render_errors(result.errors, tr, file.file_name))
        return
    # A plain transaction: when the file waited for the Union picker, the button's update id
    # is already recorded, and storing the same preview twice is harmless anyway.
    async with services.db.transaction() as session:
        preview = await progress.prepare_import(
            session,
            union_id=ticket.union_id,
            actor=progress.Actor(user.id, chat.id, services.clock.now()),
            file_name=file.file_name,
            rows=result.rows,
        )
    if isinstance(preview, progress.NotAllowed):
        await reply(update, not_allowed(preview.reason, tr))
        return
    text, keyboard = render_preview(preview, tr)
    await reply(update, text, markup(keyboard))


async def on_import_union(update: Update, context: BotContext) -> None:
    """`imp:union:<union>`: the Union a held file is for; it is read now."""
    got = await pressed(update, context, _take_file, write=True)
    if got is not None and (file := await outcome_of(got, UploadedFile)):
        await got.press.query.answer()
        await preview_import(update, context, got.press.int_arg(0) or 0, file)


def _take_file(s: AsyncSession, p: Press, tr: Translator) -> Awaitable[UploadedFile | NotAllowed]:
    return progress.take_held_upload(s, union_id=p.int_arg(0), actor=p.actor)


async def on_import_confirm(update: Update, context: BotContext) -> None:
    """`imp:confirm:<union>`: write the previewed actions."""
    got = await pressed(update, context, _confirm, write=True)
    if got is not None and (done := await outcome_of(got, Imported)):
        await _say(update, import_done(done.created, done.updated, got.tr))


def _confirm(s: AsyncSession, p: Press, tr: Translator) -> Awaitable[Imported | NotAllowed]:
    return progress.confirm_import(s, union_id=p.int_arg(0), actor=p.actor)


async def on_import_cancel(update: Update, context: BotContext) -> None:
    """`imp:cancel:<union>`: the previewed (or held) file dropped, nothing changed."""
    got = await pressed(update, context, _cancel, write=True)
    if got is not None and await outcome_of(got, Cancelled) is not None:
        await _say(update, import_cancelled(got.tr))


def _cancel(s: AsyncSession, p: Press, tr: Translator) -> Awaitable[Cancelled | NotAllowed]:
    return progress.cancel_import(s, union_id=p.int_arg(0), actor=p.actor)


async def _say(update: Update, toast_and_text: tuple[str, str]) -> None:
    """The toast, then the text in place of the preview (no buttons left)."""
    toast, text = toast_and_text
    assert update.callback_query is not None
    await update.callback_query.answer(toast)
    await edit_or_send(update, update.get_bot(), text, None)


async def on_import_text(update: Update, context: BotContext, conv: Conversation) -> None:
    """Something typed while a preview waits."""
    services = context.services
    async with services.db.transaction() as session:
        tr = await caller_tr(session, services, update)
    await reply(update, press_buttons_or_send(tr))
