"""Queries for summaries, decisions, announcements, shared folders, exports and settings.

Never commits: the caller's transaction does. Rows leave as models or small dataclasses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Action,
    Announcement,
    Decision,
    DecisionMessage,
    DecisionStatus,
    DecisionVote,
    DecisionVoteChoice,
    DocumentLink,
    JobClaim,
    LinkedChat,
    Meeting,
    MeetingSettings,
    Member,
    MemberMunicipality,
    MemberStatus,
    Municipality,
    OutboxMessage,
    OutboxStatus,
    Person,
    PostedMessage,
    ProgressUpdate,
    Role,
    RoundResponse,
    Summary,
    SummaryKind,
    Union,
    UpdateAttachment,
    UpdateNote,
    UpdateRound,
    UpdateSettings,
)
from storage.repositories import dirty_messages
from storage.repositories import outbox as outbox_repo
from storage.repositories import tasks as tasks_repo
from storage.repositories.common import insert_ignore, lock_one
from storage.repositories.core import municipality_names
from storage.repositories.people import (
    FORMER_MEMBER,
    ShownName,
    name_of,
    present_name,
    shown_name,
)
from storage.repositories.tasks import OverdueTask

EX_MEMBER = FORMER_MEMBER  # the name of anyone who left: readers show «ex membro»
UNION_NOTES: Literal["union"] = "union"  # group_notes(comune=…): notes of members with no Comune
SKIPPED_CLAIM = "summary_skipped"
# A scheduled summary's text is queued first, its pictures once drawn, with this claim: a summary
# of the last PICTURES_OWED_FOR without it owes its pictures (the process stopped in between).
PICTURES_CLAIM = "summary_pictures"
PICTURES_OWED_FOR = timedelta(days=2)

# --- rounds and summaries -----------------------------------------------------------------


def round_owes_summary(now: datetime) -> list[ColumnElement[bool]]:
    """An UpdateRound past its deadline with no scheduled summary, nor skipped: the conditions
    of `rounds_due_without_summary` and of the tick's probe (storage.repositories.schedule)."""
    has_summary = exists().where(
        Summary.union_id == UpdateRound.union_id,
        Summary.kind == SummaryKind.SCHEDULED,
        Summary.period == UpdateRound.period,
    )
    # A round skipped because a newer one exists is claimed as skipped: leave it out, or
    # skipped rounds would pile up at the head of this list for ever.
    skipped = exists().where(
        JobClaim.kind == SKIPPED_CLAIM,
        JobClaim.union_id == UpdateRound.union_id,
        JobClaim.period == UpdateRound.period,
    )
    return [UpdateRound.deadline_at <= now, ~has_summary, ~skipped]


def summary_owes_pictures(now: datetime) -> list[ColumnElement[bool]]:
    """A recent scheduled Summary whose pictures are not queued yet: the conditions of
    `summaries_owing_pictures` and of the tick's probe (storage.repositories.schedule)."""
    queued = exists().where(
        JobClaim.kind == PICTURES_CLAIM,
        JobClaim.union_id == Summary.union_id,
        JobClaim.period == Summary.period,
    )
    return [
        Summary.kind == SummaryKind.SCHEDULED,
        Summary.round_id.is_not(None),
        Summary.created_at > now - PICTURES_OWED_FOR,
        ~queued,
    ]


async def summaries_owing_pictures(
    session: AsyncSession, *, now: datetime, limit: int = 200
) -> list[tuple[int, UpdateRound]]:
    """(summary id, its round) of the scheduled summaries whose pictures are owed."""
    rows = await session.execute(
        select(Summary.id, UpdateRound)
        .join(UpdateRound, UpdateRound.id == Summary.round_id)
        .where(*summary_owes_pictures(now))
        .order_by(Summary.id)
        .limit(limit)
    )
    return [(summary_id, round_) for summary_id, round_ in rows]


async def rounds_due_without_summary(
    session: AsyncSession, *, now: datetime, limit: int = 200
) -> list[UpdateRound]:
    """Rounds whose deadline has passed and that have no scheduled summary yet."""
    rows = await session.execute(
        select(UpdateRound)
        .where(*round_owes_summary(now))
        .order_by(UpdateRound.deadline_at, UpdateRound.id)
        .limit(limit)
    )
    return list(rows.scalars())


async def newer_round_exists(session: AsyncSession, round_: UpdateRound) -> bool:
    row = await session.execute(
        select(UpdateRound.id)
        .where(
            UpdateRound.union_id == round_.union_id,
            or_(
                UpdateRound.period > round_.period,
                and_(UpdateRound.period == round_.period, UpdateRound.id > round_.id),
            ),
        )
        .limit(1)
    )
    return row.scalar_one_or_none() is not None


async def latest_round(
    session: AsyncSession, *, union_id: int, now: datetime | None = None
) -> UpdateRound | None:
    stmt = select(UpdateRound).where(UpdateRound.union_id == union_id)
    if now is not None:
        stmt = stmt.where(UpdateRound.opened_at <= now)
    row = await session.execute(stmt.order_by(UpdateRound.period.desc()).limit(1))
    return row.scalar_one_or_none()


async def last_scheduled_summary(
    session: AsyncSession, *, union_id: int, exclude_period: str | None = None
) -> Summary | None:
    stmt = select(Summary).where(
        Summary.union_id == union_id, Summary.kind == SummaryKind.SCHEDULED
    )
    if exclude_period is not None:
        stmt = stmt.where(Summary.period != exclude_period)
    row = await session.execute(
        stmt.order_by(Summary.created_at.desc(), Summary.id.desc()).limit(1)
    )
    return row.scalar_one_or_none()


async def create_summary(
    session: AsyncSession,
    *,
    union_id: int,
    kind: SummaryKind,
    period: str,
    round_id: int | None,
    late: bool,
    now: datetime,
) -> Summary | None:
    """Insert the summary once per (Union, period): None when it already exists (claim lost)."""
    inserted = await insert_ignore(
        session,
        Summary,
        {
            "union_id": union_id,
            "kind": kind,
            "period": period,
            "round_id": round_id,
            "late": late,
            "created_at": now,
        },
        ["union_id", "period"],
    )
    if not inserted:
        return None
    row = await session.execute(
        select(Summary).where(Summary.union_id == union_id, Summary.period == period)
    )
    return row.scalar_one()


async def summaries_of(session: AsyncSession, union_id: int) -> list[Summary]:
    rows = await session.execute(
        select(Summary).where(Summary.union_id == union_id).order_by(Summary.id)
    )
    return list(rows.scalars())


async def record_posted(
    session: AsyncSession,
    *,
    summary_id: int,
    chat_id: int,
    message_id: int,
    note: str,
    now: datetime,
) -> None:
    session.add(
        PostedMessage(summary_id=summary_id, chat_id=chat_id, message_id=message_id, note=note)
    )
    summary = await session.get(Summary, summary_id)
    if summary is not None and summary.posted_at is None:
        summary.posted_at = now


# --- the facts a summary is made of -------------------------------------------------------


class UpdateFact(NamedTuple):
    """One progress update as a summary reads it. A named tuple, not a frozen dataclass: a
    20-Comuni summary reads 3,600 of them, and a frozen dataclass's `__init__` (an
    `object.__setattr__` per field) cost 3–4 of the 28 ms of CPU `updates_since` took."""

    update_id: int
    action_id: int
    member_id: int | None
    round_id: int | None
    previous_status: str | None
    status: str
    previous_progress: int | None
    progress: int
    note: str | None
    photos: int
    documents: int
    created_at: datetime


@dataclass(frozen=True)
class TechnicianFact:
    member_id: int
    name: ShownName
    municipality_ids: tuple[int, ...]
    person_id: int | None = None


@dataclass(frozen=True)
class VoteFact:
    municipality_id: int
    comune: str
    choice: str
    voter: ShownName | None
    voter_role: str | None
    voter_id: int | None = None  # the voter's person id


@dataclass(frozen=True)
class DecisionFact:
    decision: Decision
    comune: str | None
    action_code: str | None
    votes: tuple[VoteFact, ...]
    asked_by: ShownName | None
    asked_by_id: int | None = None  # the asker's person id

    @property
    def named_people(self) -> set[int]:
        """Person ids of those a text of this decision names (who asked, who voted)."""
        ids = {v.voter_id for v in self.votes} | {self.asked_by_id}
        return {i for i in ids if i is not None}


@dataclass(frozen=True)
class NoteFact:
    """A free note from the technical group (a reply to the round announcement, #aggiornamento)."""

    note_id: int
    municipality_id: int | None  # None: written by a member with no Comune (the Union)
    round_id: int | None
    member_id: int | None
    author: ShownName  # FORMER_MEMBER once the author left
    source: str
    text: str
    created_at: datetime
    author_id: int | None = None  # the author's person id


@dataclass(frozen=True)
class SummaryFacts:
    union: Union
    municipalities: list[Municipality]
    actions: list[Action]
    updates: list[UpdateFact]  # since min(baseline, start of the stuck window)
    rounds: list[UpdateRound]  # past deadline, oldest first (the stuck window)
    technicians: list[TechnicianFact]
    reported_member_ids: set[int]  # technicians who reported in the round
    next_meeting: Meeting | None
    decisions: list[DecisionFact]
    notes: list[NoteFact] = field(default_factory=list)  # group notes since the baseline
    overdue_tasks: list[OverdueTask] = field(default_factory=list)  # tasks past their date

    @property
    def named_people(self) -> set[int]:
        """Person ids of everyone a summary made of these facts may name (note authors,
        technicians, who asked and who voted, whose tasks are overdue): its outbox rows record
        them."""
        ids = {n.author_id for n in self.notes} | {t.person_id for t in self.technicians}
        ids |= {t.person_id for t in self.overdue_tasks}
        for decision in self.decisions:
            ids |= decision.named_people
        return {i for i in ids if i is not None}


_name = shown_name


async def updates_since(
    session: AsyncSession, *, union_id: int, since: datetime | None, until: datetime
) -> list[UpdateFact]:
    photos = (
        select(func.count())
        .where(UpdateAttachment.update_id == ProgressUpdate.id, UpdateAttachment.kind == "photo")
        .scalar_subquery()
    )
    documents = (
        select(func.count())
        .where(UpdateAttachment.update_id == ProgressUpdate.id, UpdateAttachment.kind != "photo")
        .scalar_subquery()
    )
    # Columns, not ORM objects: a large Union's summary reads thousands of updates, and building
    # (and tracking) an entity for each was most of the query's time (issue 16, bench/README.md).
    u = ProgressUpdate
    stmt = (
        select(
            u.id,
            u.action_id,
            u.member_id,
            u.round_id,
            u.previous_status,
            u.status,
            u.previous_progress,
            u.progress,
            u.note,
            photos,
            documents,
            u.created_at,
        )
        .join(Action, Action.id == u.action_id)
        .where(Action.union_id == union_id, u.created_at <= until)
    )
    if since is not None:
        stmt = stmt.where(u.created_at > since)
    rows = await session.execute(stmt.order_by(u.created_at, u.id))
    return [
        UpdateFact(
            update_id=uid,
            action_id=action_id,
            member_id=member_id,
            round_id=round_id,
            previous_status=previous_status.value if previous_status else None,
            status=status.value,
            previous_progress=previous_progress,
            progress=progress,
            note=note,
            photos=int(p or 0),
            documents=int(d or 0),
            created_at=created_at,
        )
        for (
            uid,
            action_id,
            member_id,
            round_id,
            previous_status,
            status,
            previous_progress,
            progress,
            note,
            p,
            d,
            created_at,
        ) in rows
    ]


async def group_notes(
    session: AsyncSession,
    *,
    union_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    round_id: int | None = None,
    comune: int | Literal["union"] | None = None,
    latest: int | None = None,
) -> list[NoteFact]:
    """The technical group's free notes of a Union, oldest first, in one query (with authors).

    `comune`: only one Comune's notes (its id), or `UNION_NOTES` for those of members with no
    Comune (where the summary shows them beside the intercommunal actions); None: all.
    `latest`: only the last N (an action's card).
    """
    stmt = (
        select(UpdateNote, Person)
        .outerjoin(Member, Member.id == UpdateNote.member_id)
        .outerjoin(Person, Person.id == Member.person_id)
        .where(UpdateNote.union_id == union_id)
    )
    if since is not None:
        stmt = stmt.where(UpdateNote.created_at > since)
    if until is not None:
        stmt = stmt.where(UpdateNote.created_at <= until)
    if round_id is not None:
        stmt = stmt.where(UpdateNote.round_id == round_id)
    if comune == UNION_NOTES:
        stmt = stmt.where(UpdateNote.municipality_id.is_(None))
    elif comune is not None:
        stmt = stmt.where(UpdateNote.municipality_id == comune)
    if latest is not None:
        if comune is not None:
            # One Comune (or none): municipality_id is constant here, and naming it lets
            # PostgreSQL read the last rows backwards off the (union_id, municipality_id,
            # created_at, id) index for `IS NULL` too (it infers a constant only from `=`).
            stmt = stmt.order_by(UpdateNote.municipality_id.desc())
        stmt = stmt.order_by(UpdateNote.created_at.desc(), UpdateNote.id.desc()).limit(latest)
    else:
        stmt = stmt.order_by(UpdateNote.created_at, UpdateNote.id)
    rows = list(await session.execute(stmt))
    if latest is not None:
        rows.reverse()
    return [
        NoteFact(
            note_id=n.id,
            municipality_id=n.municipality_id,
            round_id=n.round_id,
            member_id=n.member_id,
            author=_name(person),
            source=n.source.value,
            text=n.text,
            created_at=n.created_at,
            author_id=person.id if person is not None else None,
        )
        for n, person in rows
    ]


async def technicians(session: AsyncSession, union_id: int) -> list[TechnicianFact]:
    rows = await session.execute(
        select(Member, Person, MemberMunicipality.municipality_id)
        .join(Person, Person.id == Member.person_id)
        .outerjoin(MemberMunicipality, MemberMunicipality.member_id == Member.id)
        .where(
            Member.union_id == union_id,
            Member.status == MemberStatus.ACTIVE,
            Member.role == Role.TECNICO,
        )
        .order_by(Member.id)
    )
    by_member: dict[int, tuple[Person, list[int]]] = {}
    for member, person, municipality_id in rows:
        entry = by_member.setdefault(member.id, (person, []))
        if municipality_id is not None:
            entry[1].append(municipality_id)
    return [
        TechnicianFact(mid, _name(person), tuple(ids), person.id)
        for mid, (person, ids) in by_member.items()
    ]


async def reported_member_ids(session: AsyncSession, round_: UpdateRound) -> set[int]:
    """Members who reported in the round: an update in it (or in its window), "no news", or a
    note in the technical group (a reply to the round's announcement, #aggiornamento)."""
    in_round = await session.execute(
        select(ProgressUpdate.member_id).where(
            ProgressUpdate.member_id.is_not(None),
            or_(
                ProgressUpdate.round_id == round_.id,
                and_(
                    ProgressUpdate.created_at >= round_.opened_at,
                    ProgressUpdate.created_at <= round_.deadline_at,
                ),
            ),
            ProgressUpdate.action_id.in_(
                select(Action.id).where(Action.union_id == round_.union_id)
            ),
        )
    )
    responded = await session.execute(
        select(RoundResponse.member_id)
        .where(RoundResponse.round_id == round_.id)
        .union(
            select(UpdateNote.member_id).where(
                UpdateNote.round_id == round_.id, UpdateNote.member_id.is_not(None)
            )
        )
    )
    return {m for m in in_round.scalars() if m is not None} | set(responded.scalars())


async def next_meeting(session: AsyncSession, *, union_id: int, now: datetime) -> Meeting | None:
    row = await session.execute(
        select(Meeting)
        .where(
            Meeting.union_id == union_id, Meeting.starts_at > now, Meeting.cancelled_at.is_(None)
        )
        .order_by(Meeting.starts_at)
        .limit(1)
    )
    return row.scalar_one_or_none()


async def summary_facts(
    session: AsyncSession,
    *,
    union_id: int,
    baseline: datetime | None,
    round_: UpdateRound | None,
    now: datetime,
    stuck_window: int = 6,
) -> SummaryFacts | None:
    union = await session.get(Union, union_id)
    if union is None:
        return None
    municipalities = list(
        (
            await session.execute(
                select(Municipality)
                .where(Municipality.union_id == union_id, Municipality.archived_at.is_(None))
                .order_by(Municipality.name_key)
            )
        ).scalars()
    )
    actions = list(
        (
            await session.execute(
                select(Action)
                .where(Action.union_id == union_id, Action.archived_at.is_(None))
                .order_by(Action.code)
            )
        ).scalars()
    )
    rounds = list(
        (
            await session.execute(
                select(UpdateRound)
                .where(UpdateRound.union_id == union_id, UpdateRound.deadline_at <= now)
                .order_by(UpdateRound.deadline_at.desc())
                .limit(stuck_window)
            )
        ).scalars()
    )[::-1]
    window = rounds[-stuck_window:]
    since = None if baseline is None else min([baseline, *(r.opened_at for r in window[:1])])
    updates = await updates_since(session, union_id=union_id, since=since, until=now)
    techs = await technicians(session, union_id)
    reported = await reported_member_ids(session, round_) if round_ is not None else set()
    return SummaryFacts(
        union=union,
        municipalities=municipalities,
        actions=actions,
        updates=updates,
        rounds=window,
        technicians=techs,
        reported_member_ids=reported,
        next_meeting=await next_meeting(session, union_id=union_id, now=now),
        decisions=await open_decisions(session, union_id=union_id),
        notes=await group_notes(session, union_id=union_id, since=baseline, until=now),
        overdue_tasks=await tasks_repo.overdue(
            session, union_id=union_id, today=now.astimezone(ZoneInfo(union.timezone)).date()
        ),
    )


# --- decisions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionRequest:
    """A progress update that asks for a political decision and has no Decision yet."""

    update_id: int
    union_id: int
    action_id: int
    action_title: str
    member_id: int | None  # who asked
    decision_question: str | None  # the technician's own question, when they wrote one
    note: str | None


def update_owes_decision() -> list[ColumnElement[bool]]:
    """A ProgressUpdate that asks for a decision no Decision comes from yet: the conditions of
    `decision_requests` and of the tick's probe (storage.repositories.schedule)."""
    has_decision = exists().where(Decision.source_update_id == ProgressUpdate.id)
    return [ProgressUpdate.needs_decision.is_(True), ~has_decision]


async def decision_requests(session: AsyncSession, *, limit: int = 500) -> list[DecisionRequest]:
    """Updates marked "needs a political decision" that no Decision comes from yet, oldest first."""
    rows = await session.execute(
        select(ProgressUpdate, Action)
        .join(Action, Action.id == ProgressUpdate.action_id)
        .where(*update_owes_decision())
        .order_by(ProgressUpdate.id)
        .limit(limit)
    )
    return [
        DecisionRequest(
            update_id=update.id,
            union_id=action.union_id,
            action_id=action.id,
            action_title=action.title,
            member_id=update.member_id,
            decision_question=update.decision_question,
            note=update.note,
        )
        for update, action in rows
    ]


async def add_requested_decision(
    session: AsyncSession, *, request: DecisionRequest, question: str, now: datetime
) -> int | None:
    """The open Decision of a request, once per update: its id, or None when it exists."""
    inserted = await insert_ignore(
        session,
        Decision,
        {
            "union_id": request.union_id,
            "source_update_id": request.update_id,
            "action_id": request.action_id,
            "question": question,
            "status": DecisionStatus.OPEN,
            "asked_by_member_id": request.member_id,
            "created_at": now,
        },
        ["source_update_id"],
    )
    if not inserted:
        return None
    row = await session.execute(
        select(Decision.id).where(Decision.source_update_id == request.update_id)
    )
    return row.scalar_one()


async def add_decision(
    session: AsyncSession,
    *,
    union_id: int,
    text: str,
    member_id: int,
    now: datetime,
    outcome_text: str | None = None,
) -> Decision:
    """A decision the table took, recorded as approved by the member who writes it down:
    `text` what was asked, `outcome_text` what was decided (the same when not given)."""
    decision = Decision(
        union_id=union_id,
        question=text,
        outcome_text=outcome_text or text,
        status=DecisionStatus.APPROVED,
        asked_by_member_id=None,
        closed_by_member_id=member_id,
        created_at=now,
        closed_at=now,
    )
    session.add(decision)
    await session.flush()
    return decision


async def lock_decision(session: AsyncSession, decision_id: int) -> Decision | None:
    """The decision, locked (`common.lock_one`): of two closings at once — the group's outcome
    button, a meeting's minutes approved — the second waits for the first and finds the
    question closed."""
    decision: Decision | None = await lock_one(
        session, select(Decision).where(Decision.id == decision_id)
    )
    return decision


async def decision_fact(session: AsyncSession, decision: Decision) -> DecisionFact:
    return (await decision_facts(session, [decision]))[0]


async def decision_facts(
    session: AsyncSession, decisions: Sequence[Decision]
) -> list[DecisionFact]:
    """The facts of several decisions in three queries, however many decisions and Comuni
    (the summary lists every open decision: one query per decision grew with the Union)."""
    if not decisions:
        return []
    ids = [d.id for d in decisions]
    action_ids = {d.action_id for d in decisions if d.action_id is not None}
    actions: dict[int, tuple[str, str | None]] = {}
    if action_ids:
        action_rows = await session.execute(
            select(Action.id, Action.code, Municipality.name)
            .outerjoin(Municipality, Municipality.id == Action.municipality_id)
            .where(Action.id.in_(action_ids))
        )
        actions = {action_id: (code, comune) for action_id, code, comune in action_rows}
    votes: dict[int, list[VoteFact]] = {}
    # Columns, not entities: every Comune votes on every open question, so a summary reads
    # Comuni² votes (1,600 at 40 Comuni), and an ORM object each was most of this read.
    vote_rows = await session.execute(
        select(
            DecisionVote.decision_id,
            DecisionVote.municipality_id,
            DecisionVote.member_id,
            DecisionVote.choice,
            Municipality.name,
            Member.role,
            Person.id,
            Person.display_name,
            Person.erased_at,
        )
        .join(Municipality, Municipality.id == DecisionVote.municipality_id)
        .outerjoin(Member, Member.id == DecisionVote.member_id)
        .outerjoin(Person, Person.id == Member.person_id)
        .where(DecisionVote.decision_id.in_(ids))
        .order_by(DecisionVote.decision_id, Municipality.name_key)
    )
    for (
        decision_id,
        comune_id,
        member_id,
        choice,
        name,
        role,
        person_id,
        shown,
        erased,
    ) in vote_rows:
        votes.setdefault(decision_id, []).append(
            VoteFact(
                municipality_id=comune_id,
                comune=name,
                choice=choice.value,
                voter=name_of(shown, erased) if member_id is not None else None,
                voter_role=role.value if role is not None else None,
                voter_id=person_id,
            )
        )
    asker_ids = {d.asked_by_member_id for d in decisions if d.asked_by_member_id is not None}
    askers: dict[int, Person] = {}
    if asker_ids:
        asker_rows = await session.execute(
            select(Member.id, Person)
            .join(Person, Person.id == Member.person_id)
            .where(Member.id.in_(asker_ids))
        )
        askers = {member_id: person for member_id, person in asker_rows}
    facts = []
    for decision in decisions:
        code, comune = None, None
        if decision.action_id is not None and decision.action_id in actions:
            code, comune = actions[decision.action_id]
        asked_by: ShownName | None = None
        asker: Person | None = None
        if decision.asked_by_member_id is not None:
            asker = askers.get(decision.asked_by_member_id)
            asked_by = _name(asker)
        facts.append(
            DecisionFact(
                decision=decision,
                comune=comune,
                action_code=code,
                votes=tuple(votes.get(decision.id, ())),
                asked_by=asked_by,
                asked_by_id=asker.id if asker is not None else None,
            )
        )
    return facts


PENDING_STATUSES = (DecisionStatus.OPEN, DecisionStatus.POSTPONED, DecisionStatus.APPROVED)


async def open_decisions(session: AsyncSession, *, union_id: int) -> list[DecisionFact]:
    """Decisions still to act on: being voted, postponed, or approved and waiting to be carried
    out (a rejected one has nothing left to do)."""
    return await decision_facts(session, await decisions_not_done(session, union_id=union_id))


async def cast_vote(
    session: AsyncSession,
    *,
    decision_id: int,
    municipality_id: int,
    member_id: int,
    choice: DecisionVoteChoice,
    now: datetime,
) -> None:
    """One vote per Comune: a new vote replaces the Comune's previous one."""
    inserted = await insert_ignore(
        session,
        DecisionVote,
        {
            "decision_id": decision_id,
            "municipality_id": municipality_id,
            "member_id": member_id,
            "choice": choice,
            "updated_at": now,
        },
        ["decision_id", "municipality_id"],
    )
    if not inserted:
        row = await session.execute(
            select(DecisionVote).where(
                DecisionVote.decision_id == decision_id,
                DecisionVote.municipality_id == municipality_id,
            )
        )
        vote = row.scalar_one()
        vote.member_id, vote.choice, vote.updated_at = member_id, choice, now


async def vote_of_comune(
    session: AsyncSession, *, decision_id: int, municipality_id: int
) -> tuple[DecisionVote, Role | None] | None:
    row = await session.execute(
        select(DecisionVote, Member.role)
        .outerjoin(Member, Member.id == DecisionVote.member_id)
        .where(
            DecisionVote.decision_id == decision_id,
            DecisionVote.municipality_id == municipality_id,
        )
    )
    found = row.first()
    return (found[0], found[1]) if found is not None else None


async def add_decision_message(
    session: AsyncSession,
    *,
    decision_id: int,
    chat_id: int,
    message_id: int,
    kind: str = DecisionMessage.CARD,
) -> None:
    await dirty_messages.remember(
        session,
        DecisionMessage,
        owner_id=decision_id,
        chat_id=chat_id,
        message_id=message_id,
        kind=kind,
    )


async def decision_shown_at(session: AsyncSession, decision_id: int) -> list[tuple[int, int]]:
    """(chat id, message id) of every message the decision was posted as."""
    return await dirty_messages.shown_at(session, DecisionMessage, decision_id)


async def mark_decision_dirty(
    session: AsyncSession, *, decision_id: int, now: datetime
) -> list[int]:
    """Owe an edit on every message showing the decision; returns their chat ids."""
    return await dirty_messages.mark_dirty(session, DecisionMessage, owner_id=decision_id, now=now)


async def political_comuni(session: AsyncSession, union_id: int) -> list[Municipality]:
    rows = await session.execute(
        select(Municipality)
        .where(Municipality.union_id == union_id, Municipality.archived_at.is_(None))
        .order_by(Municipality.name_key)
    )
    return list(rows.scalars())


async def decisions_not_done(session: AsyncSession, *, union_id: int) -> list[Decision]:
    """The decisions still to act on (`open_decisions`), oldest first: the rows themselves."""
    rows = await session.execute(
        select(Decision)
        .where(Decision.union_id == union_id, Decision.status.in_(PENDING_STATUSES))
        .order_by(Decision.created_at, Decision.id)
    )
    return list(rows.scalars())


# --- announcements ------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    person_id: int
    telegram_user_id: int
    name: str
    language: str | None


async def audience_members(
    session: AsyncSession, *, union_id: int, audience: str
) -> list[Recipient]:
    """Active members of the audience: all | political | technical | comune:<id>."""
    stmt = (
        select(Person, Member)
        .join(Member, Member.person_id == Person.id)
        .where(
            Member.union_id == union_id,
            Member.status == MemberStatus.ACTIVE,
            Person.telegram_user_id.is_not(None),
            Person.erased_at.is_(None),
        )
    )
    if audience == "political":
        stmt = stmt.where(
            or_(Member.role.in_([Role.SINDACO, Role.ASSESSORE]), Member.is_coordinator.is_(True))
        )
    elif audience == "technical":
        stmt = stmt.where(or_(Member.role == Role.TECNICO, Member.is_coordinator.is_(True)))
    elif audience.startswith("comune:"):
        municipality_id = int(audience.split(":", 1)[1])
        stmt = stmt.where(
            Member.id.in_(
                select(MemberMunicipality.member_id).where(
                    MemberMunicipality.municipality_id == municipality_id
                )
            )
        )
    elif audience != "all":
        raise ValueError(f"unknown audience {audience!r}")
    rows = await session.execute(stmt.order_by(Person.display_name, Person.id))
    seen: set[int] = set()
    result = []
    for person, _member in rows:
        if person.id in seen or person.telegram_user_id is None:
            continue
        seen.add(person.id)
        result.append(
            Recipient(
                person_id=person.id,
                telegram_user_id=person.telegram_user_id,
                name=present_name(person),
                language=person.language or person.telegram_language,
            )
        )
    return result


async def recent_decisions_by(
    session: AsyncSession, *, union_id: int, member_id: int, since: datetime
) -> list[Decision]:
    """Decisions this member recorded directly (/decisione) in the Union since `since`: the
    candidates a retry is compared with (bot.services.repeats)."""
    rows = await session.execute(
        select(Decision)
        .where(
            Decision.union_id == union_id,
            Decision.closed_by_member_id == member_id,
            Decision.asked_by_member_id.is_(None),
            Decision.source_update_id.is_(None),
            Decision.created_at >= since,
        )
        .order_by(Decision.id)
    )
    return list(rows.scalars())


async def recent_announcements_by(
    session: AsyncSession, *, union_id: int, member_id: int, since: datetime
) -> list[Announcement]:
    """Announcements this member wrote in the Union since `since`, except the cancelled ones."""
    rows = await session.execute(
        select(Announcement)
        .where(
            Announcement.union_id == union_id,
            Announcement.created_by_member_id == member_id,
            Announcement.audience != "cancelled",
            Announcement.created_at >= since,
        )
        .order_by(Announcement.id)
    )
    return list(rows.scalars())


async def last_announcements(
    session: AsyncSession, *, union_id: int, limit: int = 5
) -> list[Announcement]:
    """The Union's last announcements that were sent (not drafts, not cancelled), newest first."""
    rows = await session.execute(
        select(Announcement)
        .where(
            Announcement.union_id == union_id,
            Announcement.audience != "",
            Announcement.audience != "cancelled",
        )
        .order_by(Announcement.id.desc())
        .limit(limit)
    )
    return list(rows.scalars())


def announcement_owes_report() -> list[ColumnElement[bool]]:
    """An announcement to an audience not reported on yet: the conditions of
    `announcements_to_report` and of the tick's probe (storage.repositories.schedule)."""
    return [Announcement.audience != "", Announcement.reported_at.is_(None)]


async def announcements_to_report(session: AsyncSession, *, limit: int = 50) -> list[Announcement]:
    rows = await session.execute(
        select(Announcement)
        .where(*announcement_owes_report())
        .order_by(Announcement.id)
        .limit(limit)
    )
    return list(rows.scalars())


async def outbox_rows(session: AsyncSession, prefix: str) -> list[tuple[OutboxMessage, str | None]]:
    rows = await session.execute(
        select(OutboxMessage, Person.display_name)
        .outerjoin(Person, Person.id == OutboxMessage.person_id)
        .where(outbox_repo.key_starts_with(OutboxMessage.dedup_key, prefix))
        .order_by(OutboxMessage.id)
    )
    return [(r, n) for r, n in rows]


SETTLED = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.UNCERTAIN)


# --- shared folders -----------------------------------------------------------------------


async def documents(session: AsyncSession, union_id: int) -> list[DocumentLink]:
    rows = await session.execute(
        select(DocumentLink)
        .where(DocumentLink.union_id == union_id)
        .order_by(DocumentLink.title, DocumentLink.id)
    )
    return list(rows.scalars())


async def add_document(
    session: AsyncSession,
    *,
    union_id: int,
    title: str,
    url: str,
    member_id: int | None,
    now: datetime,
) -> bool:
    """False when the Union already has this URL."""
    return await insert_ignore(
        session,
        DocumentLink,
        {
            "union_id": union_id,
            "title": title,
            "url": url,
            "created_by_member_id": member_id,
            "created_at": now,
        },
        ["union_id", "url"],
    )


async def remove_document(session: AsyncSession, *, union_id: int, document_id: int) -> bool:
    result = await session.execute(
        delete(DocumentLink).where(
            DocumentLink.id == document_id, DocumentLink.union_id == union_id
        )
    )
    return bool(getattr(result, "rowcount", 0))


# --- export -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportData:
    union: Union
    actions: list[tuple[Action, str | None]]  # with the Comune's name
    history: list[tuple[ProgressUpdate, str, ShownName | None]]  # update, code, author
    meetings: list[Meeting]
    notes: list[tuple[NoteFact, str | None, str | None]] = field(
        default_factory=list
    )  # the technical group's notes, with the Comune's name and the round's period


async def export_data(session: AsyncSession, union_id: int) -> ExportData | None:
    union = await session.get(Union, union_id)
    if union is None:
        return None
    actions = await session.execute(
        select(Action, Municipality.name)
        .outerjoin(Municipality, Municipality.id == Action.municipality_id)
        .where(Action.union_id == union_id, Action.archived_at.is_(None))
        .order_by(Action.code)
    )
    history = await session.execute(
        select(ProgressUpdate, Action.code, Person)
        .join(Action, Action.id == ProgressUpdate.action_id)
        .outerjoin(Member, Member.id == ProgressUpdate.member_id)
        .outerjoin(Person, Person.id == Member.person_id)
        .where(Action.union_id == union_id)
        .order_by(ProgressUpdate.created_at, ProgressUpdate.id)
    )
    meetings = await session.execute(
        select(Meeting).where(Meeting.union_id == union_id).order_by(Meeting.starts_at)
    )
    notes = await group_notes(session, union_id=union_id)
    names = await municipality_names(session, union_id, include_archived=True)
    periods: dict[int, str] = {
        rid: period
        for rid, period in await session.execute(
            select(UpdateRound.id, UpdateRound.period).where(UpdateRound.union_id == union_id)
        )
    }
    return ExportData(
        union=union,
        actions=[(a, n) for a, n in actions],
        history=[(u, c, _name(p) if u.member_id else None) for u, c, p in history],
        meetings=list(meetings.scalars()),
        notes=[
            (
                n,
                names.get(n.municipality_id) if n.municipality_id is not None else None,
                periods.get(n.round_id) if n.round_id is not None else None,
            )
            for n in notes
        ],
    )


# --- settings -----------------------------------------------------------------------------


async def meeting_settings(session: AsyncSession, union_id: int) -> MeetingSettings:
    """The Union's meeting settings; a missing row means the defaults (added, flushed on save)."""
    row = await session.get(MeetingSettings, union_id)
    if row is None:
        row = MeetingSettings(union_id=union_id)
        for column in MeetingSettings.__table__.columns:
            if column.default is not None and getattr(row, column.key) is None:
                setattr(row, column.key, column.default.arg)
    return row


async def update_settings(session: AsyncSession, union_id: int) -> UpdateSettings:
    row = await session.get(UpdateSettings, union_id)
    if row is None:
        row = UpdateSettings(union_id=union_id)
        for column in UpdateSettings.__table__.columns:
            if column.default is not None and getattr(row, column.key) is None:
                setattr(row, column.key, column.default.arg)
    return row


async def technical_links(session: AsyncSession, union_id: int) -> list[LinkedChat]:
    rows = await session.execute(
        select(LinkedChat).where(LinkedChat.union_id == union_id).order_by(LinkedChat.id)
    )
    return list(rows.scalars())


async def unions_with_paes_date(session: AsyncSession) -> Sequence[Union]:
    rows = await session.execute(
        select(Union).where(Union.paes_approved_on.is_not(None)).order_by(Union.id)
    )
    return list(rows.scalars())


async def own_comuni(session: AsyncSession, *, union_id: int, person_id: int) -> frozenset[int]:
    """The Comuni of one person as an active member of the Union: the ones their private copy
    of a summary puts first."""
    stmt = (
        select(MemberMunicipality.municipality_id)
        .join(Member, Member.id == MemberMunicipality.member_id)
        .where(
            Member.union_id == union_id,
            Member.person_id == person_id,
            Member.status == MemberStatus.ACTIVE,
        )
    )
    return frozenset((await session.execute(stmt)).scalars())
