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

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.progress import rules
from bot.services.progress.flow import (
    FLOW,
    FlowState,
    Language,
    Press,
    StepRefused,
    StepShown,
    Who,
    actions_of,
    comuni_names,
    extras_screen,
    finished_screen,
    menu_screen,
    next_after_save,
    progress_screen,
    round_header,
    save_answer,
    save_state,
    start_state,
    status_screen,
    who_in_union,
)
from bot.views.updates import (
    Notice,
    Screen,
)
from storage.models import (
    Action,
    ActionStatus,
    UpdateRound,
)
from storage.repositories import actions as repo
from storage.repositories import core as core_repo

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
    who = await who_in_union(session, union_id=union_id, telegram_user_id=telegram_user_id)
    if who is None:
        return StepRefused(language, "not_for_you")
    if not who.may_report:
        return StepRefused(language, "reporters_only")
    state, actions = await start_state(
        session, who=who, now=now, telegram_user_id=telegram_user_id, chat_id=chat_id
    )
    names = await comuni_names(session, who.union.id)
    header = await round_header(session, state, who.union)
    next_id = rules.next_pending(state.order, done=state.done)
    by_id = {a.id: a for a in actions}
    if next_id is None:
        state.reset_answer(None)
        screen: Screen = menu_screen(state, actions, names, header)
    else:
        state.reset_answer(next_id)
        screen = status_screen(state, by_id[next_id], names, header)
    step = "status" if state.action_id else "menu"
    await save_state(
        session, state, now=now, telegram_user_id=telegram_user_id, chat_id=chat_id, step=step
    )
    return StepShown(language, edit=screen)


# --- a press ----------------------------------------------------------------------------------


async def _press(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    chat_id: int,
    action_id: int | None,
    union_id: int | None,
    now: datetime,
) -> tuple[Language, Press | str]:
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
        state, _actions = await start_state(
            session, who=who, now=now, telegram_user_id=telegram_user_id, chat_id=chat_id
        )
        step = "menu"
    else:
        state, step = FlowState.from_json(conv.data), conv.step
    if action is not None and action.id not in state.order:
        state.order.append(action.id)
    return language, Press(who=who, state=state, step=step, action=action, conversation=conv)


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
        await save_state(
            session,
            p.state,
            now=now,
            telegram_user_id=telegram_user_id,
            chat_id=chat_id,
            step=next_step,
        )
    return StepShown(language, toast=toast, edit=edit, then=then)


_Applied = tuple[ActionStatus | int | str | None, Screen | None, tuple[Screen, ...], str | None]


async def _pick(session: AsyncSession, p: Press, arg: str | None, now: datetime) -> _Applied | str:
    assert p.action is not None
    # Read only what this button shows: a state or a percentage needs neither (bench/README.md).
    names = await comuni_names(session, p.state.union_id)
    p.state.reset_answer(p.action.id)
    return None, status_screen(p.state, p.action, names), (), "status"


async def _status(
    session: AsyncSession, p: Press, arg: str | None, now: datetime
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
        return status, extras_screen(state, action), (), "extras"
    if status == ActionStatus.NOT_STARTED:
        state.progress = 0
        return status, extras_screen(state, action), (), "extras"
    return status, progress_screen(state, action), (), "progress"


async def _percent(
    session: AsyncSession, p: Press, arg: str | None, now: datetime
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
    return value, extras_screen(state, action), (), "extras"


async def _question(
    session: AsyncSession, p: Press, arg: str | None, now: datetime
) -> _Applied | str:
    assert p.action is not None
    if p.state.action_id != p.action.id or p.state.status is None:
        return "status_first"
    return None, None, (Notice.WRITE_QUESTION,), "question"


async def _save_pressed(
    session: AsyncSession, p: Press, arg: str | None, now: datetime
) -> _Applied | str:
    state, action = p.state, p.action
    assert action is not None
    names = await comuni_names(session, state.union_id)
    actions = await actions_of(session, state, p.who)
    if state.action_id != action.id or state.status is None:
        return "status_first"
    saved = await save_answer(session, state, action, now=now)
    after = next_after_save(state, actions, names)
    return "saved", saved, (after,), "status" if state.action_id else "menu"


async def _skip(session: AsyncSession, p: Press, arg: str | None, now: datetime) -> _Applied | str:
    state, action = p.state, p.action
    assert action is not None
    names = await comuni_names(session, state.union_id)
    actions = await actions_of(session, state, p.who)
    next_id = rules.next_pending(state.order, done=state.done, after=action.id)
    by_id = {a.id: a for a in actions}
    if next_id is None or next_id not in by_id:
        state.reset_answer(None)
        return None, menu_screen(state, actions, names), (), "menu"
    state.reset_answer(next_id)
    return None, status_screen(state, by_id[next_id], names), (), "status"


async def _list(session: AsyncSession, p: Press, arg: str | None, now: datetime) -> _Applied | str:
    names = await comuni_names(session, p.state.union_id)
    actions = await actions_of(session, p.state, p.who)
    p.state.reset_answer(None)
    return None, menu_screen(p.state, actions, names), (), "menu"


async def _finish(
    session: AsyncSession, p: Press, arg: str | None, now: datetime
) -> _Applied | str:
    actions = await actions_of(session, p.state, p.who)
    return None, finished_screen(p.state, actions), (), None


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


# --- «nothing new this month» -------------------------------------------------------------------


async def no_news(
    session: AsyncSession, *, round_id: int | None, telegram_user_id: int, now: datetime
) -> StepShown | StepRefused:
    """Record «nothing new this month» for the presser in that round, while it is open."""
    person = await core_repo.person_by_telegram_id(session, telegram_user_id)
    language = Language(person.language, person.telegram_language) if person else Language()
    round_ = await session.get(UpdateRound, round_id) if round_id is not None else None
    who = (
        await who_in_union(session, union_id=round_.union_id, telegram_user_id=telegram_user_id)
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
