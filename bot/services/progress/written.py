"""What the technician writes or sends to the dialogue: after a save, a percentage, a note, a
photo or a document that complete the answer just saved; after «⚖️», the question for the
political table. Each is stored at once, on the same row of the history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.progress import rules
from bot.services.progress.flow import (
    FLOW,
    FlowState,
    StepShown,
    listed,
    menu_screen,
    read_presser,
    save_state,
)
from bot.views.updates import (
    MAX_ATTACHMENTS,
    MAX_NOTE,
    MAX_QUESTION,
    Ack,
    Added,
    Notice,
    Screen,
)
from storage.models import ActionStatus
from storage.repositories import actions as repo
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
    """A text, photo or document sent while the dialogue is open: it completes the answer just
    saved (a percentage, a note, an attachment, the question for the political table), or is
    answered with the list. None when there is no dialogue."""
    conv = await core_repo.get_conversation(
        session, telegram_user_id=telegram_user_id, chat_id=chat_id, now=now
    )
    if conv is None or conv.flow != FLOW:
        return None
    state, step = FlowState.from_json(conv.data), conv.step
    # The writer, their membership, Comuni and the action of the answer just saved: one query
    # (as a press reads it), the dialogue's row already at hand.
    presser = await read_presser(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        action_id=state.action_id,
        union_id=state.union_id,
    )
    language, who, ctx = presser.language, presser.who, presser.ctx
    if who is None or not who.may_report or who.union_id != state.union_id:
        await core_repo.clear_conversation(
            session, telegram_user_id=telegram_user_id, chat_id=chat_id
        )
        return StepShown(language, then=(Notice.NOT_A_MEMBER,))
    action = ctx.action if ctx is not None else None
    if (
        step not in ("saved", "question")
        or state.update_id is None
        or action is None
        or not who.may_update(action)
    ):
        actions = await listed(session, state, who)
        notice = Notice.USE_BUTTONS if step == "status" else Notice.PICK_FIRST
        return StepShown(language, then=(menu_screen(state, actions, now=now, header=notice),))
    screens, next_step = await _complete(session, state, step, written, now=now)
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


def _added(state: FlowState, *acks: Ack) -> Added:
    return Added(
        code=state.code or "",
        union_id=state.union_id,
        acks=acks,
        progress=state.progress,
        question=state.question,
    )


async def _amend(session: AsyncSession, state: FlowState, *, now: datetime, **values: Any) -> None:
    """Complete the row of the answer just saved (repo.amend_update's `progress`, `note`,
    `question`)."""
    assert state.update_id is not None and state.action_id is not None
    await repo.amend_update(
        session,
        update_id=state.update_id,
        action_id=state.action_id,
        member_id=state.member_id,
        now=now,
        **values,
    )


async def _complete(
    session: AsyncSession, state: FlowState, step: str, written: Written, *, now: datetime
) -> tuple[tuple[Screen, ...], str | None]:
    """Complete the answer just saved; the screens to send and the step to save (None: the
    state did not change)."""
    text, attachment = rules.clean_typed(written.text).strip(), written.attachment
    if step == "question":
        if not text or (attachment is not None and not written.captioned):
            return (Notice.WRITE_QUESTION,), None
        if len(text) > MAX_QUESTION:
            return (Notice.QUESTION_TOO_LONG,), None
        state.question = " ".join(text.split())
        await _amend(session, state, now=now, question=state.question)
        return (_added(state, Ack.QUESTION_ADDED),), "saved"
    # A bare number is the percentage of an answer that has one ("40", "40%").
    value = rules.parse_progress(text) if text and attachment is None else None
    if value is not None and state.status in (ActionStatus.ONGOING, ActionStatus.POSTPONED):
        if value != state.progress:
            await _amend(session, state, now=now, progress=value)
            state.progress, state.unchanged = value, False
        return (_added(state, Ack.PROGRESS_SET),), "saved"
    acks = await _extras(session, state, text, attachment, now=now)
    if not acks:
        return (Notice.USE_BUTTONS,), None
    return (_added(state, *acks),), "saved"


async def _extras(
    session: AsyncSession,
    state: FlowState,
    text: str,
    attachment: dict[str, Any] | None,
    *,
    now: datetime,
) -> list[Ack]:
    """A note and/or an attachment (a photo's caption is its note) for the answer just saved."""
    assert state.update_id is not None
    acks: list[Ack] = []
    if attachment is not None:
        if state.attachments >= MAX_ATTACHMENTS:
            acks.append(Ack.TOO_MANY_ATTACHMENTS)
        else:
            await repo.add_attachment(
                session, update_id=state.update_id, attachment=repo.AttachmentIn(**attachment)
            )
            state.attachments += 1
            acks.append(Ack.ATTACHED)
    if text:
        note = (state.note + "\n" if state.note else "") + text
        if len(note) > MAX_NOTE:
            acks.append(Ack.NOTE_TOO_LONG)
        else:
            await _amend(session, state, now=now, note=note)
            state.note = note
            acks.append(Ack.NOTE_ADDED)
    return acks
