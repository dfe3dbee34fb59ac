"""Meeting-poll use cases over a session: the state of a poll as plain data, and who may do what.

No Telegram here. The handlers render what these return, after the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.meeting_rules import SlotTally, Voter, best_slot, sits_at, tally, who_is_missing
from storage.models import (
    Answer,
    LinkedChat,
    MeetingPoll,
    PollStatus,
    PollTable,
    Role,
    Slot,
    TableKind,
    Union,
)
from storage.repositories import core as core_repo
from storage.repositories import meetings as repo
from storage.repositories.meetings import TableMember


@dataclass(frozen=True)
class SlotView:
    slot: Slot
    tally: SlotTally
    names: dict[Answer, list[str]]


@dataclass(frozen=True)
class PollView:
    poll: MeetingPoll
    union: Union
    tz: ZoneInfo
    slots: list[SlotView]
    voters: dict[int, TableMember]  # member id → who sits at this poll's table
    answered: set[int]  # members with at least one answer
    answers: dict[tuple[int, int], Answer]  # (slot id, member id) → answer
    comuni: dict[int, str]
    chosen: SlotView | None = None
    missing_by_comune: list[tuple[str, bool, list[str]]] = field(default_factory=list)
    missing_without_comune: list[str] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.poll.status == PollStatus.OPEN

    def best(self) -> SlotView | None:
        choice = best_slot([s.tally for s in self.slots])
        if choice is None:
            return None
        return next(s for s in self.slots if s.slot.id == choice.slot_id)

    def missing_members(self) -> list[TableMember]:
        return [m for mid, m in self.voters.items() if mid not in self.answered]


def table_members(members: list[TableMember], table: PollTable) -> dict[int, TableMember]:
    return {
        m.member_id: m
        for m in members
        if sits_at(table, role=Role(m.role), is_coordinator=m.is_coordinator)
    }


async def load_poll_view(session: AsyncSession, poll_id: int) -> PollView | None:
    poll = await session.get(MeetingPoll, poll_id)
    if poll is None:
        return None
    union = await session.get(Union, poll.union_id)
    if union is None:
        return None
    slots = await repo.slots_of(session, poll.id)
    votes = await repo.votes_of(session, poll.id)
    voters = table_members(await repo.active_members(session, union.id), poll.table)
    comuni = await core_repo.municipality_names(session, union.id)
    plain = {
        mid: Voter(
            member_id=mid,
            municipality_ids=tuple(c for c in m.municipality_ids if c in comuni),
        )
        for mid, m in voters.items()
    }
    answers = {(v.slot_id, v.member_id): v.answer for v in votes if v.member_id in voters}
    views = []
    for slot in slots:
        slot_answers = {mid: a for (sid, mid), a in answers.items() if sid == slot.id}
        names: dict[Answer, list[str]] = {a: [] for a in Answer}
        for mid, answer in slot_answers.items():
            names[answer].append(voters[mid].name)
        views.append(
            SlotView(
                slot=slot,
                tally=tally(
                    slot_id=slot.id, starts_at=slot.starts_at, answers=slot_answers, voters=plain
                ),
                names={a: sorted(n) for a, n in names.items()},
            )
        )
    answered = {mid for (_sid, mid) in answers}
    missing, no_comune = who_is_missing(voters=plain, answered=answered)
    by_comune = [
        (
            comuni.get(m.municipality_id, "?"),
            m.represented,
            sorted(voters[mid].name for mid in m.missing_member_ids),
        )
        for m in missing
    ]
    chosen = next((s for s in views if s.slot.id == poll.chosen_slot_id), None)
    return PollView(
        poll=poll,
        union=union,
        tz=ZoneInfo(union.timezone),
        slots=views,
        voters=voters,
        answered=answered,
        answers=answers,
        comuni=comuni,
        chosen=chosen,
        missing_by_comune=sorted(by_comune),
        missing_without_comune=sorted(voters[mid].name for mid in no_comune),
    )


def table_kinds(table: PollTable) -> tuple[TableKind, ...]:
    if table == PollTable.POLITICAL:
        return (TableKind.POLITICAL,)
    if table == PollTable.TECHNICAL:
        return (TableKind.TECHNICAL,)
    return (TableKind.POLITICAL, TableKind.TECHNICAL)


async def table_chats(
    session: AsyncSession, *, union_id: int, table: PollTable
) -> list[LinkedChat]:
    """The linked groups where a poll for this table is posted (one chat once)."""
    chats: list[LinkedChat] = []
    for kind in table_kinds(table):
        link = await core_repo.linked_chat(session, union_id=union_id, table=kind)
        if link is not None and all(c.chat_id != link.chat_id for c in chats):
            chats.append(link)
    return chats


def tables_a_member_may_propose(*, role: Role, is_coordinator: bool) -> tuple[PollTable, ...]:
    """The coordinator proposes for any table; a Sindaco for the political table."""
    if is_coordinator:
        return (PollTable.POLITICAL, PollTable.TECHNICAL, PollTable.BOTH)
    if role == Role.SINDACO:
        return (PollTable.POLITICAL,)
    return ()


def may_manage(poll: MeetingPoll, *, member_id: int, is_coordinator: bool) -> bool:
    """Close, extend, add a date, cancel, see who is missing: the coordinator or the proposer."""
    return is_coordinator or poll.created_by_member_id == member_id


def deadline_passed(poll: MeetingPoll, now: datetime) -> bool:
    return now >= poll.deadline_at
