"""The poll's controls, one handler per button family (bot.views.meetings lists the data).

Under the poll in its groups, one button: «⚙️ Gestisci» (`mtg:manage`) sends the panel to the
coordinator (or whoever proposed the poll) in private — or opens the private chat through a
link, when the bot may not write first — and tells anyone else who may manage it. The panel's
controls work in private only: «Chi manca?» (`mtg:missing`), «Aggiungi data» (`mtg:add_date`),
«Proroga» (`mtg:extend`), «Chiudi ora» (`mtg:close`), «Annulla sondaggio» (`mtg:cancel`), and
the answers to their questions (`mtg:extend_by`, `mtg:confirm_close`, `mtg:confirm_cancel`).
`mtg:invite` sends a meeting's invitation in private. Who may is the use case's
(bot.services.meetings.managing), re-checked on every press; the chat check is the kit's
`button_refusal`, asked first.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import CallbackQuery, InputFile, Update
from telegram.error import Forbidden

from bot import message_refresh, telegram_edit
from bot.context import BotContext
from bot.handlers.meetings.buttons import in_private_or_link, tell_privately
from bot.handlers.meetings.scheduled import after_closing
from bot.i18n import Translator
from bot.scope import ButtonPress, in_private, on_object
from bot.services import meetings
from bot.views import meetings as views

Outcome = TypeVar("Outcome")
# (session, the press on `mtg:<verb>:<poll>[:arg]`, the presser's translator) → the outcome
UseCase = Callable[
    [AsyncSession, ButtonPress, Translator], Awaitable[Outcome | meetings.NotAllowed]
]


def _on_poll(use_case: Callable[..., Awaitable[Outcome]], **extra: object) -> UseCase[Outcome]:
    """A use case of the panel (`poll_id`, `telegram_user_id` and `extra` keywords)."""
    return lambda s, p, _tr: use_case(s, poll_id=p.object_id, telegram_user_id=p.user_id, **extra)


async def _guarded(
    update: Update, context: BotContext, use_case: UseCase[Outcome], *, writes: bool = False
) -> tuple[CallbackQuery, Translator, Outcome | meetings.NotAllowed] | None:
    """A press on the panel's `mtg:<verb>:<poll>`: the kit's prelude with the poll's Union
    (the panel works in private only), the use case in a write transaction when it `writes`."""
    only_here = views.confirmations_in_private_only
    guarded = await on_object(
        update, context, meetings.poll_union_id, use_case, writes=writes, private_only=only_here
    )
    return None if guarded is None else (guarded[0].query, guarded[1], guarded[2])


def refusal_text(refused: meetings.NotAllowed, tr: Translator) -> str:
    """What a refused control says (a popup that stays): who may manage the poll, by name,
    to a member who may not."""
    if refused.reason == "not_a_manager" and refused.coordinators:
        return views.render_managers(refused.coordinators, refused.proposer, tr)
    return views.render_manage_refusal(refused.reason, tr)


async def _refuse(query: CallbackQuery, tr: Translator, refused: meetings.NotAllowed) -> None:
    await query.answer(refusal_text(refused, tr), show_alert=True)


async def on_manage(update: Update, context: BotContext) -> None:
    """«⚙️ Gestisci» (`mtg:manage:<poll>`), under the poll in a group or in private: the panel
    in private for who may manage the poll; a popup saying who may, for anyone else."""
    on_poll = meetings.poll_union_id  # under the poll in a group too
    guarded = await on_object(update, context, on_poll, _on_poll(meetings.open_panel))
    if guarded is None:
        return
    pressed, tr, outcome = guarded
    query = pressed.query
    if isinstance(outcome, meetings.NotAllowed):
        await _refuse(query, tr, outcome)
        return
    await in_private_or_link(
        update,
        context.bot,
        query,
        views.render_panel(outcome.view, outcome.best, tr),
        sent=views.panel_sent(tr),
        link=meetings.start_link(meetings.LINK_MANAGE, outcome.view.poll.id),
    )


async def _ask(
    update: Update,
    context: BotContext,
    use_case: UseCase[Outcome],
    render: Callable[[Outcome, Translator], views.Keyboarded],
    *,
    writes: bool = False,
) -> None:
    """A control of the panel whose answer is a question, below it in the private chat."""
    if (guarded := await _guarded(update, context, use_case, writes=writes)) is None:
        return
    query, tr, outcome = guarded
    if isinstance(outcome, meetings.NotAllowed):
        await _refuse(query, tr, outcome)
        return
    text, keyboard = render(outcome, tr)
    if await tell_privately(context.bot, query.from_user.id, text, keyboard) is not None:
        await query.answer()
    else:
        await query.answer(views.cannot_write_privately(tr), show_alert=True)


async def _confirm(
    update: Update,
    context: BotContext,
    use_case: UseCase[Outcome],
    message: Callable[[Outcome, Translator], str],
) -> Outcome | None:
    """A confirmation pressed in private: the toast says what was done; the question shows
    it too, when it can still be edited. The outcome, for the after-effects."""
    guarded = await _guarded(update, context, use_case, writes=True)
    if guarded is None:
        return None
    query, tr, outcome = guarded
    if isinstance(outcome, meetings.NotAllowed):
        await _refuse(query, tr, outcome)
        return None
    text = message(outcome, tr)
    await query.answer(text)
    await telegram_edit.edit_pressed(context.bot, query, html.escape(text))
    return outcome


async def on_missing(update: Update, context: BotContext) -> None:
    """«Chi manca?» (panel): who has not answered, Comune by Comune, below the panel."""
    use_case = _on_poll(meetings.managed_poll, open_only=False)
    await _ask(update, context, use_case, lambda o, tr: (views.render_missing(o.view, tr), None))


async def on_close(update: Update, context: BotContext) -> None:
    """«Chiudi ora»: the question, with the date closing now would choose."""
    render = views.render_close_question
    await _ask(
        update, context, _on_poll(meetings.open_panel), lambda o, tr: render(o.view, o.best, tr)
    )


async def on_cancel(update: Update, context: BotContext) -> None:
    """«Annulla sondaggio»: the question."""
    render = views.render_cancel_question
    await _ask(update, context, _on_poll(meetings.managed_poll), lambda o, tr: render(o.view, tr))


async def on_extend(update: Update, context: BotContext) -> None:
    """«Proroga»: the extensions still allowed."""
    render = views.render_extend_choices
    await _ask(
        update,
        context,
        _on_poll(meetings.extend_choices),
        lambda o, tr: render(o.view, o.choices, tr),
    )


async def on_add_date(update: Update, context: BotContext) -> None:
    """«Aggiungi data»: the new date is written next (bot.handlers.meetings.dialogue)."""
    start = _on_poll(meetings.start_adding_date, now=context.services.clock.now())
    render = views.render_add_date_prompt
    await _ask(update, context, start, lambda o, tr: (render(o.view, tr), None), writes=True)


async def on_confirm_close(update: Update, context: BotContext) -> None:
    """«Sì, chiudi»: the poll closes now (bot.services.meetings.close_poll)."""
    services = context.services
    closed = await _confirm(
        update,
        context,
        _on_poll(
            meetings.close_now,
            now=services.clock.now(),
            language=services.settings.default_language,
        ),
        lambda done, tr: views.render_closed(done.closed.starts_at, done.view.tz, tr),
    )
    if closed is not None:
        await after_closing(services, context.bot)


async def on_confirm_cancel(update: Update, context: BotContext) -> None:
    """«Sì, annulla il sondaggio»."""
    now = context.services.clock.now()
    cancelled = await _confirm(
        update,
        context,
        _on_poll(meetings.cancel_poll, now=now),
        lambda _done, tr: views.render_cancelled(tr),
    )
    if cancelled is not None:
        await message_refresh.request_owed(context.services)


async def on_extend_by(update: Update, context: BotContext) -> None:
    """`mtg:extend_by:<poll>:<days>`: the new deadline."""
    now = context.services.clock.now()
    extended = await _confirm(
        update,
        context,
        lambda s, p, _tr: meetings.extend_deadline(
            s, poll_id=p.object_id, telegram_user_id=p.user_id, days=p.data.int_arg(1), now=now
        ),
        lambda done, tr: views.render_extended(done.deadline, done.view.tz, tr),
    )
    if extended is not None:
        await message_refresh.request_owed(context.services)


async def on_invite(update: Update, context: BotContext) -> None:
    """`mtg:invite:<meeting>` (/calendario): the meeting's .ics, in private, for its members."""
    services = context.services
    guarded = await on_object(
        update,
        context,
        meetings.meeting_union_id,
        lambda s, p, tr: meetings.meeting_invite(
            s,
            meeting_id=p.object_id,
            telegram_user_id=p.user_id,
            now=services.clock.now(),
            language=tr.language,
        ),
    )
    if guarded is None:
        return
    pressed, tr, invite = guarded
    query, user_id = pressed.query, pressed.user_id
    if isinstance(invite, meetings.NoInvite):
        await query.answer(views.only_members_get_invites(tr), show_alert=True)
        return
    try:
        document = InputFile(invite.data, filename=invite.file_name)
        await context.bot.send_document(chat_id=user_id, document=document, caption=invite.caption)
    except Forbidden:
        await query.answer(views.cannot_write_privately(tr), show_alert=True)
        return
    await query.answer(views.invite_sent(in_private(update), tr))
