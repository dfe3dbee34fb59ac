"""The poll's controls: «⚙️ Gestisci» under the poll in its groups opens a panel in private
(`open_panel`) with «Chi manca?», «Aggiungi data», «Proroga», «Chiudi ora», «Annulla
sondaggio», whose questions and confirmations are answered there too.

Who may: the coordinator, or the member who proposed the poll (`rules.may_manage`), re-checked
from the database on every press; anyone else is told who may (`NotAllowed.coordinators`,
`.proposer`). The chat check is the kit's `button_refusal`, which the handler asks first: «⚙️
Gestisci» works in a group linked to the poll's Union, every control of the panel in private
only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.italian_dates import ParseProblem, parse_when
from bot.services.meetings import rules
from bot.services.meetings.closing import PollClosed, close_poll
from bot.services.meetings.polls import best_of, load_poll_view
from bot.views.meetings import EXTEND_DAYS, PollView, SlotView
from storage.models import MeetingPoll, Member, MemberStatus, Person, PollStatus
from storage.repositories import core as core_repo
from storage.repositories import meetings as repo
from storage.repositories.people import present_name

ADD_DATE_FLOW = "meeting_add_slot"  # the dialogue of «Aggiungi data» (one written date)


@dataclass(frozen=True)
class NotAllowed:
    """`reason`: gone, not_a_member, not_a_manager, closed, too_many_dates,
    cannot_extend, deadline_too_late, stale_button (bot.views.meetings.render_manage_refusal).
    For not_a_manager (a member of the Union): who may manage it, by name."""

    reason: str
    coordinators: tuple[str, ...] = ()
    proposer: str | None = None


@dataclass(frozen=True)
class Managed:
    view: PollView
    member_id: int


async def managed_poll(
    session: AsyncSession,
    *,
    poll_id: int,
    telegram_user_id: int,
    open_only: bool = True,
) -> Managed | NotAllowed:
    """The poll, if the presser may manage it (its controls work in private only: the
    handler's chat check refuses them in a group before this runs)."""
    poll = await session.get(MeetingPoll, poll_id)
    if poll is None:
        return NotAllowed("gone")
    member = await core_repo.member_of(
        session, union_id=poll.union_id, telegram_user_id=telegram_user_id
    )
    if member is None:
        return NotAllowed("not_a_member")
    if not rules.may_manage(poll, member_id=member.id, is_coordinator=member.is_coordinator):
        return await _who_manages(session, poll)
    view = await load_poll_view(session, poll.id)
    if view is None:
        return NotAllowed("gone")
    if open_only and not view.is_open:
        return NotAllowed("closed")
    return Managed(view=view, member_id=member.id)


async def _who_manages(session: AsyncSession, poll: MeetingPoll) -> NotAllowed:
    """The refusal for a member of the Union: the coordinators and the proposer, by name."""
    coordinators = tuple(
        present_name(person) for _m, person in await core_repo.coordinators(session, poll.union_id)
    )
    proposer = None
    if poll.created_by_member_id is not None:
        member = await session.get(Member, poll.created_by_member_id)
        person = await session.get(Person, member.person_id) if member is not None else None
        if member is not None and member.status == MemberStatus.ACTIVE and person is not None:
            proposer = present_name(person)
    if proposer in coordinators:
        proposer = None
    return NotAllowed("not_a_manager", coordinators=coordinators, proposer=proposer)


# --- the panel, and its questions (answered in private) -------------------------------------


@dataclass(frozen=True)
class Panel:
    view: PollView
    best: SlotView | None  # the date closing now would choose


async def open_panel(
    session: AsyncSession, *, poll_id: int, telegram_user_id: int
) -> Panel | NotAllowed:
    """«⚙️ Gestisci» (in a group, or a link to the bot): the panel, for who may manage the
    poll; it is sent in private, so where it was pressed does not matter. «Chiudi ora» asks
    with the same: the open poll and the date closing now would choose."""
    managed = await managed_poll(session, poll_id=poll_id, telegram_user_id=telegram_user_id)
    if isinstance(managed, NotAllowed):
        return managed
    return Panel(view=managed.view, best=best_of(managed.view))


@dataclass(frozen=True)
class ExtendChoices:
    view: PollView
    choices: tuple[tuple[int, datetime], ...]  # (days, the new deadline)


async def extend_choices(
    session: AsyncSession, *, poll_id: int, telegram_user_id: int
) -> ExtendChoices | NotAllowed:
    """The extensions offered: those that keep the deadline 24 hours before the first date."""
    managed = await managed_poll(session, poll_id=poll_id, telegram_user_id=telegram_user_id)
    if isinstance(managed, NotAllowed):
        return managed
    view = managed.view
    deadline = view.poll.deadline_at
    latest = rules.latest_deadline(view.slots[0].slot.starts_at) if view.slots else deadline
    choices = tuple(
        (days, new)
        for days in EXTEND_DAYS
        if (new := rules.add_local_days(deadline, days, view.tz)) <= latest
    )
    if not choices:
        return NotAllowed("cannot_extend")
    return ExtendChoices(view=view, choices=choices)


async def start_adding_date(
    session: AsyncSession,
    *,
    poll_id: int,
    telegram_user_id: int,
    now: datetime,
) -> Managed | NotAllowed:
    """«Aggiungi data»: the presser's next private message is the new date (a day to write it)."""
    managed = await managed_poll(session, poll_id=poll_id, telegram_user_id=telegram_user_id)
    if isinstance(managed, NotAllowed):
        return managed
    if len(managed.view.slots) >= rules.MAX_SLOTS:
        return NotAllowed("too_many_dates")
    await core_repo.set_conversation(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=telegram_user_id,
        flow=ADD_DATE_FLOW,
        step="date",
        data={"poll_id": poll_id},
        now=now,
        ttl=timedelta(days=1),
    )
    return managed


# --- the confirmations (in private) ---------------------------------------------------------


@dataclass(frozen=True)
class Closed:
    closed: PollClosed
    view: PollView  # as it was before the close (its zone, its title)


async def close_now(
    session: AsyncSession, *, poll_id: int, telegram_user_id: int, now: datetime, language: str
) -> Closed | NotAllowed:
    """«Sì, chiudi»: `close_poll`, by the one who pressed (they read the outcome there)."""
    managed = await managed_poll(session, poll_id=poll_id, telegram_user_id=telegram_user_id)
    if isinstance(managed, NotAllowed):
        return managed
    outcome = await close_poll(
        session, poll_id=poll_id, now=now, language=language, closed_by=managed.member_id
    )
    if not isinstance(outcome, PollClosed):
        return NotAllowed("closed")
    return Closed(closed=outcome, view=managed.view)


@dataclass(frozen=True)
class Cancelled:
    poll_id: int


async def cancel_poll(
    session: AsyncSession, *, poll_id: int, telegram_user_id: int, now: datetime
) -> Cancelled | NotAllowed:
    """«Sì, annulla il sondaggio»: the answers no longer count; the messages show it."""
    managed = await managed_poll(session, poll_id=poll_id, telegram_user_id=telegram_user_id)
    if isinstance(managed, NotAllowed):
        return managed
    if not await repo.transition(session, poll_id=poll_id, to=PollStatus.CANCELLED, now=now):
        return NotAllowed("closed")
    await repo.mark_dirty(session, poll_id=poll_id, now=now)
    return Cancelled(poll_id=poll_id)


@dataclass(frozen=True)
class Extended:
    deadline: datetime
    view: PollView


async def extend_deadline(
    session: AsyncSession, *, poll_id: int, telegram_user_id: int, days: int | None, now: datetime
) -> Extended | NotAllowed:
    """One of the «Proroga» choices: the same wall time `days` later, if still 24 h before
    the first date (a day count not offered is a forged button)."""
    managed = await managed_poll(session, poll_id=poll_id, telegram_user_id=telegram_user_id)
    if isinstance(managed, NotAllowed):
        return managed
    if days not in EXTEND_DAYS:
        return NotAllowed("stale_button")
    view = managed.view
    new_deadline = rules.add_local_days(view.poll.deadline_at, days, view.tz)
    first = view.slots[0].slot.starts_at if view.slots else new_deadline
    if rules.deadline_problem(now=now, deadline=new_deadline, first_slot=first):
        return NotAllowed("deadline_too_late")
    view.poll.deadline_at = new_deadline
    await repo.mark_dirty(session, poll_id=poll_id, now=now)
    return Extended(deadline=new_deadline, view=view)


# --- «Aggiungi data»: the written date ------------------------------------------------------


@dataclass(frozen=True)
class DateAnswer:
    """`outcome`: added, already_there, too_early (`at` is then the deadline), problem (a date
    not understood: `problem`), too_many_dates, closed, gone."""

    outcome: str
    timezone: str = "UTC"
    at: datetime | None = None
    holiday: bool = False
    problem: ParseProblem | None = None


async def add_date(
    session: AsyncSession, *, poll_id: int, telegram_user_id: int, text: str, now: datetime
) -> DateAnswer:
    """Add a written date to an open poll; the dialogue ends unless the date can be fixed."""
    managed = await managed_poll(session, poll_id=poll_id, telegram_user_id=telegram_user_id)
    if isinstance(managed, NotAllowed):
        await _end(session, telegram_user_id)
        return DateAnswer("closed" if managed.reason == "closed" else "gone")
    view = managed.view
    poll, tz_name = view.poll, view.union.timezone
    settings = await repo.settings_of(session, poll.union_id)
    parsed = parse_when(
        text, now=now, tz=view.tz, default_time=time(settings.slot_hour, settings.slot_minute)
    )
    if isinstance(parsed, ParseProblem):
        return DateAnswer("problem", tz_name, problem=parsed)
    if len(await repo.slots_of(session, poll.id)) >= rules.MAX_SLOTS:
        await _end(session, telegram_user_id)
        return DateAnswer("too_many_dates", tz_name)
    if parsed.utc < poll.deadline_at + rules.DEADLINE_MARGIN:
        return DateAnswer("too_early", tz_name, at=poll.deadline_at)
    if not await repo.add_slot(
        session,
        poll_id=poll.id,
        starts_at=parsed.utc,
        ends_at=parsed.utc + timedelta(minutes=settings.duration_minutes),
    ):
        return DateAnswer("already_there", tz_name, at=parsed.utc)
    await repo.mark_dirty(session, poll_id=poll.id, now=now)
    await _end(session, telegram_user_id)
    holiday = rules.is_holiday(parsed.local.date())
    return DateAnswer("added", tz_name, at=parsed.utc, holiday=holiday)


async def _end(session: AsyncSession, telegram_user_id: int) -> None:
    await core_repo.clear_conversation(
        session, telegram_user_id=telegram_user_id, chat_id=telegram_user_id
    )
