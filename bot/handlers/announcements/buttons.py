"""/annuncio's buttons (the audience, «Un Comune…», back, «Annulla») and /documenti's (add
and remove a link): private dialogues, refused in any group; each asks one use case of
bot.services.announcements, which re-checks that the presser is the coordinator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from bot.context import BotContext
from bot.handlers.announcements.scheduled import deliver_and_report
from bot.i18n import Translator
from bot.scope import ButtonPress, on_object
from bot.services import announcements as ann
from bot.telegram_edit import deliver
from bot.views import announcements as views
from bot.views.answer import Answer

Outcome = (
    ann.AnnouncementMenu
    | ann.AnnouncementSending
    | ann.AnnouncementCancelled
    | ann.AnnouncementRefused
    | ann.LinkAsked
    | ann.LinkRemoved
    | ann.FoldersRefused
)
# (session, the press, the presser's language) → outcome
Case = Callable[[AsyncSession, ButtonPress, str], Awaitable[Outcome]]


async def _on_press(
    update: Update, context: BotContext, case: Case, in_private: Callable[[Translator], str]
) -> Outcome | None:
    """The kit's prelude (a private dialogue: the chat alone refuses a group press, whatever
    it names), the case, the answer. Returns the outcome (None when refused)."""

    def use(session: AsyncSession, p: ButtonPress, tr: Translator) -> Awaitable[Outcome]:
        return case(session, p, tr.language)

    guarded = await on_object(update, context, None, use, writes=True, private_only=in_private)
    if guarded is None:
        return None
    _pressed, tr, outcome = guarded
    await deliver(update, _answer(tr, outcome))
    return outcome


def _answer(tr: Translator, outcome: Outcome) -> Answer:
    if isinstance(outcome, ann.AnnouncementRefused):
        return views.announcement_refused(tr, outcome.reason)
    if isinstance(outcome, ann.FoldersRefused):
        return Answer(toast=views.folders_coordinator_only(tr))
    if isinstance(outcome, ann.AnnouncementSending):
        return views.sending(tr, outcome)
    if isinstance(outcome, ann.AnnouncementMenu):
        return views.audience_menu(tr, outcome)
    if isinstance(outcome, ann.AnnouncementCancelled):
        return views.cancelled(tr)
    if isinstance(outcome, ann.LinkAsked):
        return views.link_asked(tr)
    return views.link_removed(tr, outcome.removed, outcome.folders)


async def on_send(update: Update, context: BotContext) -> None:
    """`ann:send:<announcement>:<to>`: queued to its audience, then delivered in the
    background (a long send must not hold up other updates) and reported."""
    services = context.services

    def send(s: AsyncSession, p: ButtonPress, language: str) -> Awaitable[Outcome]:
        return ann.send_announcement(
            s,
            announcement_id=p.object_id,
            telegram_user_id=p.user_id,
            target=p.data.str_arg(1) or "",
            now=services.clock.now(),
            language=language,
        )

    outcome = await _on_press(update, context, send, views.announcements_in_private)
    if isinstance(outcome, ann.AnnouncementSending):
        services.run_in_background(deliver_and_report(services, context.bot))


async def on_menu(update: Update, context: BotContext) -> None:
    """`ann:comuni|back:<announcement>`: the Comuni to choose from, or the audiences again."""

    def menu(s: AsyncSession, p: ButtonPress, _language: str) -> Awaitable[Outcome]:
        comuni = p.data.action == views.COMUNI
        return ann.announcement_menu(
            s, announcement_id=p.object_id, telegram_user_id=p.user_id, comuni=comuni
        )

    await _on_press(update, context, menu, views.announcements_in_private)


async def on_cancel(update: Update, context: BotContext) -> None:
    """`ann:cancel:<announcement>`: the draft is not sent."""
    now = context.services.clock.now()

    def cancel(s: AsyncSession, p: ButtonPress, _language: str) -> Awaitable[Outcome]:
        return ann.cancel_announcement(
            s, announcement_id=p.object_id, telegram_user_id=p.user_id, now=now
        )

    await _on_press(update, context, cancel, views.announcements_in_private)


async def on_add_link(update: Update, context: BotContext) -> None:
    """`doc:add:<union>`: the coordinator's next message is the link."""
    chat, now = update.effective_chat, context.services.clock.now()
    chat_id = chat.id if chat is not None else 0

    def ask(s: AsyncSession, p: ButtonPress, _language: str) -> Awaitable[Outcome]:
        return ann.ask_for_link(
            s, union_id=p.object_id, telegram_user_id=p.user_id, chat_id=chat_id, now=now
        )

    await _on_press(update, context, ask, views.folders_in_private)


async def on_remove_link(update: Update, context: BotContext) -> None:
    """`doc:remove:<union>:<link>`: the link goes; the list shows without it."""

    def remove(s: AsyncSession, p: ButtonPress, _language: str) -> Awaitable[Outcome]:
        link_id = p.data.int_arg(1)
        return ann.remove_link(s, union_id=p.object_id, telegram_user_id=p.user_id, link_id=link_id)

    await _on_press(update, context, remove, views.folders_in_private)


__all__ = ["on_add_link", "on_cancel", "on_menu", "on_remove_link", "on_send"]
