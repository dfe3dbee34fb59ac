"""/annuncio's buttons (the audience, «Un Comune…», back, «Annulla») and /documenti's (add
and remove a link): private dialogues, refused in any group; each asks one use case of
bot.services.announcements, which re-checks that the presser is the coordinator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from bot import callback_data as cb
from bot.callback_data import CallbackData
from bot.context import BotContext
from bot.handlers.announcements.scheduled import deliver_and_report
from bot.i18n import Translator
from bot.scope import button_refusal, caller_tr, update_transaction
from bot.services import announcements
from bot.telegram_edit import deliver
from bot.views import announcements as views
from bot.views.answer import Answer

# (session, the presser's translator, their Telegram id, the decoded data, its first id) → answer
Case = Callable[[AsyncSession, Translator, int, CallbackData, int], Awaitable[Answer]]


async def _on_press(
    update: Update, context: BotContext, case: Case, *, in_private: Callable[[Translator], str]
) -> Answer | None:
    """Decode, refuse a group press, run the case in one transaction, answer. Returns what was
    answered (None when the press named nothing)."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return None
    data = cb.decode(query.data)
    object_id = data.int_arg(0) if data else None
    if data is None or object_id is None:
        await query.answer()
        return None
    services = context.services
    async with update_transaction(context, update) as session:
        tr = await caller_tr(session, services, update)
        # A private dialogue: in a group the chat alone refuses it, whatever it names.
        refusal = await button_refusal(
            session, update, tr, union_id=None, private_only=in_private(tr)
        )
        if refusal is None:
            answer = await case(session, tr, query.from_user.id, data, object_id)
    if refusal is not None:
        answer = Answer(toast=refusal)
    await deliver(update, answer)
    return answer


# --- /annuncio --------------------------------------------------------------------------------


def _refused(tr: Translator, outcome: announcements.AnnouncementRefused) -> Answer:
    return views.announcement_refused(tr, outcome.reason)


async def on_send(update: Update, context: BotContext) -> None:
    """`ann:send:<announcement>:<to>`: queued to its audience, then delivered in the
    background (a long send must not hold up other updates) and reported."""
    services = context.services

    async def send(s: AsyncSession, tr: Translator, user: int, d: CallbackData, aid: int) -> Answer:
        outcome = await announcements.send_announcement(
            s,
            announcement_id=aid,
            telegram_user_id=user,
            target=d.str_arg(1) or "",
            now=services.clock.now(),
            language=tr.language,
        )
        if isinstance(outcome, announcements.AnnouncementRefused):
            return _refused(tr, outcome)
        return views.sending(
            tr,
            audience=outcome.audience,
            comune=outcome.comune,
            queued=outcome.queued,
            text=outcome.text,
        )

    answer = await _on_press(update, context, send, in_private=views.announcements_in_private)
    if answer is not None and answer.text is not None:
        services.run_in_background(deliver_and_report(services, context.bot))


async def on_menu(update: Update, context: BotContext) -> None:
    """`ann:comuni|back:<announcement>`: the Comuni to choose from, or the audiences again."""

    async def menu(s: AsyncSession, tr: Translator, user: int, d: CallbackData, aid: int) -> Answer:
        outcome = await announcements.announcement_menu(
            s, announcement_id=aid, telegram_user_id=user, comuni=d.action == views.COMUNI
        )
        if isinstance(outcome, announcements.AnnouncementRefused):
            return _refused(tr, outcome)
        return views.audience_menu(
            tr,
            announcement_id=outcome.announcement_id,
            union_name=outcome.union_name,
            text=outcome.text,
            comuni=outcome.comuni,
        )

    await _on_press(update, context, menu, in_private=views.announcements_in_private)


async def on_cancel(update: Update, context: BotContext) -> None:
    """`ann:cancel:<announcement>`: the draft is not sent."""
    now = context.services.clock.now()

    async def cancel(
        s: AsyncSession, tr: Translator, user: int, d: CallbackData, aid: int
    ) -> Answer:
        outcome = await announcements.cancel_announcement(
            s, announcement_id=aid, telegram_user_id=user, now=now
        )
        if isinstance(outcome, announcements.AnnouncementRefused):
            return _refused(tr, outcome)
        return views.cancelled(tr)

    await _on_press(update, context, cancel, in_private=views.announcements_in_private)


# --- /documenti -------------------------------------------------------------------------------


async def on_add_link(update: Update, context: BotContext) -> None:
    """`doc:add:<union>`: the coordinator's next message is the link."""
    now = context.services.clock.now()
    chat = update.effective_chat

    async def ask(s: AsyncSession, tr: Translator, user: int, d: CallbackData, uid: int) -> Answer:
        assert chat is not None
        outcome = await announcements.ask_for_link(
            s, union_id=uid, telegram_user_id=user, chat_id=chat.id, now=now
        )
        if isinstance(outcome, announcements.FoldersRefused):
            return Answer(toast=views.folders_coordinator_only(tr))
        return views.link_asked(tr)

    await _on_press(update, context, ask, in_private=views.folders_in_private)


async def on_remove_link(update: Update, context: BotContext) -> None:
    """`doc:remove:<union>:<link>`: the link goes; the list shows without it."""

    async def remove(
        s: AsyncSession, tr: Translator, user: int, d: CallbackData, uid: int
    ) -> Answer:
        outcome = await announcements.remove_link(
            s, union_id=uid, telegram_user_id=user, link_id=d.int_arg(1)
        )
        if isinstance(outcome, announcements.FoldersRefused):
            return Answer(toast=views.folders_coordinator_only(tr))
        return views.link_removed(tr, outcome.removed, outcome.folders)

    await _on_press(update, context, remove, in_private=views.folders_in_private)
