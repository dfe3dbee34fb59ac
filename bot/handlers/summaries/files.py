"""The spreadsheet under a summary (`sum:xlsx:<union>`, any member of the Union) and
/esporta's formats (`exp:xlsx|csv:<union>`, the coordinator and the Sindaci): the files are
sent in private, whoever pressed where."""

from __future__ import annotations

from telegram import InputFile, Update
from telegram.error import Forbidden

from bot.context import BotContext
from bot.i18n import Translator
from bot.scope import button_press, button_refusal, caller_tr
from bot.services import summaries
from bot.views import summaries as views


async def on_summary_sheet(update: Update, context: BotContext) -> None:
    """`sum:xlsx:<union>`, under a summary."""
    await _send_files(update, context, restricted=False)


async def on_export_file(update: Update, context: BotContext) -> None:
    """`exp:xlsx|csv:<union>`, /esporta's formats."""
    await _send_files(update, context, restricted=True)


async def _send_files(update: Update, context: BotContext, *, restricted: bool) -> None:
    pressed = await button_press(update)
    if pressed is None:
        return
    services = context.services
    union_id = pressed.object_id
    async with services.db.transaction() as session:
        tr = await caller_tr(session, services, update)
        refusal = await button_refusal(session, update, tr, union_id=union_id)
        access = refusal or await summaries.export_access(
            session, union_id=union_id, telegram_user_id=pressed.user_id, restricted=restricted
        )
    if isinstance(access, summaries.ExportAllowed):
        await pressed.query.answer(views.export_preparing(tr))
        async with services.db.transaction() as session:
            read = await summaries.read_export(session, union_id=union_id, now=services.clock.now())
        if read is not None:
            kind = pressed.data.action
            files = await summaries.export_files(read, kind=kind, language=tr.language)
            await _send_documents(update, context, tr, files)
        return
    refused = access if isinstance(access, str) else views.export_refused(tr, access.reason)
    await pressed.query.answer(refused, show_alert=True)


async def _send_documents(
    update: Update, context: BotContext, tr: Translator, files: list[summaries.ExportFile]
) -> None:
    """In private; a presser who never started the bot is told where they pressed."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None
    try:
        for file in files:
            await context.bot.send_document(
                chat_id=user.id,
                document=InputFile(file.content, filename=file.name),
                caption=file.caption,
            )
    except Forbidden:
        if chat is not None:
            await chat.send_message(views.export_cannot_reach(tr))
