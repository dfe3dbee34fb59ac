"""The agenda's buttons (`agd:…`, listed in bot.views.agenda) and the item written in private.
Each decodes the press, checks the chat against the meeting's Union, calls one use case of
bot.services.meetings.agenda, answers, and flushes what it queued after the COMMIT."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.constants import ParseMode

from bot import delivery
from bot.context import BotContext, Services
from bot.conversations import Conversation, write_typed
from bot.handlers.common.hooks import put_link_in_front
from bot.handlers.meetings.buttons import Use, in_private_or_link, pressed_refusing
from bot.i18n import Translator
from bot.markup import markup
from bot.scope import ButtonPress, UnionOf, in_private, reply
from bot.services.meetings import agenda, meeting_union_id
from bot.telegram_edit import deliver
from bot.views import agenda as views
from bot.views.answer import Answer

_MOVES = {"up": -1, "down": 1, "drop": 0}


def _refusal(outcome: object, tr: Translator) -> str | None:
    if isinstance(outcome, agenda.AgendaRefused):
        return views.render_refusal(outcome.reason, tr, outcome.n)
    return None


async def _pressed(
    update: Update, context: BotContext, union_of: UnionOf, use: Use, *, private: bool
) -> tuple[ButtonPress, Translator, object] | None:
    return await pressed_refusing(update, context, union_of, use, private=private, refusal=_refusal)


async def on_add(update: Update, context: BotContext) -> None:
    """«📝 Proponi un punto» / «➕ Aggiungi un punto»: the dialogue opens in private."""
    now = context.services.clock.now()

    async def use(session: AsyncSession, press: ButtonPress, _tr: Translator) -> object:
        return await agenda.ask_item(
            session, meeting_id=press.object_id, telegram_user_id=press.user_id, now=now
        )

    done = await _pressed(update, context, meeting_union_id, use, private=False)
    if done is None:
        return
    press, tr, outcome = done
    assert isinstance(outcome, agenda.Asked)
    text = views.render_ask_item(outcome.view, outcome.coordinator, tr)
    if in_private(update):
        await deliver(update, Answer(text=text, new_message=True))
        return
    await in_private_or_link(
        update,
        context.bot,
        press.query,
        (text, None),
        sent=views.asked_in_private(tr),
        link=agenda.start_link(press.object_id),
    )


async def on_link(
    update: Update, context: BotContext, tr: Translator, meeting_id: int, outcome: object
) -> None:
    """`/start ap-<meeting>` after «Avvia»: the proposal's dialogue opens (checked as the
    button is, by `agenda.ask_item` in the hook's read)."""
    if isinstance(outcome, agenda.AgendaRefused):
        await reply(update, views.render_refusal(outcome.reason, tr, outcome.n))
    elif isinstance(outcome, agenda.Asked):
        text = views.render_ask_item(outcome.view, outcome.coordinator, tr)
        await reply(update, text, parse_mode=ParseMode.HTML)


def install(services: Services) -> None:
    """`/start ap-<meeting>`, in front of registration's invites."""

    async def ask(session: AsyncSession, _kind: str, meeting_id: int, user_id: int) -> object:
        return await agenda.ask_item(
            session, meeting_id=meeting_id, telegram_user_id=user_id, now=services.clock.now()
        )

    put_link_in_front(services, agenda.parse_start_link, ask, on_link)


async def on_item_text(update: Update, context: BotContext, conv: Conversation) -> None:
    """The item written after «📝 Proponi un punto»."""
    services = context.services
    written = await write_typed(
        update,
        context,
        partial(
            agenda.write_item,
            meeting_id=int(conv.data.get("meeting_id", 0)),
            language=services.settings.default_language,
        ),
    )
    if written is None:
        return
    tr, outcome = written
    if isinstance(outcome, agenda.AgendaRefused):
        text = views.render_refusal(outcome.reason, tr, outcome.n)
        await reply(update, text, parse_mode=ParseMode.HTML)
        return
    if isinstance(outcome, agenda.Panel):
        text, keyboard = views.render_panel(outcome.view, tr)
        await reply(update, text, markup(keyboard), parse_mode=ParseMode.HTML)
        return
    await reply(update, views.render_proposed(tr), parse_mode=ParseMode.HTML)
    await delivery.flush(services, context.bot)


async def on_move(update: Update, context: BotContext) -> None:
    """↑ ↓ ✖ on the coordinator's panel."""
    now = context.services.clock.now()

    async def use(session: AsyncSession, press: ButtonPress, _tr: Translator) -> object:
        return await agenda.move_item(
            session,
            item_id=press.object_id,
            delta=_MOVES.get(press.data.action, 0),
            telegram_user_id=press.user_id,
            now=now,
        )

    await _panel_press(update, context, agenda.union_of_item, use)


async def on_confirm(update: Update, context: BotContext) -> None:
    """«✅ Conferma l'ordine del giorno»."""
    await _meeting_panel_press(update, context, agenda.confirm_agenda)


async def on_show(update: Update, context: BotContext) -> None:
    """«↩️ Torna all'ordine del giorno»: the panel again, in place of the pressed message."""
    await _meeting_panel_press(update, context, agenda.open_panel)


async def _meeting_panel_press(
    update: Update, context: BotContext, use_case: Callable[..., Awaitable[object]]
) -> None:
    """A panel button naming the meeting (`agd:<verb>:<meeting>`): `use_case(session,
    meeting_id=, telegram_user_id=, now=)` answers with the panel."""
    now = context.services.clock.now()

    async def use(session: AsyncSession, press: ButtonPress, _tr: Translator) -> object:
        return await use_case(
            session, meeting_id=press.object_id, telegram_user_id=press.user_id, now=now
        )

    await _panel_press(update, context, meeting_union_id, use)


async def _panel_press(update: Update, context: BotContext, union_of: UnionOf, use: Use) -> None:
    done = await _pressed(update, context, union_of, use, private=True)
    if done is None:
        return
    _press, tr, outcome = done
    assert isinstance(outcome, agenda.Panel)
    await deliver(update, views.panel_answer(outcome.view, tr))


async def on_answer(update: Update, context: BotContext) -> None:
    """«✅ Accetta» / «❌ Rifiuta» under a member's proposal: once; the proposer is told."""
    services = context.services
    now = services.clock.now()

    async def use(session: AsyncSession, press: ButtonPress, _tr: Translator) -> object:
        return await agenda.answer_proposal(
            session,
            item_id=press.object_id,
            accept=press.data.action == "yes",
            telegram_user_id=press.user_id,
            now=now,
            language=services.settings.default_language,
        )

    done = await _pressed(update, context, agenda.union_of_item, use, private=True)
    if done is None:
        return
    _press, tr, outcome = done
    assert isinstance(outcome, agenda.ProposalAnswered)
    said = views.render_proposal_answered(outcome.accepted, outcome.text, tr)
    panel = views.panel_answer(outcome.view, tr, toast=said)
    await deliver(update, replace(panel, text=f"{said}\n\n{panel.text}"))
    await delivery.flush(services, context.bot)
