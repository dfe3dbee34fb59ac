"""Links that open the bot in private from a poll: `t.me/<bot>?start=mg-<poll>` (the panel of
«⚙️ Gestisci») and `?start=pv-<poll>` (one's own answers, «👤 Le mie risposte»). A button
opens them when the bot may not write to the presser first; Telegram then sends
`/start <payload>` once the person presses «Avvia».

`/start <payload>` belongs to registration (an invite: the `start_payload` hook of
bot.handlers.common). `install` puts this module in front of it: a payload that is a poll link
(`rules.parse_start_link`, checked before any lookup: anyone can type anything after /start)
is answered here, everything else goes on to the hook it found.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from bot.context import BotContext, Services
from bot.handlers.common.hooks import put_link_in_front
from bot.handlers.meetings.buttons import tell_privately
from bot.handlers.meetings.manage import refusal_text
from bot.handlers.meetings.votes import refusal_of, send_copy
from bot.i18n import Translator
from bot.scope import reply
from bot.services import meetings
from bot.views import meetings as views


def install(services: Services) -> None:
    """Answer poll links in /start; pass any other payload to the hook registered before."""
    language = services.settings.default_language

    def read(session: AsyncSession, kind: str, poll_id: int, user_id: int) -> Awaitable[Any]:
        if kind == meetings.LINK_MANAGE:
            return meetings.open_panel(session, poll_id=poll_id, telegram_user_id=user_id)
        return meetings.my_copy(
            session, poll_id=poll_id, telegram_user_id=user_id, default_language=language
        )

    put_link_in_front(services, meetings.parse_start_link, read, on_poll_link)


async def on_poll_link(
    update: Update, context: BotContext, tr: Translator, _poll_id: int, outcome: Any
) -> None:
    """The panel, or one's own answers, in private: checked as the buttons are."""
    user = update.effective_user
    assert user is not None  # the hook reads a link for a user only
    if isinstance(outcome, meetings.Panel):
        text, keyboard = views.render_panel(outcome.view, outcome.best, tr)
        await tell_privately(context.bot, user.id, text, keyboard)
    elif isinstance(outcome, meetings.CopyShown):
        await send_copy(context, user.id, outcome)
    elif isinstance(outcome, meetings.VoteRefused):
        await reply(update, views.render_vote_refused(refusal_of(outcome), tr))
    else:
        await reply(update, refusal_text(outcome, tr))  # plain text, as in a popup
