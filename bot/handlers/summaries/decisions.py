"""A decision's buttons: the votes of the political table, the coordinator's closing and
«Segna come attuata»; the decision's message kept live (bot.message_refresh).

Each press: decoded here, the chat checked (`button_refusal`), then one use case of
bot.services.summaries re-checks the rest (who, the decision's state, that a group press landed
on the decision's own message) and changes it; the answer is rendered by bot.views.summaries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from bot import delivery, message_refresh, telegram_edit
from bot.callback_data import CallbackData
from bot.context import BotContext, Services
from bot.i18n import Translator
from bot.scope import ButtonPress, group_press, on_object, tr_for
from bot.services import summaries
from bot.services.presses import Press
from bot.views import summaries as views
from bot.views.answer import Answer

Outcome = (
    summaries.VoteCast
    | summaries.OutcomeAsked
    | summaries.DecisionChanged
    | summaries.DecisionRefused
)
# (session, the presser's Telegram id, the decision's id, the press in a group, the data) → outcome
Case = Callable[[AsyncSession, int, int, Press | None, CallbackData], Awaitable[Outcome]]


async def _on_press(update: Update, context: BotContext, case: Case) -> None:
    """What every decision button does around its use case: the kit's prelude (the chat
    check against the decision's Union), the use case, the answer, the after-effects."""
    services = context.services

    def use(session: AsyncSession, p: ButtonPress, _tr: Translator) -> Awaitable[Outcome]:
        press = group_press(update, p.query)
        return case(session, p.user_id, p.object_id, press, p.data)

    guarded = await on_object(update, context, summaries.decision_union_id, use, writes=True)
    if guarded is None:
        return
    _pressed, tr, outcome = guarded
    await telegram_edit.deliver(update, _answer(outcome, tr, tr_for(services)))
    await _after(services, context, outcome)


def _answer(outcome: Outcome, tr: Translator, group_tr: Translator) -> Answer:
    """The toast in the presser's language; a decision's message in the group's (the
    instance's), like every message of the decision."""
    if isinstance(outcome, summaries.DecisionRefused):
        return views.decision_refused(tr, outcome.reason)
    if isinstance(outcome, summaries.VoteCast):
        return views.vote_recorded(tr, outcome.choice)
    if isinstance(outcome, summaries.OutcomeAsked):
        return views.choose_outcome(tr, group_tr, outcome.decision_id, outcome.text)
    if outcome.change == "closed":
        return views.outcome_recorded(tr)
    if outcome.change == "done":
        return views.marked_done(tr)
    return Answer(toast="")  # back to the votes: the message shows it


async def _after(services: Services, context: BotContext, outcome: Outcome) -> None:
    """A vote's edit goes out coalesced; a coordinator's change shows at once, and an outcome
    is sent to the technical table now."""
    if isinstance(outcome, summaries.VoteCast):
        message_refresh.request(services, outcome.dirty_chat_ids)
    elif isinstance(outcome, summaries.DecisionChanged):
        await message_refresh.refresh_now(services, context.bot, list(outcome.dirty_chat_ids))
        if outcome.change == "closed":
            delivery.flush_soon(services, context.bot)


async def on_vote(update: Update, context: BotContext) -> None:
    """`dec:vote:<decision>:<choice>`: the vote of the presser's Comuni."""
    now = context.services.clock.now()

    async def vote(
        s: AsyncSession, user: int, did: int, p: Press | None, d: CallbackData
    ) -> Outcome:
        choice = views.CHOICES.get(d.str_arg(1) or "")
        return await summaries.vote_on_decision(
            s, decision_id=did, telegram_user_id=user, choice=choice, press=p, now=now
        )

    await _on_press(update, context, vote)


async def on_close(update: Update, context: BotContext) -> None:
    """`dec:close|outcome|back:<decision>`: the coordinator closes the question."""
    services = context.services
    now, language = services.clock.now(), tr_for(services).language

    async def close(
        s: AsyncSession, user: int, did: int, p: Press | None, d: CallbackData
    ) -> Outcome:
        if d.action == views.CLOSE:
            return await summaries.ask_outcome(
                s, decision_id=did, telegram_user_id=user, press=p, language=language
            )
        if d.action == views.BACK:
            return await summaries.back_to_votes(
                s, decision_id=did, telegram_user_id=user, press=p, now=now
            )
        return await summaries.close_with_outcome(
            s,
            decision_id=did,
            telegram_user_id=user,
            outcome=views.OUTCOMES.get(d.str_arg(1) or ""),
            press=p,
            now=now,
            language=language,
        )

    await _on_press(update, context, close)


async def on_done(update: Update, context: BotContext) -> None:
    """`dec:done|done_listed:<decision>`: «Segna come attuata» (on the decision's messages, or
    on /decisione's list)."""
    now = context.services.clock.now()

    async def done(
        s: AsyncSession, user: int, did: int, p: Press | None, d: CallbackData
    ) -> Outcome:
        return await summaries.mark_done(
            s,
            decision_id=did,
            telegram_user_id=user,
            press=p,
            listed=d.action == views.DONE_LISTED,
            now=now,
        )

    await _on_press(update, context, done)


# A decision's message as it stands now (in the instance's language), for its owed edit.
render_decision_message = message_refresh.render_now(
    lambda s, message, language: summaries.decision_message_now(
        s, decision_id=message.decision_id, language=language, kind=message.kind
    )
)
