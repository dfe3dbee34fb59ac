"""Joining through an invite: /start <token> (the `start_payload` hook of bot.handlers.common),
the answers of its questions (the Comune, the role in one's form)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Chat, Update

from bot.context import BotContext
from bot.scope import update_transaction
from bot.services import registration
from bot.telegram_edit import deliver
from bot.views.registration import joining as views

from .answering import RegistrationPress, Said, button, dialogue, profile_of, reader


async def on_start_payload(update: Update, context: BotContext, payload: str) -> None:
    """/start <token>: in private, the invite opens the dialogue (or says why it cannot)."""
    services = context.services
    user, chat = update.effective_user, update.effective_chat
    who = await reader(update, context)
    if who is None or user is None or chat is None:
        return
    if chat.type != Chat.PRIVATE:
        await deliver(update, views.open_in_private(who.tr))
        return
    async with update_transaction(context, update) as session:
        outcome = await registration.open_invite(
            session,
            token=payload,
            profile=profile_of(user, who.tr),
            chat_id=chat.id,
            now=services.clock.now(),
        )
    await deliver(update, views.start_answer(outcome, who.tr))


@button(views.join_answer, private_only=None, flush=True)
async def on_answer(s: AsyncSession, p: RegistrationPress) -> views.JoinOutcome:
    """`reg:comune:<invite>:<comune>` (0: none, Union staff), `reg:role:<invite>:<role><form>`
    (the last answer: the request goes to the coordinators), `reg:cancel:<invite>` — an
    answer of the joining dialogue, the one stored for the presser
    (bot.services.registration.joining)."""
    asking = {"telegram_user_id": p.user_id, "chat_id": p.chat_id, "invite_id": p.id(0)}
    if p.verb == "comune":
        return await registration.choose_comune(s, municipality_id=p.id(1), now=p.now, **asking)
    if p.verb == "cancel":
        return await registration.cancel_joining(s, now=p.now, **asking)
    role, form = p.role_and_form(1)
    return await registration.choose_role(
        s,
        profile=p.profile(),
        chat_id=p.chat_id,
        invite_id=p.id(0),
        role=role,
        form=form,
        now=p.now,
        default_language=p.default_language,
    )


@dialogue(views.join_answer, flush=True)
async def on_join_text(s: AsyncSession, m: Said) -> views.JoinOutcome:
    """Typed text during joining: the name they want, then the question again."""
    return await registration.type_answer(
        s,
        telegram_user_id=m.user.id,
        chat_id=m.chat_id,
        step=m.step,
        state=m.state,
        text=m.text,
        now=m.now,
    )
