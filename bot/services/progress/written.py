"""What the technician writes or sends while the dialogue waits for it: a percentage, a note,
a photo or a document for the update, the question for the political table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.progress import rules
from bot.services.progress.flow import (
    FLOW,
    FlowState,
    Language,
    Press,
    StepShown,
    actions_of,
    comuni_names,
    extras_screen,
    menu_screen,
    next_after_save,
    progress_screen,
    save_answer,
    save_state,
    status_screen,
    who_in_union,
)
from bot.views.updates import (
    MAX_ATTACHMENTS,
    MAX_NOTE,
    MAX_QUESTION,
    Ack,
    Notice,
    Screen,
)
from storage.models import (
    Action,
)
from storage.repositories import core as core_repo

# --- typed input ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    """What the technician wrote in the dialogue: a text (or a caption), maybe an attachment
    (a photo or a document, as stored with the update)."""

    text: str
    attachment: dict[str, Any] | None = None
    captioned: bool = False


async def type_in_dialogue(
    session: AsyncSession, *, telegram_user_id: int, chat_id: int, written: Written, now: datetime
) -> StepShown | None:
    """A text, photo or document sent while the dialogue waits: a percentage, a note or an
    attachment, the question for the political table. None when there is no dialogue."""
    conv = await core_repo.get_conversation(
        session, telegram_user_id=telegram_user_id, chat_id=chat_id, now=now
    )
    loaded = (FlowState.from_json(conv.data), conv.step) if conv and conv.flow == FLOW else None
    person = await core_repo.person_by_telegram_id(session, telegram_user_id)
    language = Language(person.language, person.telegram_language) if person else Language()
    if loaded is None:
        return None
    state, step = loaded
    who = await who_in_union(session, union_id=state.union_id, telegram_user_id=telegram_user_id)
    action = await session.get(Action, state.action_id) if state.action_id else None
    if who is None or not who.may_report:
        await core_repo.clear_conversation(
            session, telegram_user_id=telegram_user_id, chat_id=chat_id
        )
        return StepShown(language, then=(Notice.NOT_A_MEMBER,))
    if action is None or not who.may_update(action):
        names = await comuni_names(session, state.union_id)
        actions = await actions_of(session, state, who)
        return StepShown(language, then=(menu_screen(state, actions, names, Notice.PICK_FIRST),))
    p = Press(who=who, state=state, step=step, action=action)
    screens, next_step = await _apply_written(session, p, written, now=now)
    if next_step is not None:
        await save_state(
            session,
            state,
            now=now,
            telegram_user_id=telegram_user_id,
            chat_id=chat_id,
            step=next_step,
        )
    return StepShown(language, then=screens)


async def _apply_written(
    session: AsyncSession, p: Press, written: Written, *, now: datetime
) -> tuple[tuple[Screen, ...], str | None]:
    """The screens to send, and the step to save (None: the state did not change)."""
    state, action = p.state, p.action
    assert action is not None
    names = await comuni_names(session, state.union_id)
    text, attachment = written.text, written.attachment
    if p.step == "progress":
        value = rules.parse_progress(text) if text else None
        if value is None:
            return (progress_screen(state, action, Notice.NUMBER_PLEASE),), None
        state.progress = value
        return (extras_screen(state, action, progress_ack=value),), "extras"
    if p.step == "extras":
        return (extras_screen(state, action, acks=_add_extras(state, text, attachment)),), "extras"
    if p.step == "question":
        if not text or (attachment is not None and not written.captioned):
            return (Notice.WRITE_QUESTION,), None
        if len(text) > MAX_QUESTION:
            return (Notice.QUESTION_TOO_LONG,), None
        state.question = " ".join(text.split())
        saved = await save_answer(session, state, action, now=now)
        actions = await actions_of(session, state, p.who)
        after = next_after_save(state, actions, names)
        return (saved, after), "status" if state.action_id else "menu"
    # "status" or "menu": buttons expected
    if p.step == "status":
        return (status_screen(state, action, names, Notice.USE_BUTTONS),), None
    actions = await actions_of(session, state, p.who)
    return (menu_screen(state, actions, names, Notice.USE_BUTTONS),), None


def _add_extras(state: FlowState, text: str, attachment: dict[str, Any] | None) -> tuple[Ack, ...]:
    acks = []
    if attachment is not None:
        current = list(state.attachments or [])
        if len(current) >= MAX_ATTACHMENTS:
            acks.append(Ack.TOO_MANY_ATTACHMENTS)
        else:
            current.append(attachment)
            state.attachments = current
            acks.append(Ack.ATTACHED)
    if text:
        note = (state.note + "\n" if state.note else "") + text
        if len(note) > MAX_NOTE:
            acks.append(Ack.NOTE_TOO_LONG)
        else:
            state.note = note
            acks.append(Ack.NOTE_ADDED)
    return tuple(acks) or (Ack.NOTHING,)
