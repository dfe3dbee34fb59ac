"""The technician's dialogue, its pieces: the state kept between steps (`FlowState`, in the
`conversation` table), who presses (`Who`, `Press`), the screens a step answers with
(bot.views.updates), and saving an answer as a ProgressUpdate. The steps themselves are
bot.services.progress.dialogue's (the buttons) and .written's (what is typed or sent)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.progress import rules
from bot.services.progress.actions import Reader, reader
from bot.views.updates import (
    ExtrasQuestion,
    Finished,
    Header,
    Menu,
    Notice,
    ProgressQuestion,
    RoundHeader,
    SavedAnswer,
    Screen,
    StatusQuestion,
)
from storage.models import (
    Action,
    ActionStatus,
    Conversation,
    Union,
    UpdateRound,
    UpdateSource,
)
from storage.repositories import actions as repo
from storage.repositories import core as core_repo

FLOW = "upd"


@dataclass
class FlowState:
    union_id: int
    member_id: int
    round_id: int | None
    order: list[int]
    done: list[int]
    action_id: int | None = None
    status: str | None = None
    progress: int | None = None
    note: str | None = None
    attachments: list[dict[str, Any]] | None = None
    question: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FlowState:
        known: dict[str, Any] = {k: data.get(k) for k in cls.__dataclass_fields__}
        known["order"] = [int(x) for x in known.get("order") or []]
        known["done"] = [int(x) for x in known.get("done") or []]
        return cls(**known)

    def reset_answer(self, action_id: int | None) -> None:
        self.action_id, self.status, self.progress = action_id, None, None
        self.note, self.attachments, self.question = None, None, None


Who = Reader  # the technician (or coordinator) giving progress


@dataclass(frozen=True)
class Language:
    """The writer's languages, for the answer (bot.scope.tr_for's rule)."""

    chosen: str | None = None
    telegram: str | None = None


@dataclass(frozen=True)
class StepShown:
    """What a step answers: a toast (a status, a percentage, «saved»), the pressed message
    replaced by `edit`, then `then` sent after it."""

    language: Language
    toast: ActionStatus | int | str | None = None
    edit: Screen | None = None
    then: tuple[Screen, ...] = ()


@dataclass(frozen=True)
class StepRefused:
    """bot.views.updates.step_refusal's reasons."""

    language: Language
    reason: str


@dataclass
class Press:
    who: Who
    state: FlowState
    step: str
    action: Action | None
    # Held while the press is handled: the session's identity map keeps only what is referenced,
    # and saving the state then updates this row without reading it again.
    conversation: Conversation | None = None


# --- the state ------------------------------------------------------------------------------


async def start_state(
    session: AsyncSession, *, who: Who, now: datetime, telegram_user_id: int, chat_id: int
) -> tuple[FlowState, list[Action]]:
    """A fresh flow for this member: their actions in order, those done this round first skipped."""
    actions = await repo.actions_for_municipalities(
        session, union_id=who.union.id, municipality_ids=who.municipality_ids
    )
    round_ = await repo.current_round(session, union_id=who.union.id, now=now)
    done = sorted(await repo.updated_in_round(session, round_.id)) if round_ else []
    state = FlowState(
        union_id=who.union.id,
        member_id=who.member.id,
        round_id=round_.id if round_ else None,
        order=[a.id for a in actions],
        done=[a for a in done if a in {x.id for x in actions}],
    )
    await save_state(
        session, state, now=now, telegram_user_id=telegram_user_id, chat_id=chat_id, step="menu"
    )
    return state, actions


async def save_state(
    session: AsyncSession,
    state: FlowState,
    *,
    now: datetime,
    telegram_user_id: int,
    chat_id: int,
    step: str,
) -> None:
    await core_repo.set_conversation(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        flow=FLOW,
        step=step,
        data=state.to_json(),
        now=now,
    )


async def comuni_names(session: AsyncSession, union_id: int) -> dict[int, str]:
    return await core_repo.municipality_names(session, union_id, include_archived=True)


async def actions_of(session: AsyncSession, state: FlowState, who: Who) -> list[Action]:
    return await repo.actions_for_municipalities(
        session, union_id=state.union_id, municipality_ids=who.municipality_ids
    )


def position_of(state: FlowState, action: Action) -> int:
    return state.order.index(action.id) + 1 if action.id in state.order else 0


def status_screen(
    state: FlowState, action: Action, names: dict[int, str], header: Header = None
) -> StatusQuestion:
    return StatusQuestion(
        action=action,
        position=position_of(state, action),
        total=len(state.order),
        names=names,
        union_id=state.union_id,
        header=header,
    )


def menu_screen(
    state: FlowState, actions: Sequence[Action], names: dict[int, str], header: Header = None
) -> Menu:
    return Menu(
        actions=actions,
        done=frozenset(state.done),
        names=names,
        round_id=state.round_id,
        union_id=state.union_id,
        header=header,
    )


def finished_screen(state: FlowState, actions: Sequence[Action]) -> Finished:
    done = set(state.done)
    return Finished(tuple(a.code for a in actions if a.id not in done))


def extras_screen(state: FlowState, action: Action, **ack: Any) -> ExtrasQuestion:
    return ExtrasQuestion(
        action=action,
        status=ActionStatus(state.status or ActionStatus.ONGOING),
        progress=state.progress if state.progress is not None else 0,
        note=state.note,
        attachments=len(state.attachments or []),
        **ack,
    )


def progress_screen(state: FlowState, action: Action, header: Header = None) -> ProgressQuestion:
    return ProgressQuestion(
        action=action, status=ActionStatus(state.status or ActionStatus.ONGOING), header=header
    )


async def who_in_union(
    session: AsyncSession, *, union_id: int, telegram_user_id: int
) -> Who | None:
    return await reader(session, union_id=union_id, telegram_user_id=telegram_user_id)


async def round_header(session: AsyncSession, state: FlowState, union: Union) -> Header:
    if state.round_id is None:
        return RoundHeader(None)
    round_ = await session.get(UpdateRound, state.round_id)
    if round_ is None:
        return None
    return RoundHeader(round_.period, round_.deadline_at, union.timezone)


def next_after_save(state: FlowState, actions: Sequence[Action], names: dict[int, str]) -> Screen:
    """After "saved": straight to the next action still to do (its buttons are the "next" step)."""
    by_id = {a.id: a for a in actions}
    next_id = rules.next_pending(state.order, done=state.done, after=state.action_id)
    if next_id is None or next_id not in by_id:
        state.reset_answer(None)
        return menu_screen(state, actions, names, finished_screen(state, actions))
    state.reset_answer(next_id)
    return status_screen(state, by_id[next_id], names, Notice.NEXT_ACTION)


async def save_answer(
    session: AsyncSession, state: FlowState, action: Action, *, now: datetime
) -> SavedAnswer:
    """Write the ProgressUpdate (committed with this update, before "Salvato" is shown)."""
    round_id = state.round_id
    if round_id is not None:
        round_ = await session.get(UpdateRound, round_id)
        if round_ is None or round_.deadline_at <= now:
            round_id = None  # too late for that round: kept as an update outside it
    status = ActionStatus(state.status or ActionStatus.ONGOING)
    progress = state.progress if state.progress is not None else action.progress
    attachments = [repo.AttachmentIn(**a) for a in state.attachments or []]
    await repo.record_update(
        session,
        action=action,
        member_id=state.member_id,
        round_id=round_id,
        source=UpdateSource.PRIVATE,
        status=status,
        progress=progress,
        note=state.note,
        now=now,
        needs_decision=state.question is not None,
        decision_question=state.question,
        attachments=attachments,
    )
    if action.id not in state.done:
        state.done.append(action.id)
    return SavedAnswer(
        code=action.code,
        status=status,
        progress=progress,
        note=state.note,
        attachments=len(attachments),
        question=state.question,
    )
