"""Tasks agreed at a meeting (compiti): who, what, by when. The coordinator assigns them in a
short private dialogue (the member from buttons, the text typed, the date from buttons; its
state in the database, so a restart resumes it), the assignee is told in private and marks
the task done with one tap. Open tasks come back on the next agenda (bot.services.meetings
.agenda: source TASK). The rules are in docs/DESIGN.md, «The meeting itself: tasks».
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator, format_month
from bot.services.meetings.access import member_for
from bot.services.meetings.agenda import agenda_open, check_item_text
from bot.services.meetings.polls import person_translator, table_members
from bot.views import tasks as views
from bot.views.agenda import panel_button
from bot.views.keyboard import Button, Keyboard, to_dict
from storage.models import (
    Action,
    Meeting,
    MeetingTask,
    Member,
    MemberStatus,
    Person,
    RoundStatus,
    TaskStatus,
    Union,
    UpdateRound,
)
from storage.repositories import agenda as agenda_repo
from storage.repositories import core as core_repo
from storage.repositories import meetings as meetings_repo
from storage.repositories import outbox as outbox_repo
from storage.repositories import tasks as repo
from storage.repositories.people import ShownName, shown_name

logger = logging.getLogger(__name__)

TASK_FLOW = "meeting_task"
ROUND_CLAIM = "task_round"  # per update round: its assignees were asked about their tasks
# Tasks are assigned from the day the meeting is fixed until this long after its start.
ASSIGN_AFTER = timedelta(days=14)
# At most this many PAES actions (of the assignee's Comuni, by code) are offered as buttons.
ACTIONS_OFFERED = 8


# --- pure rules ---------------------------------------------------------------------------


def due_date(today: date, days: int | None) -> date | bool | None:
    """The date for one of the offered choices (`views.DUE_DAYS`; 0: none); False for a
    number that was never offered (forged data)."""
    if days is None or days not in views.DUE_DAYS:
        return False
    return today + timedelta(days=days) if days else None


def may_assign(starts_at: datetime, cancelled: bool, now: datetime) -> bool:
    return not cancelled and now < starts_at + ASSIGN_AFTER


# --- use cases ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskRefused:
    reason: str  # a key of bot.views.tasks' refusals
    n: int = 0


@dataclass(frozen=True)
class Step:
    """The dialogue's next screen, already rendered for the coordinator."""

    text: str
    keyboard: Keyboard | None
    done: bool = False  # the task was recorded: the assignee's message is queued


@dataclass(frozen=True)
class _Context:
    meeting: Meeting
    union: Union
    member: Member
    view: views.TaskMeeting
    today: date


async def union_of_task(session: AsyncSession, task_id: int | None) -> int | None:
    task = await session.get(MeetingTask, task_id) if task_id is not None else None
    return task.union_id if task is not None else None


async def _coordinating(
    session: AsyncSession, meeting_id: int, telegram_user_id: int, now: datetime
) -> _Context | TaskRefused:
    meeting = await session.get(Meeting, meeting_id)
    union = await session.get(Union, meeting.union_id) if meeting is not None else None
    if meeting is None or union is None:
        return TaskRefused("gone")
    member = await member_for(
        session, union_id=meeting.union_id, telegram_user_id=telegram_user_id, coordinator=True
    )
    if isinstance(member, str):
        return TaskRefused(member)
    if not may_assign(meeting.starts_at, meeting.cancelled_at is not None, now):
        return TaskRefused("gone")
    tz = ZoneInfo(union.timezone)
    view = views.TaskMeeting(meeting.id, meeting.title, meeting.starts_at, tz)
    return _Context(meeting, union, member, view, now.astimezone(tz).date())


async def _assignees(session: AsyncSession, meeting: Meeting) -> dict[int, str]:
    members = await meetings_repo.active_members(session, meeting.union_id)
    return {m.member_id: m.name for m in table_members(members, meeting.table).values()}


async def _save(
    session: AsyncSession,
    telegram_user_id: int,
    meeting: Meeting,
    step: str,
    now: datetime,
    **kw: Any,
) -> None:
    await core_repo.set_conversation(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=telegram_user_id,
        flow=TASK_FLOW,
        step=step,
        data={"union_id": meeting.union_id, "meeting_id": meeting.id, **kw},
        now=now,
    )


async def start_task(
    session: AsyncSession, *, meeting_id: int, telegram_user_id: int, now: datetime, tr: Translator
) -> Step | TaskRefused:
    """«📌 Assegna un compito»: whom, among the members at the meeting's table."""
    ctx = await _coordinating(session, meeting_id, telegram_user_id, now)
    if isinstance(ctx, TaskRefused):
        return ctx
    await _save(session, telegram_user_id, ctx.meeting, "who", now)
    people = sorted((await _assignees(session, ctx.meeting)).items(), key=lambda p: p[1])
    text, keyboard = views.render_pick_member(ctx.view, people, tr)
    return Step(text, keyboard)


async def pick_member(
    session: AsyncSession,
    *,
    meeting_id: int,
    choice: int | None,
    telegram_user_id: int,
    now: datetime,
    tr: Translator,
) -> Step | TaskRefused:
    ctx = await _coordinating(session, meeting_id, telegram_user_id, now)
    if isinstance(ctx, TaskRefused):
        return ctx
    name = (await _assignees(session, ctx.meeting)).get(choice or 0)
    if name is None:
        return TaskRefused("not_at_table")
    await _save(session, telegram_user_id, ctx.meeting, "text", now, member_id=choice)
    text, keyboard = views.render_ask_text(ctx.view, name, tr)
    return Step(text, keyboard)


async def _state(
    session: AsyncSession, telegram_user_id: int, meeting_id: int, step: str, now: datetime
) -> dict[str, Any] | None:
    conv = await core_repo.get_conversation(
        session, telegram_user_id=telegram_user_id, chat_id=telegram_user_id, now=now
    )
    if conv is None or conv.flow != TASK_FLOW or conv.step != step:
        return None
    return conv.data if conv.data.get("meeting_id") == meeting_id else None


@dataclass(frozen=True)
class ActionAsked:
    """The text is kept: is it about one of these actions? (`views.render_pick_action`)"""

    meeting: views.TaskMeeting
    name: str
    text: str
    actions: tuple[tuple[int, str, str], ...]


@dataclass(frozen=True)
class DueAsked:
    """The text is kept: by when? (`views.render_pick_due`)"""

    meeting: views.TaskMeeting
    name: str
    text: str
    today: date


async def write_text(
    session: AsyncSession,
    *,
    meeting_id: int,
    telegram_user_id: int,
    chat_id: int,
    text: str,
    now: datetime,
) -> ActionAsked | DueAsked | TaskRefused:
    """The task's text (the same limits as an agenda item); then: by when?"""
    del chat_id  # the dialogue is private: its chat is the person's
    checked = check_item_text(text)
    if isinstance(checked, tuple):
        return TaskRefused(*checked)
    ctx = await _coordinating(session, meeting_id, telegram_user_id, now)
    if isinstance(ctx, TaskRefused):
        return ctx
    state = await _state(session, telegram_user_id, meeting_id, "text", now)
    name = (await _assignees(session, ctx.meeting)).get(int((state or {}).get("member_id", 0)))
    if state is None or name is None:
        return TaskRefused("stale")
    member_id = int(state["member_id"])
    actions = await repo.actions_of_member(
        session, union_id=ctx.meeting.union_id, member_id=member_id, limit=ACTIONS_OFFERED
    )
    step = "action" if actions else "due"
    await _save(
        session, telegram_user_id, ctx.meeting, step, now, member_id=member_id, text=checked
    )
    if actions:
        return ActionAsked(ctx.view, name, checked, tuple(actions))
    return DueAsked(ctx.view, name, checked, ctx.today)


async def pick_action(
    session: AsyncSession,
    *,
    meeting_id: int,
    choice: int | None,
    telegram_user_id: int,
    now: datetime,
    tr: Translator,
) -> Step | TaskRefused:
    """The PAES action the task is about (0: none), among those offered; then: by when?"""
    ctx = await _coordinating(session, meeting_id, telegram_user_id, now)
    if isinstance(ctx, TaskRefused):
        return ctx
    state = await _state(session, telegram_user_id, meeting_id, "action", now)
    member_id = int((state or {}).get("member_id", 0))
    name = (await _assignees(session, ctx.meeting)).get(member_id)
    offered = await repo.actions_of_member(
        session, union_id=ctx.meeting.union_id, member_id=member_id, limit=ACTIONS_OFFERED
    )
    if state is None or name is None or (choice and choice not in {a[0] for a in offered}):
        return TaskRefused("stale")
    await _save(
        session,
        telegram_user_id,
        ctx.meeting,
        "due",
        now,
        member_id=member_id,
        text=state["text"],
        action_id=choice or None,
    )
    text, keyboard = views.render_pick_due(ctx.view, name, str(state["text"]), ctx.today, tr)
    return Step(text, keyboard)


async def pick_due(
    session: AsyncSession,
    *,
    meeting_id: int,
    choice: int | None,
    telegram_user_id: int,
    now: datetime,
    language: str,
    tr: Translator,
) -> Step | TaskRefused:
    """The date chosen: the task is recorded, the assignee told in private (outbox), the
    dialogue ends."""
    ctx = await _coordinating(session, meeting_id, telegram_user_id, now)
    if isinstance(ctx, TaskRefused):
        return ctx
    state = await _state(session, telegram_user_id, meeting_id, "due", now)
    due_on = due_date(ctx.today, choice)
    assignee = await session.get(Member, int((state or {}).get("member_id", 0)))
    person = await session.get(Person, assignee.person_id) if assignee is not None else None
    if state is None or due_on is False or assignee is None or person is None:
        return TaskRefused("stale")
    assert not isinstance(due_on, bool)
    name = (await _assignees(session, ctx.meeting)).get(assignee.id)
    if name is None:
        return TaskRefused("not_at_table")
    task = MeetingTask(
        union_id=ctx.meeting.union_id,
        meeting_id=ctx.meeting.id,
        assignee_member_id=assignee.id,
        text=str(state["text"]),
        due_on=due_on,
        action_id=state.get("action_id"),
        status=TaskStatus.OPEN,
        created_by_member_id=ctx.member.id,
        created_at=now,
    )
    session.add(task)
    await session.flush()
    await core_repo.clear_conversation(
        session, telegram_user_id=telegram_user_id, chat_id=telegram_user_id
    )
    await _tell_assignee(session, ctx, task, person, now=now, language=language)
    logger.info("Meeting %s: task %s assigned", ctx.meeting.id, task.id)
    back = _back_to_agenda(ctx.meeting, now, tr)
    text, keyboard = views.render_assigned(
        ctx.view, task.id, name, task.text, due_on, tr, back=back
    )
    return Step(text, keyboard, done=True)


def _back_to_agenda(meeting: Meeting | None, now: datetime, tr: Translator) -> Button | None:
    """«↩️ Torna all'ordine del giorno» while the agenda's panel can still be opened."""
    if meeting is None or not agenda_open(meeting, now):
        return None
    return panel_button(meeting.id, tr)


async def _tell_assignee(
    session: AsyncSession,
    ctx: _Context,
    task: MeetingTask,
    person: Person,
    *,
    now: datetime,
    language: str,
) -> None:
    if person.telegram_user_id is None:
        return
    tr = person_translator(person.language, person.telegram_language, language)
    action = await session.get(Action, task.action_id) if task.action_id else None
    label = f"{action.code} · {action.title}" if action is not None else None
    text, keyboard = views.render_told(ctx.view, task.id, task.text, task.due_on, tr, label)
    if await _enqueue(session, person, f"task:{task.id}", text, keyboard, now=now):
        task.told_at = now


async def _enqueue(
    session: AsyncSession,
    person: Person,
    key: str,
    text: str,
    keyboard: Keyboard | None,
    *,
    now: datetime,
    expires_at: datetime | None = None,
) -> bool:
    assert person.telegram_user_id is not None
    return await outbox_repo.enqueue(
        session,
        dedup_key=key,
        chat_id=person.telegram_user_id,
        method="sendMessage",
        payload={"text": text, "parse_mode": "HTML", "reply_markup": to_dict(keyboard)},
        person_id=person.id,
        now=now,
        expires_at=expires_at,
    )


async def stop(
    session: AsyncSession, *, meeting_id: int, telegram_user_id: int, now: datetime, tr: Translator
) -> Step:
    """«Annulla»: the task's dialogue ends, nothing recorded. A dialogue opened since (a guest,
    the minutes' notes, an agenda item) is another's: an old «Annulla» leaves it open. The way
    back to the agenda's panel is offered (its own press re-checks the presser)."""
    conv = await core_repo.get_conversation(
        session, telegram_user_id=telegram_user_id, chat_id=telegram_user_id, now=now
    )
    if conv is not None and conv.flow == TASK_FLOW:
        await core_repo.clear_conversation(
            session, telegram_user_id=telegram_user_id, chat_id=telegram_user_id
        )
    back = _back_to_agenda(await session.get(Meeting, meeting_id), now, tr)
    text, keyboard = views.render_stopped(tr, back=back)
    return Step(text, keyboard)


@dataclass(frozen=True)
class TaskDone:
    text: str
    remaining: tuple[views.TaskLine, ...]  # the assignee's tasks still open
    today: date


def _lines(tasks: list[MeetingTask]) -> tuple[views.TaskLine, ...]:
    return tuple(views.TaskLine(t.id, t.text, t.due_on) for t in tasks)


async def _today(session: AsyncSession, union_id: int, now: datetime) -> date:
    union = await session.get(Union, union_id)
    assert union is not None
    return now.astimezone(ZoneInfo(union.timezone)).date()


async def mark_done(
    session: AsyncSession, *, task_id: int, telegram_user_id: int, now: datetime
) -> TaskDone | TaskRefused:
    """«✔️ Fatto»: only the assignee; once (a closed task stays closed)."""
    task = await session.get(MeetingTask, task_id)
    if task is None:
        return TaskRefused("task_gone")
    member = await member_for(session, union_id=task.union_id, telegram_user_id=telegram_user_id)
    if isinstance(member, str):
        return TaskRefused(member)
    if member.id != task.assignee_member_id:
        return TaskRefused("not_yours")
    if task.status == TaskStatus.CANCELLED:
        return TaskRefused("cancelled")
    if task.status != TaskStatus.OPEN:
        return TaskRefused("closed")
    task.status, task.closed_at = TaskStatus.DONE, now
    await session.flush()
    logger.info("Task %s done", task.id)
    remaining = _lines(await repo.open_tasks_of(session, member.id))
    return TaskDone(task.text, remaining, await _today(session, task.union_id, now))


@dataclass(frozen=True)
class TaskCancelled:
    meeting_id: int | None
    text: str
    name: ShownName  # the assignee's
    told: bool  # the assignee's notice is queued
    # The message that told the assignee, to be struck through: (chat id, message id, new text).
    struck: tuple[int, int, str] | None = None


async def cancel_task(
    session: AsyncSession, *, task_id: int, telegram_user_id: int, now: datetime, language: str
) -> TaskCancelled | TaskRefused:
    """«🗑 Annulla questo compito»: a coordinator of the task's Union, an open task (one done
    stays done). A message to the assignee not sent yet is withdrawn; one sent is struck
    through without its «✔️ Fatto» (by the caller, after the COMMIT) and the assignee told it is
    cancelled (once)."""
    task = await session.get(MeetingTask, task_id)
    if task is None:
        return TaskRefused("task_gone")
    member = await member_for(
        session, union_id=task.union_id, telegram_user_id=telegram_user_id, coordinator=True
    )
    if isinstance(member, str):
        return TaskRefused(member)
    if task.status != TaskStatus.OPEN:
        return TaskRefused("closed")
    task.status, task.closed_at = TaskStatus.CANCELLED, now
    meeting = await session.get(Meeting, task.meeting_id)
    assignee = await session.get(Member, task.assignee_member_id)
    person = await session.get(Person, assignee.person_id) if assignee is not None else None
    told, struck = False, None
    reachable = person is not None and person.telegram_user_id is not None
    never_sent = await outbox_repo.withdraw(session, f"task:{task.id}")
    if meeting is not None and person is not None and reachable and not never_sent:
        tr = person_translator(person.language, person.telegram_language, language)
        sent = await outbox_repo.sent_message(session, f"task:{task.id}")
        if sent is not None:
            struck = (sent[0], sent[1], views.render_struck(sent[2], tr))
        if task.told_at is not None:
            text = views.render_cancelled_told(meeting.title, task.text, tr)
            told = await _enqueue(session, person, f"taskdrop:{task.id}", text, None, now=now)
    await session.flush()
    logger.info("Task %s cancelled", task.id)
    return TaskCancelled(task.meeting_id, task.text, shown_name(person), told, struck)


# --- with the monthly update round (the tick) ---------------------------------------------


async def rounds_to_ask(session: AsyncSession) -> list[int]:
    return await repo.rounds_to_ask(session, ROUND_CLAIM)


async def ask_in_round(
    session: AsyncSession, *, round_id: int, now: datetime, language: str
) -> bool:
    """Once per round (a claim): each assignee of the Union's open tasks is asked about them in
    private, one «✔️ Fatto» per task, until the round's deadline. True when queued."""
    round_ = await session.get(UpdateRound, round_id)
    if round_ is None or round_.status != RoundStatus.OPEN:
        return False
    if not await core_repo.claim(
        session, kind=ROUND_CLAIM, union_id=round_.union_id, period=str(round_.id), now=now
    ):
        return False
    by_member: dict[int, list[MeetingTask]] = {}
    for task in await agenda_repo.open_tasks(session, union_id=round_.union_id):
        by_member.setdefault(task.assignee_member_id, []).append(task)
    today = await _today(session, round_.union_id, now)
    queued = False
    for member_id, open_tasks in by_member.items():
        member = await session.get(Member, member_id)
        person = await session.get(Person, member.person_id) if member is not None else None
        if member is None or member.status != MemberStatus.ACTIVE or person is None:
            continue
        if person.telegram_user_id is None:
            continue
        tr = person_translator(person.language, person.telegram_language, language)
        year, month = (int(x) for x in round_.period.split("-")[:2])
        period = format_month(year, month, tr.language)
        text, keyboard = views.render_round_tasks(period, _lines(open_tasks), today, tr)
        queued = (
            await _enqueue(
                session,
                person,
                f"taskround:{round_.id}:{member.id}",
                text,
                keyboard,
                now=now,
                expires_at=round_.deadline_at,
            )
            or queued
        )
    logger.info("Round %s: open tasks asked of %d people", round_.id, len(by_member))
    return queued
