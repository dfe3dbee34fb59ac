"""A vote, one's own answers in private, a date's answers; what a poll message shows at each
coalesced edit (bot.message_refresh).

A vote in a group costs one answerCallbackQuery (the toast: what was recorded and all of one's
answers to the poll, sent right after the vote is committed) and a share of the group's
coalesced editMessageText; if the voter keeps a private copy of the poll, one coalesced edit of
it too. A vote in private (a reminder, a private copy) costs the toast and one direct edit of
the pressed copy, plus the same share of the group's edit. Every edit is rendered from the
database when it goes out, paced per chat, and re-driven by the tick until done.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup, Update

from bot import message_refresh
from bot.context import BotContext, Services
from bot.handlers.meetings.buttons import tell_privately
from bot.i18n import translator
from bot.markup import markup
from bot.scope import (
    button_press,
    group_press,
    in_private,
    on_object,
    private_press,
    tr_for,
    update_transaction,
)
from bot.services import meetings
from bot.services.edit_pacing import is_group
from bot.services.presses import Press
from bot.views.meetings import (
    ANSWER_CODES,
    CopyView,
    PollView,
    VoteRefusal,
    copy_sent,
    only_members_see_answers,
    render_copy,
    render_poll,
    render_slot_details,
    render_vote_recorded,
    render_vote_refused,
    start_link_url,
)


def refusal_of(refused: meetings.VoteRefused) -> VoteRefusal:
    return VoteRefusal(
        refused.reason, table=refused.table, at=refused.at, tz=ZoneInfo(refused.timezone)
    )


async def on_vote(update: Update, context: BotContext) -> None:
    """`vote:y|m|n:<slot>`: one answer for one date."""
    if (pressed := await button_press(update)) is None:
        return
    query, user = pressed.query, pressed.query.from_user
    if (answer := ANSWER_CODES.get(pressed.data.action)) is None:
        await query.answer()
        return
    services, mine = context.services, private_press(update, query)
    async with update_transaction(context, update) as session:
        outcome = await meetings.cast_vote(
            session,
            slot_id=pressed.object_id,
            telegram_user_id=user.id,
            answer=answer,
            now=services.clock.now(),
            press=group_press(update, query),
            private=mine,
        )
    tr = tr_for(services, language=outcome.language, user=user)
    if isinstance(outcome, meetings.VoteRefused):  # nothing recorded: a popup that stays
        await query.answer(render_vote_refused(refusal_of(outcome), tr), show_alert=True)
        return
    # The vote is committed: confirm it, then let the coalesced edits catch up (even if the
    # toast fails, e.g. "query is too old": the messages must follow the stored vote).
    tz = ZoneInfo(outcome.timezone)
    try:
        await query.answer(
            render_vote_recorded(outcome.answer, outcome.starts_at, tz, tr, outcome.mine)
        )
    finally:
        await _follow(context, outcome.dirty_chat_ids, mine)


async def _follow(context: BotContext, dirty: tuple[int, ...], private: Press | None) -> None:
    """The edits a vote owes: coalesced in the groups and in the voter's copy; the copy just
    pressed in private shows the new mark at once (one person's chat: no need to wait)."""
    services = context.services
    if private is None:
        message_refresh.request(services, dirty)
        return
    message_refresh.request(services, [c for c in dirty if is_group(c)])
    await message_refresh.refresh_now(services, context.bot, [private.chat_id])


async def on_mine(update: Update, context: BotContext) -> None:
    """`mtg:mine:<poll>` («👤 Le mie risposte»): one's private copy of the poll."""
    language = context.services.settings.default_language
    guarded = await on_object(
        update,
        context,
        meetings.poll_union_id,
        lambda s, p, _tr: meetings.my_copy(
            s, poll_id=p.object_id, telegram_user_id=p.user_id, default_language=language
        ),
    )
    if guarded is None:
        return
    pressed, tr, outcome = guarded
    query = pressed.query
    if isinstance(outcome, meetings.VoteRefused):
        await query.answer(render_vote_refused(refusal_of(outcome), tr), show_alert=True)
    elif await send_copy(context, pressed.user_id, outcome):
        await query.answer(None if in_private(update) else copy_sent(tr))
    else:  # never started the bot, or blocked it: the link opens the chat and brings the copy
        link = meetings.start_link(meetings.LINK_MY_ANSWERS, outcome.copy.poll_id)
        await query.answer(url=start_link_url(context.bot.username, link))


async def send_copy(context: BotContext, user_id: int, shown: meetings.CopyShown) -> bool:
    """Send one's private copy, then remember it: it follows their answers from now on."""
    text, keyboard = render_copy(shown.copy, translator(shown.copy.language))
    sent = await tell_privately(context.bot, user_id, text, keyboard)
    if sent is None:
        return False
    async with context.services.db.transaction() as session:
        await meetings.copy_sent(
            session,
            poll_id=shown.copy.poll_id,
            member_id=shown.member_id,
            chat_id=sent.chat.id,
            message_id=sent.message_id,
        )
    return True


async def on_answers(update: Update, context: BotContext) -> None:
    """`mtg:answers:<slot>`, the date's label: who answered what, for members of that Union."""
    guarded = await on_object(
        update,
        context,
        meetings.slot_union_id,
        lambda s, p, _tr: meetings.slot_answers(s, slot_id=p.object_id, telegram_user_id=p.user_id),
    )
    if guarded is None:
        return
    pressed, tr, outcome = guarded
    query = pressed.query
    if isinstance(outcome, meetings.NotAMember):
        await query.answer(only_members_see_answers(tr), show_alert=True)
    elif (
        text := render_slot_details(outcome.view, pressed.object_id, outcome.member_id, tr)
    ) is None:
        await query.answer()
    else:
        await query.answer(text, show_alert=True)


def _render(
    services: Services, shown: PollView | CopyView
) -> tuple[str, InlineKeyboardMarkup | None]:
    if isinstance(shown, CopyView):
        text, keyboard = render_copy(shown, translator(shown.language))
    else:
        text, keyboard = render_poll(shown, tr_for(services))
    return text, markup(keyboard)


async def render_poll_message(
    session: AsyncSession, services: Services, message: Any
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """What a poll message (a `poll_message` row) shows now, rendered at edit time: the grid in
    a group, the member's own answers in a private copy."""
    shown = await meetings.shown_on(
        session,
        poll_id=message.poll_id,
        member_id=message.member_id,
        default_language=services.settings.default_language,
    )
    return _render(services, shown) if shown is not None else None
