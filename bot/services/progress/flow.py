"""The technician's dialogue, its pieces: the state kept between steps (`FlowState`, in the
`conversation` table), who presses (`Who`, `Press`), the screens a step answers with
(bot.views.updates), and saving an answer as a ProgressUpdate. The steps themselves are
bot.services.progress.dialogue's (the buttons) and .written's (what is typed or sent).

The state is small and the same size at every step: the Union, the member, the round, and the
answer just saved (its row's id and what it says, for the percentage and the extras that may
complete it). The list of actions is not kept in it: a screen that shows the list reads it in
one statement (`storage.repositories.actions.round_list`: the actions, their Comuni's names,
which ones were answered in the round).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.progress import rules
from bot.views.updates import (
    Header,
    Menu,
    RoundHeader,
    SavedAnswer,
    StatusQuestion,
)
from storage.models import ActionStatus, Role, UpdateRound, UpdateSource
from storage.repositories import actions as repo
from storage.repositories import core as core_repo
from storage.repositories.actions import Dialogue, ListedAction, Membership, PressedAction

FLOW = "upd"


@dataclass
class FlowState:
    union_id: int
    member_id: int
    round_id: int | None
    deadline: str | None = None  # the round's deadline (ISO), to tell without reading the round
    # The answer just saved, which a percentage, a note, an attachment or a question completes.
    action_id: int | None = None
    update_id: int | None = None
    code: str | None = None
    status: str | None = None
    progress: int | None = None
    unchanged: bool = False
    note: str | None = None
    attachments: int = 0
    question: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FlowState:
        known: dict[str, Any] = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        if not isinstance(known.get("attachments"), int):
            known["attachments"] = 0
        return cls(**known)

    def round_open(self, now: datetime) -> bool:
        """Whether answers still count for the round (its deadline ahead)."""
        if self.round_id is None or self.deadline is None:
            return False
        return now < datetime.fromisoformat(self.deadline)

    def forget_answer(self) -> None:
        self.action_id = self.update_id = self.code = self.status = self.progress = None
        self.unchanged, self.note, self.attachments, self.question = False, None, 0, None

    def saved(self) -> SavedAnswer | None:
        """The answer just saved, as the list shows it on top."""
        if self.action_id is None or self.update_id is None or self.status is None:
            return None
        return SavedAnswer(
            action_id=self.action_id,
            code=self.code or "",
            status=ActionStatus(self.status),
            progress=self.progress or 0,
            note=self.note,
            attachments=self.attachments,
            question=self.question,
            unchanged=self.unchanged,
        )


@dataclass(frozen=True)
class Who:
    """The technician (or coordinator) giving progress: their active membership of the Union,
    re-read at every step, as plain values (`repo.step_context` reads no ORM object)."""

    union_id: int
    member_id: int
    role: Role
    coordinator: bool
    municipality_ids: tuple[int, ...]

    @classmethod
    def of(cls, member: Membership, municipality_ids: tuple[int, ...]) -> Who:
        return cls(
            member.union_id, member.member_id, member.role, member.coordinator, municipality_ids
        )

    @property
    def may_report(self) -> bool:
        return rules.may_report(role=self.role, coordinator=self.coordinator)

    def may_update(self, action: PressedAction) -> bool:
        return rules.may_update(
            role=self.role,
            coordinator=self.coordinator,
            union_id=self.union_id,
            municipality_ids=self.municipality_ids,
            action=action,
        )


@dataclass(frozen=True)
class Language:
    """The writer's languages, for the answer (bot.scope.tr_for's rule)."""

    chosen: str | None = None
    telegram: str | None = None


@dataclass(frozen=True)
class Presser:
    """Who presses (or writes), as one query reads them (`repo.step_context`): the languages to
    answer in, their membership as a `Who` (None: no active membership there), the context
    itself (None: not a known person)."""

    language: Language
    who: Who | None
    ctx: repo.StepContext | None


async def read_presser(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    chat_id: int,
    action_id: int | None,
    union_id: int | None,
) -> Presser:
    """The presser, the action named, their membership of its Union (or of `union_id`), their
    Comuni and their dialogue in this chat: one query, pressed every few seconds by every
    technician in a round."""
    ctx = await repo.step_context(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        action_id=action_id,
        union_id=union_id,
    )
    if ctx is None:
        return Presser(Language(), None, None)
    who = Who.of(ctx.member, ctx.municipality_ids) if ctx.member is not None else None
    return Presser(Language(ctx.language, ctx.telegram_language), who, ctx)


@dataclass(frozen=True)
class StepShown:
    """What a step answers: a toast (a status, a percentage, «saved»), the pressed message
    replaced by `edit`, then `then` sent after it."""

    language: Language
    toast: ActionStatus | int | str | None = None
    edit: Any = None  # a bot.views.updates.Screen
    then: tuple[Any, ...] = ()


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
    action: PressedAction | None
    # The dialogue's row as the press read it: saving the state writes it only if it changed.
    conversation: Dialogue | None = None


# --- the state ------------------------------------------------------------------------------


async def start_state(
    session: AsyncSession, *, who: Who, now: datetime, telegram_user_id: int, chat_id: int
) -> FlowState:
    """A fresh flow for this member, in the Union's round open now (if any)."""
    round_ = await repo.current_round(session, union_id=who.union_id, now=now)
    return FlowState(
        union_id=who.union_id,
        member_id=who.member_id,
        round_id=round_.id if round_ else None,
        deadline=round_.deadline_at.isoformat() if round_ else None,
    )


# A step that changes nothing leaves the dialogue's row as it is, unless its last write is older
# than this: the row expires a week after it was last written (core_repo.set_conversation's
# ttl), at most this much earlier than after the last step.
KEEP_UNWRITTEN = timedelta(hours=1)


async def save_state(
    session: AsyncSession,
    state: FlowState,
    *,
    now: datetime,
    telegram_user_id: int,
    chat_id: int,
    step: str,
    kept: Dialogue | None = None,
) -> None:
    """Write the dialogue's state and step (one statement), unless `kept` — the row as this
    step read it — already says the same and was written less than KEEP_UNWRITTEN ago."""
    data = state.to_json()
    if (
        kept is not None
        and kept.flow == FLOW
        and kept.step == step
        and kept.data == data
        and now - kept.updated_at < KEEP_UNWRITTEN
        and kept.expires_at > now
    ):
        return
    await core_repo.set_conversation(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        flow=FLOW,
        step=step,
        data=data,
        now=now,
        at_once=True,
    )


async def listed(session: AsyncSession, state: FlowState, who: Who) -> list[ListedAction]:
    """The technician's actions as the list shows them (one statement)."""
    return await repo.round_list(
        session,
        union_id=state.union_id,
        municipality_ids=who.municipality_ids,
        round_id=state.round_id,
    )


def status_screen(
    state: FlowState,
    action: ListedAction,
    actions: Sequence[ListedAction],
    header: Header = None,
) -> StatusQuestion:
    ids = [a.id for a in actions]
    return StatusQuestion(
        action=action,
        position=ids.index(action.id) + 1 if action.id in ids else 0,
        total=len(ids),
        union_id=state.union_id,
        header=header,
    )


def menu_screen(
    state: FlowState,
    actions: Sequence[ListedAction],
    *,
    now: datetime,
    header: Header = None,
    with_saved: bool = False,
) -> Menu:
    return Menu(
        actions=actions,
        round_id=state.round_id,
        union_id=state.union_id,
        round_open=state.round_open(now),
        header=header,
        saved=state.saved() if with_saved else None,
    )


def missing_codes(actions: Sequence[ListedAction]) -> tuple[str, ...]:
    return tuple(a.code for a in actions if not a.done)


def as_listed(action: PressedAction, comune: str | None, *, done: bool = False) -> ListedAction:
    return ListedAction(
        id=action.id,
        code=action.code,
        title=action.title,
        municipality_id=action.municipality_id,
        status=action.status,
        progress=action.progress,
        comune=comune,
        done=done,
    )


async def round_header(session: AsyncSession, state: FlowState, timezone: str) -> Header:
    if state.round_id is None:
        return RoundHeader(None)
    round_ = await session.get(UpdateRound, state.round_id)
    if round_ is None:
        return None
    return RoundHeader(round_.period, round_.deadline_at, timezone)


def next_pending(actions: Sequence[ListedAction], *, after: int | None) -> ListedAction | None:
    """The next action not answered in the round, after `after` in list order."""
    ids = [a.id for a in actions]
    next_id = rules.next_pending(ids, done=[a.id for a in actions if a.done], after=after)
    return next((a for a in actions if a.id == next_id), None)


async def save_answer(
    session: AsyncSession,
    state: FlowState,
    action: PressedAction,
    *,
    status: ActionStatus,
    progress: int,
    now: datetime,
    confirmed: bool = False,
) -> None:
    """Write the ProgressUpdate (committed with this update, before «Salvato» is shown) and keep
    it in the state as the answer just saved. The same status and percentage as before is a
    confirmation: the history shows that the action was checked. `confirmed`: it was said so
    («Invariata»), and the list says it back."""
    round_id = state.round_id
    if round_id is not None and not state.round_open(now):
        round_id = None  # too late for that round: kept as an update outside it
    update_id = await repo.record_update(
        session,
        action=action,
        member_id=state.member_id,
        round_id=round_id,
        source=UpdateSource.PRIVATE,
        status=status,
        progress=progress,
        note=None,
        now=now,
    )
    state.forget_answer()
    state.action_id, state.update_id, state.code = action.id, update_id, action.code
    state.status, state.progress, state.unchanged = status.value, progress, confirmed
