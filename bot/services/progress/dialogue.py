"""The technician's update, a private dialogue built around one list: the technician taps an
action that changed, taps its state — saved at once —, and is back on the list, where the
percentage row of that answer (last month's value marked) and its optional extras (a note, a
photo or a document, a question for the political table) wait without being required.
«Invariata» confirms an action as it was (a row of the history all the same); «Il resto è
invariato» confirms every action not answered yet, and the technician has answered the round.
Its state (`FlowState`) lives in the `conversation` table, so a restart resumes it; every button
carries the action id, so a button pressed after a restart still knows what it is about.

A step is the round's hot path (bench/README.md, tests/e2e/test_step_statements.py): a press is
read in one query (`actions.step_context`: the presser, the action, the membership, the Union,
the Comuni, the dialogue), and a step that shows the list reads it in one more
(`actions.round_list`). Each use case returns the screens to show (bot.views.updates), never text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.progress.flow import (
    FLOW,
    FlowState,
    Language,
    Press,
    StepRefused,
    StepShown,
    Who,
    as_listed,
    listed,
    menu_screen,
    missing_codes,
    next_pending,
    read_presser,
    round_header,
    save_answer,
    save_state,
    start_state,
    status_screen,
)
from bot.views.updates import Finished, Notice, RestConfirmed, Screen
from storage.models import Action, ActionStatus, UpdateRound
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
    """/aggiornamento (or the Union's picker): the list of the technician's actions, the
    round's month and deadline on top."""
    presser = await read_presser(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        action_id=None,
        union_id=union_id,
    )
    language, who, ctx = presser.language, presser.who, presser.ctx
    if who is None or ctx is None or ctx.timezone is None:
        return StepRefused(language, "not_for_you")
    if not who.may_report:
        return StepRefused(language, "reporters_only")
    state = await start_state(
        session, who=who, now=now, telegram_user_id=telegram_user_id, chat_id=chat_id
    )
    actions = await listed(session, state, who)
    header = await round_header(session, state, ctx.timezone)
    await save_state(
        session,
        state,
        now=now,
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        step="menu",
        kept=ctx.conversation,
    )
    return StepShown(language, edit=menu_screen(state, actions, now=now, header=header))


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
    presser = await read_presser(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        action_id=action_id,
        union_id=union_id,
    )
    language, who, ctx = presser.language, presser.who, presser.ctx
    action = ctx.action if ctx else None
    if action_id is not None:
        if action is None and (ctx is not None or await session.get(Action, action_id) is None):
            return language, "gone"
    elif union_id is None:
        return language, "no_longer_valid"
    if ctx is None or who is None or not who.may_report:
        return language, "not_for_you"
    if action is not None and not who.may_update(action):
        return language, "cannot_update"
    conv = ctx.conversation
    if (
        conv is None
        or conv.flow != FLOW
        or conv.expires_at <= now
        or conv.data.get("union_id") != who.union_id
        or conv.data.get("member_id") != who.member_id
    ):
        state = await start_state(
            session, who=who, now=now, telegram_user_id=telegram_user_id, chat_id=chat_id
        )
        step = "menu"
    else:
        state, step = FlowState.from_json(conv.data), conv.step
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
    pick, same, status, progress, question and skip, the Union for list and finish."""
    step = _STEPS.get(verb)
    if step is None:
        return StepRefused(Language(), "no_longer_valid")
    language, p = await _press(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        action_id=target if verb in ACTION_VERBS else None,
        union_id=None if verb in ACTION_VERBS else target,
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
            kept=p.conversation,
        )
    return StepShown(language, toast=toast, edit=edit, then=then)


_Applied = tuple[ActionStatus | int | str | None, Screen | None, tuple[Screen, ...], str | None]
_Step = Callable[[AsyncSession, Press, str | None, datetime], Awaitable[_Applied | str]]


async def _pick(session: AsyncSession, p: Press, arg: str | None, now: datetime) -> _Applied | str:
    """An action from the list: its question («Invariata», the four states)."""
    assert p.action is not None
    actions = await listed(session, p.state, p.who)
    shown = next((a for a in actions if a.id == p.action.id), None) or as_listed(p.action, None)
    return None, status_screen(p.state, shown, actions), (), "status"


async def _answered(
    session: AsyncSession,
    p: Press,
    now: datetime,
    *,
    status: ActionStatus,
    progress: int,
    confirmed: bool = False,
) -> _Applied:
    """Save the answer at once, then the list with it on top (its percentage row, its extras)."""
    assert p.action is not None
    await save_answer(
        session, p.state, p.action, status=status, progress=progress, now=now, confirmed=confirmed
    )
    actions = await listed(session, p.state, p.who)
    toast = "confirmed" if p.state.unchanged else "saved"
    return toast, menu_screen(p.state, actions, now=now, with_saved=True), (), "saved"


async def _same(session: AsyncSession, p: Press, arg: str | None, now: datetime) -> _Applied | str:
    """«Invariata»: status and percentage carried over, recorded as a confirmation."""
    assert p.action is not None
    return await _answered(
        session, p, now, status=p.action.status, progress=p.action.progress, confirmed=True
    )


async def _status(
    session: AsyncSession, p: Press, arg: str | None, now: datetime
) -> _Applied | str:
    """A state, saved at once: «Completata» at 100 %, «Non avviata» at 0 %, the others at last
    month's percentage (the list then offers the row to change it)."""
    action = p.action
    assert action is not None
    status = ActionStatus(arg) if arg in set(ActionStatus) else None
    if status is None:
        return "no_longer_valid"
    progress = {ActionStatus.COMPLETED: 100, ActionStatus.NOT_STARTED: 0}.get(
        status, action.progress
    )
    return await _answered(session, p, now, status=status, progress=progress)


async def _percent(
    session: AsyncSession, p: Press, arg: str | None, now: datetime
) -> _Applied | str:
    """The percentage of the answer just saved: the same row of the history, completed."""
    state, action = p.state, p.action
    assert action is not None
    value = int(arg) if arg is not None and arg.isdigit() and len(arg) <= 3 else None
    if value is None or not 0 <= value <= 100:
        return "no_longer_valid"
    if state.action_id != action.id or state.update_id is None:
        return "status_first"
    if value != state.progress and not await repo.amend_update(
        session,
        update_id=state.update_id,
        action_id=action.id,
        member_id=state.member_id,
        progress=value,
        now=now,
    ):
        return "status_first"
    state.progress = value
    state.unchanged = False  # a new percentage: no longer «invariata»
    actions = await listed(session, state, p.who)
    return value, menu_screen(state, actions, now=now, with_saved=True), (), "saved"


async def _question(
    session: AsyncSession, p: Press, arg: str | None, now: datetime
) -> _Applied | str:
    assert p.action is not None
    if p.state.action_id != p.action.id or p.state.update_id is None:
        return "status_first"
    return None, None, (Notice.WRITE_QUESTION,), "question"


async def _skip(session: AsyncSession, p: Press, arg: str | None, now: datetime) -> _Applied | str:
    """The next action not answered yet (the list when there is none)."""
    assert p.action is not None
    actions = await listed(session, p.state, p.who)
    after = next_pending(actions, after=p.action.id)
    p.state.forget_answer()
    if after is None:
        return None, menu_screen(p.state, actions, now=now), (), "menu"
    return None, status_screen(p.state, after, actions, Notice.NEXT_ACTION), (), "status"


async def _list(session: AsyncSession, p: Press, arg: str | None, now: datetime) -> _Applied | str:
    actions = await listed(session, p.state, p.who)
    p.state.forget_answer()
    return None, menu_screen(p.state, actions, now=now), (), "menu"


async def _finish(
    session: AsyncSession, p: Press, arg: str | None, now: datetime
) -> _Applied | str:
    actions = await listed(session, p.state, p.who)
    return None, Finished(missing_codes(actions)), (), None


_STEPS: dict[str, _Step] = {
    "pick": _pick,
    "same": _same,
    "status": _status,
    "progress": _percent,
    "question": _question,
    "skip": _skip,
    "list": _list,
    "finish": _finish,
}
ACTION_VERBS = frozenset({"pick", "same", "status", "progress", "question", "skip"})


# --- «nothing new this month», «the rest is unchanged» ----------------------------------------


async def _round_reporter(
    session: AsyncSession, *, round_id: int | None, telegram_user_id: int, now: datetime
) -> tuple[Language, tuple[UpdateRound, Who] | str]:
    """The round, open, and the presser one who reports in its Union; else a refusal's reason.
    The presser's dialogue, if any, is closed: the round is answered."""
    round_ = await session.get(UpdateRound, round_id) if round_id is not None else None
    presser = await read_presser(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=telegram_user_id,
        action_id=None,
        union_id=round_.union_id if round_ is not None else None,
    )
    language, who, ctx = presser.language, presser.who, presser.ctx
    if round_ is None or who is None or not who.may_report:
        return language, "not_for_you"
    if round_.deadline_at <= now:
        return language, "round_closed"
    if ctx is not None and ctx.conversation is not None:
        await core_repo.clear_conversation(
            session, telegram_user_id=telegram_user_id, chat_id=telegram_user_id
        )
    return language, (round_, who)


async def no_news(
    session: AsyncSession, *, round_id: int | None, telegram_user_id: int, now: datetime
) -> StepShown | StepRefused:
    """Record «nothing new this month» for the presser in that round, while it is open."""
    language, got = await _round_reporter(
        session, round_id=round_id, telegram_user_id=telegram_user_id, now=now
    )
    if isinstance(got, str):
        return StepRefused(language, got)
    round_, who = got
    await repo.set_no_news(session, round_id=round_.id, member_id=who.member_id, now=now)
    return StepShown(language, toast="no_news")


async def rest_unchanged(
    session: AsyncSession, *, round_id: int | None, telegram_user_id: int, now: datetime
) -> StepShown | StepRefused:
    """«Il resto è invariato»: every action of the presser's Comuni (and the intercommunal ones)
    not answered in the round yet is confirmed as it was — one row each in the history, so the
    technician has answered the round and its reminders stop (status.technician_states)."""
    language, got = await _round_reporter(
        session, round_id=round_id, telegram_user_id=telegram_user_id, now=now
    )
    if isinstance(got, str):
        return StepRefused(language, got)
    round_, who = got
    confirmed = await repo.confirm_unchanged(
        session,
        union_id=round_.union_id,
        municipality_ids=who.municipality_ids,
        round_id=round_.id,
        member_id=who.member_id,
        now=now,
    )
    return StepShown(language, toast="rest", edit=RestConfirmed(confirmed, round_.period))
