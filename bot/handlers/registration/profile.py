"""/profilo: the name the team sees and the form one is named in, changed by the person."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import registration
from bot.views.registration import profile as views
from bot.views.roles import FORM_FROM_SHORT

from .answering import Garbage, RegistrationPress, Said, button, dialogue, private_read


@private_read(views.profile_answer)
async def profilo(s: AsyncSession, telegram_user_id: int) -> views.ProfileOutcome:
    """/profilo (private): how the team sees me, with the buttons that change it."""
    return await registration.show_profile(s, telegram_user_id=telegram_user_id)


@button(views.profile_answer)
async def on_profile(s: AsyncSession, p: RegistrationPress) -> views.ProfileOutcome:
    """`me:form:<f|m>` (the form one is named in), `me:name` (the next text is the new name),
    `me:cancel` (no new name) — each about the presser only, in their private chat."""
    me = {"telegram_user_id": p.user_id}
    if p.verb == "form":
        form = FORM_FROM_SHORT.get(p.data.str_arg(0) or "")
        if form is None:
            raise Garbage(p.data)
        return await registration.set_form(s, form=form, **me)
    if p.verb == "name":
        return await registration.ask_name(s, chat_id=p.chat_id, now=p.now, **me)
    return await registration.cancel_name(s, chat_id=p.chat_id, **me)


@dialogue(views.profile_answer)
async def on_name_text(s: AsyncSession, m: Said) -> views.ProfileOutcome:
    """The new name, typed after «✏️ Cambia nome»."""
    return await registration.rename_me(
        s, telegram_user_id=m.user.id, chat_id=m.chat_id, text=m.text
    )
