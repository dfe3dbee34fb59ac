"""The spreadsheet under a summary (`sum:xlsx:<union>`, any member of the Union) and
/esporta's formats (`exp:xlsx|csv:<union>`, the coordinator and the Sindaci): the files are
sent in private, whoever pressed where."""

from __future__ import annotations

from collections.abc import Awaitable

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InputFile, Update
from telegram.error import Forbidden

from bot.context import BotContext
from bot.i18n import Translator
from bot.markup import markup
from bot.scope import ButtonPress, on_object, the_union
from bot.services import summaries
from bot.views import summaries as views


async def on_summary_sheet(update: Update, context: BotContext) -> None:
    """`sum:xlsx:<union>`, under a summary."""
    await _send_files(update, context, restricted=False)


async def on_export_file(update: Update, context: BotContext) -> None:
    """`exp:xlsx|csv:<union>`, /esporta's formats."""
    await _send_files(update, context, restricted=True)


async def _send_files(update: Update, context: BotContext, *, restricted: bool) -> None:
    services = context.services

    def access(
        session: AsyncSession, p: ButtonPress, _tr: Translator
    ) -> Awaitable[summaries.ExportAllowed | summaries.ExportRefused]:
        return summaries.export_access(
            session, union_id=p.object_id, telegram_user_id=p.user_id, restricted=restricted
        )

    if (guarded := await on_object(update, context, the_union, access)) is None:
        return
    pressed, tr, allowed = guarded
    union_id = pressed.object_id
    if not isinstance(allowed, summaries.ExportAllowed):
        await pressed.query.answer(views.export_refused(tr, allowed.reason), show_alert=True)
        return
    await pressed.query.answer(views.export_preparing(tr))
    async with services.db.transaction() as session:
        read = await summaries.read_export(session, union_id=union_id, now=services.clock.now())
    if read is not None:
        files = await summaries.export_files(read, kind=pressed.data.action, language=tr.language)
        if not await send_files(context, pressed.user_id, files):
            await _cannot_reach(update, context, tr, union_id, restricted=restricted)


async def send_files(context: BotContext, user_id: int, files: list[summaries.ExportFile]) -> bool:
    """The files, in private; False when the person never started the bot (or blocked it)."""
    try:
        for file in files:
            await context.bot.send_document(
                chat_id=user_id,
                document=InputFile(file.content, filename=file.name),
                caption=file.caption,
            )
    except Forbidden:
        return False
    return True


async def _cannot_reach(
    update: Update, context: BotContext, tr: Translator, union_id: int, *, restricted: bool
) -> None:
    """Said where they pressed, with a button that opens the chat with the bot: its «Avvia»
    brings them back to the same files (bot.handlers.summaries.links)."""
    chat = update.effective_chat
    if chat is None:
        return
    kind = summaries.LINK_EXPORT if restricted else summaries.LINK_SHEET
    link = views.open_chat(tr, context.bot.username, summaries.start_link(kind, union_id))
    await chat.send_message(views.export_cannot_reach(tr), reply_markup=markup(link))
