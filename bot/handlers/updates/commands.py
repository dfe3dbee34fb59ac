"""/aggiornamento (the technician's update dialogue, in private; the round's invitation is its
list already) and /aggiornamento stato (the round's state, for the coordinator)."""

from __future__ import annotations

from collections.abc import Awaitable

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Chat, Update

from bot.context import BotContext
from bot.handlers.updates.dialogue import answer_tr
from bot.i18n import Translator
from bot.markup import markup
from bot.scope import (
    Refusal,
    UnionScope,
    caller,
    read_in_scope,
    reply,
    resolve_union,
    union_command,
    update_transaction,
)
from bot.services import progress
from bot.views.html_split import split_text
from bot.views.rounds import status_refusal
from bot.views.updates import go_private, render_screen, step_refusal


async def _start(update: Update, context: BotContext, union_id: int | None) -> None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    services = context.services
    if chat.type != Chat.PRIVATE:
        async with services.db.transaction() as session:
            speaker = await caller(session, services, update)
        if speaker is not None:
            text, keyboard = go_private(speaker.tr, context.bot.username)
            await reply(update, text, markup(keyboard))
        return
    async with update_transaction(context, update) as session:
        scope = await resolve_union(
            session, update, context, command="aggiornamento", chosen_union_id=union_id
        )
        shown = (
            scope
            if isinstance(scope, Refusal)
            else await progress.start_dialogue(
                session,
                union_id=scope.union.id,
                telegram_user_id=user.id,
                chat_id=chat.id,
                now=services.clock.now(),
            )
        )
    if isinstance(shown, Refusal):
        await shown.send(update)
        return
    tr = answer_tr(update, context, shown.language)
    if isinstance(shown, progress.StepRefused):
        await reply(update, step_refusal(shown.reason, tr))
    elif shown.edit is not None:
        text, keyboard = render_screen(shown.edit, tr)
        await reply(update, text, markup(keyboard))


async def _status(update: Update, context: BotContext, union_id: int | None) -> None:
    tr, scope, shown = await read_in_scope(
        update, context, "aggiornamento_stato", union_id, _status_of
    )
    if isinstance(scope, Refusal):
        await scope.send(update)
        return
    if shown is None:
        return
    text = (
        shown.text if isinstance(shown, progress.StatusShown) else status_refusal(shown.reason, tr)
    )
    for chunk in split_text(text):
        await reply(update, chunk)


def _status_of(
    s: AsyncSession, scope: UnionScope, tr: Translator
) -> Awaitable[progress.StatusShown | progress.StatusRefused]:
    return progress.round_status(
        s, union=scope.union, coordinator=scope.is_coordinator, language=tr.language
    )


start = union_command("aggiornamento", _start)
status = union_command("aggiornamento_stato", _status)


async def aggiornamento(update: Update, context: BotContext) -> None:
    """/aggiornamento, or /aggiornamento stato."""
    args = [a.lower() for a in (context.args or [])]
    if args and args[0] in ("stato", "status"):
        await status(update, context)
    else:
        await start(update, context)
