"""/comuni: the coordinator's list of Comuni, its buttons, and the two dialogues (a list of
names to add, a new name)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.scope import UnionScope
from bot.services import registration
from bot.views.registration import comuni as views
from bot.views.registration.refusals import COMUNI_PRIVATE, Refused

from .answering import Asked, RegistrationPress, Said, button, dialogue, in_union


@in_union("comuni", views.comuni_answer, private=True, write=True)
async def comuni(
    s: AsyncSession, scope: UnionScope, asked: Asked
) -> views.ComuniList | views.AddingComuni | Refused:
    """/comuni (private, the coordinator): the Comuni, or the question that adds the first."""
    return await registration.open_comuni(
        s,
        union_id=scope.union.id,
        telegram_user_id=asked.user_id,
        chat_id=asked.chat_id,
        now=asked.now,
    )


@button(views.comuni_answer, private_only=COMUNI_PRIVATE)
async def on_button(s: AsyncSession, p: RegistrationPress) -> views.ComuniOutcome:
    """`com:add:<union>` (the dialogue that takes a list of names), `com:list:<union>` (the list
    again), `com:cancel:<union>` (Cancel in a dialogue: the list, «Va bene»),
    `com:rename:<comune>` (the dialogue that takes the new name), `com:remove:<comune>`
    («Tolgo …?»), `com:remove_yes:<comune>` (removed, or archived when it has a history)."""
    target, by = p.id(0), {"telegram_user_id": p.user_id}
    if p.verb == "add":
        return await registration.start_adding(
            s, union_id=target, chat_id=p.chat_id, now=p.now, **by
        )
    if p.verb in ("list", "cancel"):
        shown = await registration.show_comuni(s, union_id=target, chat_id=p.chat_id, **by)
        return views.cancelled(shown) if p.verb == "cancel" else shown
    if p.verb == "rename":
        return await registration.start_renaming(
            s, municipality_id=target, chat_id=p.chat_id, now=p.now, **by
        )
    if p.verb == "remove":
        return await registration.ask_comune_removal(s, municipality_id=target, **by)
    return await registration.remove_comune(s, municipality_id=target, now=p.now, **by)


@dialogue(views.added_answer)
async def on_comuni_names(s: AsyncSession, m: Said) -> views.ComuniAdded | views.ComuniUnchanged:
    """The comma-separated list of new Comuni, all added in one transaction."""
    return await registration.add_comuni(
        s,
        union_id=int(m.state.get("union_id", 0)),
        telegram_user_id=m.user.id,
        chat_id=m.chat_id,
        text=m.text,
        now=m.now,
    )


@dialogue(views.rename_answer)
async def on_comuni_rename(
    s: AsyncSession, m: Said
) -> views.ComuneRenamed | views.RenameRefused | views.ComuniUnchanged:
    """The new name of the Comune the dialogue is about."""
    return await registration.rename_comune(
        s,
        union_id=int(m.state.get("union_id", 0)),
        municipality_id=int(m.state.get("municipality_id", 0)),
        telegram_user_id=m.user.id,
        chat_id=m.chat_id,
        text=m.text,
    )
