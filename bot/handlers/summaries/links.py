"""Links that open a summaries dialogue in private: `t.me/<bot>?start=exp-<union>` (/esporta's
formats), `sheet-<union>` (the spreadsheet under a summary), `dec-<union>` (/decisione's desk);
bot.services.summaries.links says which button gives which.

`/start <payload>` belongs to registration (an invite) and meetings put their poll links in
front of it; `install` puts this module in front of both: a payload of this shape
(`parse_start_link`, checked before any lookup) is answered here in a private chat, everything
else goes on to the hook it found. Whoever arrives is checked again, as the command or the
button would check them.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.constants import ParseMode

from bot.context import BotContext, Services
from bot.handlers.common.hooks import put_link_in_front
from bot.handlers.summaries.files import send_files
from bot.i18n import Translator
from bot.markup import markup
from bot.scope import reply
from bot.services import summaries
from bot.views import summaries as views
from bot.views.html_split import split_sections


def install(services: Services) -> None:
    """Answer the summaries' links in /start; pass any other payload to the hook before."""
    put_link_in_front(services, summaries.parse_start_link, _read, on_link)


def _read(session: AsyncSession, kind: str, union_id: int, user_id: int) -> Awaitable[Any]:
    """What the link names, for the Union it names, if the caller may have it."""
    if kind == summaries.LINK_EXPORT:
        return summaries.export_link(session, union_id=union_id, telegram_user_id=user_id)
    if kind == summaries.LINK_SHEET:
        return summaries.export_access(
            session, union_id=union_id, telegram_user_id=user_id, restricted=False
        )
    return summaries.decision_link(session, union_id=union_id, telegram_user_id=user_id)


async def on_link(
    update: Update, context: BotContext, tr: Translator, union_id: int, outcome: Any
) -> None:
    """The dialogue the link opens, or why not."""
    if isinstance(outcome, summaries.ExportRefused):
        await reply(update, views.export_refused(tr, outcome.reason))
    elif isinstance(outcome, summaries.ExportOffer):
        text, keyboard = views.export_question(tr, outcome.union_name, outcome.union_id)
        await reply(update, text, markup(keyboard), parse_mode=ParseMode.HTML)
    elif isinstance(outcome, summaries.ExportAllowed):
        await _send_sheet(update, context, union_id, tr.language)
    elif isinstance(outcome, summaries.DecisionNotRecorded):
        await reply(update, views.decision_not_recorded(tr, outcome.reason))
    else:
        sections, keyboard = views.decision_desk(tr, outcome.pending)
        parts = split_sections(sections)
        for n, part in enumerate(parts):
            last = n == len(parts) - 1
            await reply(update, part, markup(keyboard) if last else None, parse_mode=ParseMode.HTML)


async def _send_sheet(update: Update, context: BotContext, union_id: int, language: str) -> None:
    """The spreadsheet the summary's button would have sent."""
    assert update.effective_user is not None
    async with context.services.db.transaction() as session:
        read = await summaries.read_export(
            session, union_id=union_id, now=context.services.clock.now()
        )
    if read is not None:
        files = await summaries.export_files(read, kind=views.SHEET, language=language)
        await send_files(context, update.effective_user.id, files)
