"""A vote, and a date's answers; the poll message's live tally (bot.message_refresh).

A vote costs one answerCallbackQuery (the toast, sent right after the vote is committed) and at
most a share of one editMessageText: the vote marks the poll's messages dirty and asks
bot.message_refresh for the owed edit, which goes out with the latest state, coalesced and
paced per chat (Telegram's 20 a minute per group), and is re-driven by the tick until done.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup, Update

from bot import message_refresh
from bot.context import BotContext, Services
from bot.handlers.meetings.buttons import group_press, pressed
from bot.markup import markup
from bot.scope import button_refusal, caller_tr, tr_for, update_transaction
from bot.services import meetings
from bot.views.meetings import (
    ANSWER_CODES,
    only_members_see_answers,
    render_poll,
    render_slot_details,
    render_vote_recorded,
    render_vote_refused,
)


async def on_vote(update: Update, context: BotContext) -> None:
    """`vote:y|m|n:<slot>`: one answer for one date."""
    if (press := pressed(update)) is None:
        return
    query, user, data = press
    slot_id = data.int_arg(0) if data else None
    answer = ANSWER_CODES.get(data.action) if data else None
    if slot_id is None or answer is None:
        await query.answer()
        return
    services = context.services
    where, now = group_press(update, query), services.clock.now()
    async with update_transaction(context, update) as session:
        outcome = await meetings.cast_vote(
            session, slot_id=slot_id, telegram_user_id=user.id, answer=answer, now=now, press=where
        )
    tr = tr_for(services, language=outcome.language, user=user)
    if isinstance(outcome, meetings.VoteRefused):
        await query.answer(render_vote_refused(outcome.reason, outcome.table, tr))
        return
    # The vote is committed: confirm it, then let the coalesced edit catch up (even if the
    # toast fails, e.g. "query is too old": the tally must follow the stored vote).
    try:
        await query.answer(
            render_vote_recorded(outcome.answer, outcome.starts_at, ZoneInfo(outcome.timezone), tr)
        )
    finally:
        message_refresh.request(services, outcome.dirty_chat_ids)


async def on_answers(update: Update, context: BotContext) -> None:
    """`mtg:answers:<slot>`, the date's label: who answered what, for members of that Union."""
    if (press := pressed(update)) is None:
        return
    query, user, data = press
    if (slot_id := data.int_arg(0) if data else None) is None:
        await query.answer()
        return
    async with context.services.db.transaction() as session:
        tr = await caller_tr(session, context.services, update)
        union_id = await meetings.slot_union_id(session, slot_id)
        refusal = await button_refusal(session, update, tr, union_id=union_id)
        outcome = refusal or await meetings.slot_answers(
            session, slot_id=slot_id, telegram_user_id=user.id
        )
    if isinstance(outcome, str):
        await query.answer(outcome, show_alert=True)
    elif isinstance(outcome, meetings.NotAMember):
        await query.answer(only_members_see_answers(tr))
    elif (text := render_slot_details(outcome.view, slot_id, outcome.member_id, tr)) is None:
        await query.answer()
    else:
        await query.answer(text, show_alert=True)


async def render_poll_message(
    session: AsyncSession, services: Services, message: Any
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """What a poll message (a `poll_message` row) shows now, rendered at edit time."""
    view = await meetings.load_poll_view(session, message.poll_id)
    if view is None:
        return None
    text, keyboard = render_poll(view, tr_for(services))
    return text, markup(keyboard)
