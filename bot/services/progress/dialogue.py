"""The technician's update, a guided private dialogue: pick an action, its state, its percentage,
a note, a photo or a document, maybe a question for the political table, save; then the next
action. Its state (`FlowState`) lives in the `conversation` table, so a restart resumes it; every
button carries the action id, so a button pressed after a restart still knows what it is about.

A step is the round's hot path (bench/README.md, tests/e2e/test_step_statements.py): a press is
read in one query (`actions.step_context`: the presser, the action, the membership, the Union,
the Comuni, the dialogue), and each step reads the Comuni's names or the action list only when
its answer shows them. Each use case returns the screens to show (bot.views.updates), never text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.progress import rules
from bot.views.updates import (
    MAX_ATTACHMENTS,
    MAX_NOTE,
    MAX_QUESTION,
    Ack,
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
    Member,
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


@dataclass(frozen=True)
class Who:
    member: Member
    union: Union
    municipality_ids: tuple[int, ...]

    @property
    def may_report(self) -> bool:
        return rules.may_report(role=self.member.role, coordinator=self.member.is_coordinator)

    def may_update(self, action: Action) -> bool:
        return rules.may_update(
            role=self.member.role,
            coordinator=self.member.is_coordinator,
            union_id=self.union.id,
            municipality_ids=self.municipality_ids,
            action=action,
        )


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
class _Press:
    who: Who
    state: FlowState
    step: str
    action: Action | None
    # Held while the press is handled: the session's identity map keeps only what is referenced,
    # and saving the state then updates this row without reading it again.
    conversation: Conversation | None = None


# --- the state ------------------------------------------------------------------------------


async def _start_state(
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
    await _save(
        session, state, now=now, telegram_user_id=telegram_user_id, chat_id=chat_id, step="menu"
    )
    return state, actions


async def _save(
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


async def _names(session: AsyncSession, union_id: int) -> dict[int, str]:
    return await core_repo.municipality_names(session, union_id, include_archived=True)


async def _actions(session: AsyncSession, state: FlowState, who: Who) -> list[Action]:
    return await repo.actions_for_municipalities(
        session, union_id=state.union_id, municipality_ids=who.municipality_ids
    )


def _position(state: FlowState, action: Action) -> int:
    return state.order.index(action.id) + 1 if action.id in state.order else 0


def _status_question(
    state: FlowState, action: Action, names: dict[int, str], header: Header = None
) -> StatusQuestion:
    return StatusQuestion(
        action=action,
        position=_position(state, action),
        total=len(state.order),
        names=names,
        union_id=state.union_id,
        header=header,
    )


def _menu(
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


def _finished(state: FlowState, actions: Sequence[Action]) -> Finished:
    done = set(state.done)
    return Finished(tuple(a.code for a in actions if a.id not in done))


def _extras(state: FlowState, action: Action, **ack: Any) -> ExtrasQuestion:
    return ExtrasQuestion(
        action=action,
        status=ActionStatus(state.status or ActionStatus.ONGOING),
        progress=state.progress if state.progress is not None else 0,
        note=state.note,
        attachments=len(state.attachments or []),
        **ack,
    )


def _progress(state: FlowState, action: Action, header: Header = None) -> ProgressQuestion:
    return ProgressQuestion(
        action=action, status=ActionStatus(state.status or ActionStatus.ONGOING), header=header
    )


# --- /aggiornamento ---------------------------------------------------------------------------


async def start_dialogue(
    session: AsyncSession,
    *,
    union_id: int,
    telegram_user_id: int,
    chat_id: int,
    now: datetime,
) -> StepShown | StepRefused:
    """/aggiornamento (or «Aggiorna le azioni»): the first action still to update, or the list
    when all are done (to change an answer)."""
    person = await core_repo.person_by_telegram_id(session, telegram_user_id)
    language = Language(person.language, person.telegram_language) if person else Language()
    who = await _who(session, union_id=union_id, telegram_user_id=telegram_user_id)
    if who is None:
        return StepRefused(language, "not_for_you")
    if not who.may_report:
        return StepRefused(language, "reporters_only")
    state, actions = await _start_state(
        session, who=who, now=now, telegram_user_id=telegram_user_id, chat_id=chat_id
    )
    names = await _names(session, who.union.id)
    header = await _round_header(session, state, who.union)
    next_id = rules.next_pending(state.order, done=state.done)
    by_id = {a.id: a for a in actions}
    if next_id is None:
        state.reset_answer(None)
        screen: Screen = _menu(state, actions, names, header)
    else:
        state.reset_answer(next_id)
        screen = _status_question(state, by_id[next_id], names, header)
    step = "status" if state.action_id else "menu"
    await _save(
        session, state, now=now, telegram_user_id=telegram_user_id, chat_id=chat_id, step=step
    )
    return StepShown(language, edit=screen)


async def _who(session: AsyncSession, *, union_id: int, telegram_user_id: int) -> Who | None:
    member = await core_repo.member_of(
        session, union_id=union_id, telegram_user_id=telegram_user_id
    )
    union = await session.get(Union, union_id)
    if member is None or union is None:
        return None
    ids = await core_repo.municipality_ids_of(session, member.id)
    return Who(member=member, union=union, municipality_ids=tuple(ids))


async def _round_header(session: AsyncSession, state: FlowState, union: Union) -> Header:
    if state.round_id is None:
        return RoundHeader(None)
    round_ = await session.get(UpdateRound, state.round_id)
    if round_ is None:
        return None
    return RoundHeader(round_.period, round_.deadline_at, union.timezone)


# --- a press ----------------------------------------------------------------------------------


async def _press(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    chat_id: int,
    action_id: int | None,
    union_id: int | None,
    now: datetime,
) -> tuple[Language, _Press | str]:
    """Re-check a press: an active member who may report, the action theirs; the state loaded
    or made. The reason of a refusal otherwise."""
    # One query for the presser, the action, the membership, the Union, the Comuni and the
    # dialogue: a step is pressed every few seconds by every technician in a round.
    ctx = await repo.step_context(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        action_id=action_id,
        union_id=union_id,
    )
    language = Language(ctx.person.language, ctx.person.telegram_language) if ctx else Language()
    action = ctx.action if ctx else None
    if action_id is not None:
        if action is None and (ctx is not None or await session.get(Action, action_id) is None):
            return language, "gone"
    elif union_id is None:
        return language, "no_longer_valid"
    if ctx is None or ctx.member is None or ctx.union is None:
        return language, "not_for_you"
    who = Who(member=ctx.member, union=ctx.union, municipality_ids=ctx.municipality_ids)
    if not who.may_report:
        return language, "not_for_you"
    if action is not None and not who.may_update(action):
        return language, "cannot_update"
    conv = ctx.conversation
    if (
        conv is None
        or conv.flow != FLOW
        or conv.expires_at <= now
        or conv.data.get("union_id") != who.union.id
        or conv.data.get("member_id") != who.member.id
    ):
        state, _actions = await _start_state(
            session, who=who, now=now, telegram_user_id=telegram_user_id, chat_id=chat_id
        )
        step = "menu"
    else:
        state, step = FlowState.from_json(conv.data), conv.step
    if action is not None and action.id not in state.order:
        state.order.append(action.id)
    return language, _Press(who=who, state=state, step=step, action=action, conversation=conv)


async def press_step(
    session: AsyncSession,
    *,
    verb: str,
    telegram_user_id: int,
    chat_id: int,
    target: int,
    arg: str | None,
    now: datetime,
) -> StepShown | StepRefused:
    """One button of the dialogue (`upd:<verb>:<target>[:<arg>]`): `target` is the action for
    pick, status, progress, question, save and skip, the Union for list and finish."""
    step = _STEPS.get(verb)
    if step is None:
        return StepRefused(Language(), "no_longer_valid")
    language, p = await _press(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        action_id=target if verb in _ON_ACTIONS else None,
        union_id=None if verb in _ON_ACTIONS else target,
        now=now,
    )
    if isinstance(p, str):
        return StepRefused(language, p)
    shown = await step(session, p, arg, now)
    if isinstance(shown, str):
        return StepRefused(language, shown)
    toast, edit, then, next_step = shown
    if next_step is None:  # finished: the dialogue is over
        await core_repo.clear_conversation(
            session, telegram_user_id=telegram_user_id, chat_id=chat_id
        )
    else:
        await _save(
            session,
            p.state,
            now=now,
            telegram_user_id=telegram_user_id,
            chat_id=chat_id,
            step=next_step,
        )
    return StepShown(language, toast=toast, edit=edit, then=then)


_Applied = tuple[ActionStatus | int | str | None, Screen | None, tuple[Screen, ...], str | None]


async def _pick(session: AsyncSession, p: _Press, arg: str | None, now: datetime) -> _Applied | str:
    assert p.action is not None
    # Read only what this button shows: a state or a percentage needs neither (bench/README.md).
    names = await _names(session, p.state.union_id)
    p.state.reset_answer(p.action.id)
    return None, _status_question(p.state, p.action, names), (), "status"


async def _status(
    session: AsyncSession, p: _Press, arg: str | None, now: datetime
) -> _Applied | str:
    state, action = p.state, p.action
    assert action is not None
    status = ActionStatus(arg) if arg in set(ActionStatus) else None
    if status is None:
        return "no_longer_valid"
    if state.action_id != action.id:
        state.reset_answer(action.id)
    state.status = status.value
    if status == ActionStatus.COMPLETED:
        state.progress = 100
        return status, _extras(state, action), (), "extras"
    if status == ActionStatus.NOT_STARTED:
        state.progress = 0
        return status, _extras(state, action), (), "extras"
    return status, _progress(state, action), (), "progress"


async def _percent(
    session: AsyncSession, p: _Press, arg: str | None, now: datetime
) -> _Applied | str:
    state, action = p.state, p.action
    assert action is not None
    value = int(arg) if arg is not None and arg.isdigit() and len(arg) <= 3 else None
    if (
        state.action_id != action.id
        or state.status is None
        or value is None
        or not 0 <= value <= 100
    ):
        return "status_first"
    state.progress = value
    return value, _extras(state, action), (), "extras"


async def _question(
    session: AsyncSession, p: _Press, arg: str | None, now: datetime
) -> _Applied | str:
    assert p.action is not None
    if p.state.action_id != p.action.id or p.state.status is None:
        return "status_first"
    return None, None, (Notice.WRITE_QUESTION,), "question"


async def _save_pressed(
    session: AsyncSession, p: _Press, arg: str | None, now: datetime
) -> _Applied | str:
    state, action = p.state, p.action
    assert action is not None
    names = await _names(session, state.union_id)
    actions = await _actions(session, state, p.who)
    if state.action_id != action.id or state.status is None:
        return "status_first"
    saved = await _save_answer(session, state, action, now=now)
    after = _next_after_save(state, actions, names)
    return "saved", saved, (after,), "status" if state.action_id else "menu"


async def _skip(session: AsyncSession, p: _Press, arg: str | None, now: datetime) -> _Applied | str:
    state, action = p.state, p.action
    assert action is not None
    names = await _names(session, state.union_id)
    actions = await _actions(session, state, p.who)
    next_id = rules.next_pending(state.order, done=state.done, after=action.id)
    by_id = {a.id: a for a in actions}
    if next_id is None or next_id not in by_id:
        state.reset_answer(None)
        return None, _menu(state, actions, names), (), "menu"
    state.reset_answer(next_id)
    return None, _status_question(state, by_id[next_id], names), (), "status"


async def _list(session: AsyncSession, p: _Press, arg: str | None, now: datetime) -> _Applied | str:
    names = await _names(session, p.state.union_id)
    actions = await _actions(session, p.state, p.who)
    p.state.reset_answer(None)
    return None, _menu(p.state, actions, names), (), "menu"


async def _finish(
    session: AsyncSession, p: _Press, arg: str | None, now: datetime
) -> _Applied | str:
    actions = await _actions(session, p.state, p.who)
    return None, _finished(p.state, actions), (), None


_STEPS = {
    "pick": _pick,
    "status": _status,
    "progress": _percent,
    "question": _question,
    "save": _save_pressed,
    "skip": _skip,
    "list": _list,
    "finish": _finish,
}
_ON_ACTIONS = frozenset({"pick", "status", "progress", "question", "save", "skip"})


def _next_after_save(state: FlowState, actions: Sequence[Action], names: dict[int, str]) -> Screen:
    """After "saved": straight to the next action still to do (its buttons are the "next" step)."""
    by_id = {a.id: a for a in actions}
    next_id = rules.next_pending(state.order, done=state.done, after=state.action_id)
    if next_id is None or next_id not in by_id:
        state.reset_answer(None)
        return _menu(state, actions, names, _finished(state, actions))
    state.reset_answer(next_id)
    return _status_question(state, by_id[next_id], names, Notice.NEXT_ACTION)


async def _save_answer(
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


# --- «nothing new this month» -------------------------------------------------------------------


async def no_news(
    session: AsyncSession, *, round_id: int | None, telegram_user_id: int, now: datetime
) -> StepShown | StepRefused:
    """Record «nothing new this month» for the presser in that round, while it is open."""
    person = await core_repo.person_by_telegram_id(session, telegram_user_id)
    language = Language(person.language, person.telegram_language) if person else Language()
    round_ = await session.get(UpdateRound, round_id) if round_id is not None else None
    who = (
        await _who(session, union_id=round_.union_id, telegram_user_id=telegram_user_id)
        if round_ is not None
        else None
    )
    if round_ is None or who is None or not who.may_report:
        return StepRefused(language, "not_for_you")
    if round_.deadline_at <= now:
        return StepRefused(language, "round_closed")
    await repo.set_no_news(session, round_id=round_.id, member_id=who.member.id, now=now)
    await core_repo.clear_conversation(
        session, telegram_user_id=telegram_user_id, chat_id=telegram_user_id
    )
    return StepShown(language, toast="no_news")


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
    who = await _who(session, union_id=state.union_id, telegram_user_id=telegram_user_id)
    action = await session.get(Action, state.action_id) if state.action_id else None
    if who is None or not who.may_report:
        await core_repo.clear_conversation(
            session, telegram_user_id=telegram_user_id, chat_id=chat_id
        )
        return StepShown(language, then=(Notice.NOT_A_MEMBER,))
    if action is None or not who.may_update(action):
        names = await _names(session, state.union_id)
        actions = await _actions(session, state, who)
        return StepShown(language, then=(_menu(state, actions, names, Notice.PICK_FIRST),))
    p = _Press(who=who, state=state, step=step, action=action)
    screens, next_step = await _apply_written(session, p, written, now=now)
    if next_step is not None:
        await _save(
            session,
            state,
            now=now,
            telegram_user_id=telegram_user_id,
            chat_id=chat_id,
            step=next_step,
        )
    return StepShown(language, then=screens)


async def _apply_written(
    session: AsyncSession, p: _Press, written: Written, *, now: datetime
) -> tuple[tuple[Screen, ...], str | None]:
    """The screens to send, and the step to save (None: the state did not change)."""
    state, action = p.state, p.action
    assert action is not None
    names = await _names(session, state.union_id)
    text, attachment = written.text, written.attachment
    if p.step == "progress":
        value = rules.parse_progress(text) if text else None
        if value is None:
            return (_progress(state, action, Notice.NUMBER_PLEASE),), None
        state.progress = value
        return (_extras(state, action, progress_ack=value),), "extras"
    if p.step == "extras":
        return (_extras(state, action, acks=_add_extras(state, text, attachment)),), "extras"
    if p.step == "question":
        if not text or (attachment is not None and not written.captioned):
            return (Notice.WRITE_QUESTION,), None
        if len(text) > MAX_QUESTION:
            return (Notice.QUESTION_TOO_LONG,), None
        state.question = " ".join(text.split())
        saved = await _save_answer(session, state, action, now=now)
        actions = await _actions(session, state, p.who)
        after = _next_after_save(state, actions, names)
        return (saved, after), "status" if state.action_id else "menu"
    # "status" or "menu": buttons expected
    if p.step == "status":
        return (_status_question(state, action, names, Notice.USE_BUTTONS),), None
    actions = await _actions(session, state, p.who)
    return (_menu(state, actions, names, Notice.USE_BUTTONS),), None


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
