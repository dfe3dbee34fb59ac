"""Votes are unique per slot and member; one automatic poll per Union per month; on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from bot.clock import FakeClock
from storage.db import Database
from storage.models import (
    Answer,
    Member,
    MemberStatus,
    Person,
    PollMessage,
    PollStatus,
    PollTable,
    Role,
    Union,
    Vote,
)
from storage.repositories import dirty_messages
from storage.repositories import meetings as repo
from tests.meetings_factories import TeamFixture, add_member, make_union


async def _poll(
    db: Database, clock: FakeClock, *, period: str | None = None
) -> tuple[int, list[int], int]:
    now = clock.now()
    async with db.transaction() as session:
        team = await make_union(
            session, name="Reno Galliera", comuni=["Argelato", "Bentivoglio"], now=now
        )
        member = await add_member(session, team, key="anna", role=Role.SINDACO, comuni=[0], now=now)
        poll = await repo.create_poll(
            session,
            union_id=team.union.id,
            table=PollTable.POLITICAL,
            title="Riunione",
            agenda=None,
            place=None,
            deadline_at=now + timedelta(days=5),
            slots=[
                (now + timedelta(days=8), now + timedelta(days=8, hours=2)),
                (now + timedelta(days=9), now + timedelta(days=9, hours=2)),
            ],
            created_by_member_id=member.id,
            now=now,
            period=period,
        )
        assert poll is not None
        slots = await repo.slots_of(session, poll.id)
        return poll.id, [s.id for s in slots], member.id


async def test_vote_is_replaced_not_duplicated(db: Database, clock: FakeClock) -> None:
    poll_id, slot_ids, member_id = await _poll(db, clock)
    for answer in (Answer.YES, Answer.NO, Answer.MAYBE):
        async with db.transaction() as session:
            await repo.cast_vote(
                session, slot_id=slot_ids[0], member_id=member_id, answer=answer, now=clock.now()
            )
    async with db.transaction() as session:
        votes = await repo.votes_of(session, poll_id)
    assert [(v.slot_id, v.member_id, v.answer) for v in votes] == [
        (slot_ids[0], member_id, Answer.MAYBE)
    ]


async def test_the_unique_key_refuses_a_second_row(db: Database, clock: FakeClock) -> None:
    _poll_id, slot_ids, member_id = await _poll(db, clock)
    async with db.transaction() as session:
        session.add(
            Vote(
                slot_id=slot_ids[1], member_id=member_id, answer=Answer.YES, updated_at=clock.now()
            )
        )
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            session.add(
                Vote(
                    slot_id=slot_ids[1],
                    member_id=member_id,
                    answer=Answer.NO,
                    updated_at=clock.now(),
                )
            )


async def test_one_automatic_poll_per_union_and_month(db: Database, clock: FakeClock) -> None:
    poll_id, _slots, member_id = await _poll(db, clock, period="2026-12")
    async with db.transaction() as session:
        union_id = (await repo.open_polls(session))[0].union_id
        again = await repo.create_poll(
            session,
            union_id=union_id,
            table=PollTable.BOTH,
            title="Doppione",
            agenda=None,
            place=None,
            deadline_at=clock.now() + timedelta(days=5),
            slots=[(clock.now() + timedelta(days=10), clock.now() + timedelta(days=10, hours=2))],
            created_by_member_id=None,
            now=clock.now(),
            period="2026-12",
        )
        assert again is None
        # Hand-made polls (no period) are not limited.
        extra = await repo.create_poll(
            session,
            union_id=union_id,
            table=PollTable.BOTH,
            title="Straordinaria",
            agenda=None,
            place=None,
            deadline_at=clock.now() + timedelta(days=5),
            slots=[(clock.now() + timedelta(days=10), clock.now() + timedelta(days=10, hours=2))],
            created_by_member_id=member_id,
            now=clock.now(),
        )
        assert extra is not None
    async with db.transaction() as session:
        polls = await repo.open_polls(session)
    assert [p.period for p in polls] == ["2026-12", None]
    assert polls[0].id == poll_id


async def test_close_happens_once(db: Database, clock: FakeClock) -> None:
    poll_id, _slots, _member = await _poll(db, clock)
    async with db.transaction() as session:
        assert await repo.transition(
            session, poll_id=poll_id, to=PollStatus.NO_DATE, now=clock.now()
        )
    async with db.transaction() as session:
        assert not await repo.transition(
            session, poll_id=poll_id, to=PollStatus.CLOSED, now=clock.now()
        )


async def test_dirty_marks_and_poll_messages(db: Database, clock: FakeClock) -> None:
    poll_id, _slots, _member = await _poll(db, clock)
    async with db.transaction() as session:
        await repo.add_poll_message(session, poll_id=poll_id, chat_id=-100, message_id=7)
        await repo.add_poll_message(session, poll_id=poll_id, chat_id=-100, message_id=7)
        ids = await repo.mark_dirty(session, poll_id=poll_id, now=clock.now())
    first = clock.now()
    clock.advance(seconds=5)
    async with db.transaction() as session:
        await repo.mark_dirty(session, poll_id=poll_id, now=clock.now())
        messages = await repo.poll_messages(session, poll_id)
        owed = await dirty_messages.owed(session, PollMessage)
        assert [o.row_id for o in owed] == ids and owed[0].chat_id == -100
    assert len(messages) == 1 and messages[0].dirty_since == first


async def test_meetings_and_claims_queries(db: Database, clock: FakeClock) -> None:
    from storage.repositories import core as core_repo

    poll_id, slot_ids, _member = await _poll(db, clock)
    async with db.transaction() as session:
        poll = (await repo.open_polls(session))[0]
        slot = (await repo.slots_of(session, poll_id))[0]
        meeting = await repo.create_meeting(
            session, poll=poll, slot=slot, uid_domain="test", now=clock.now()
        )
        assert meeting.ics_uid == f"poll-{poll_id}-{slot_ids[0]}@test"
        await core_repo.claim(
            session, kind="auto_poll", union_id=poll.union_id, period="2026-12", now=clock.now()
        )
    async with db.transaction() as session:
        assert await core_repo.claimed_keys(
            session, kinds=["auto_poll"], periods={"2026-12", "2027-01"}
        ) == {("auto_poll", poll.union_id, "2026-12")}
        assert await core_repo.claimed_keys(session, kinds=["auto_poll"], periods=set()) == set()
        soon = await repo.meetings_starting_between(
            session, after=clock.now(), until=slot.starts_at
        )
        assert [m.id for m in soon] == [meeting.id]
        assert (
            await repo.meetings_starting_between(
                session, after=slot.starts_at, until=slot.starts_at + timedelta(days=1)
            )
            == []
        )
        upcoming = await repo.upcoming_meetings(session, union_id=poll.union_id, now=clock.now())
        assert [m.id for m in upcoming] == [meeting.id]


async def test_vote_context_and_record_vote(db: Database, clock: FakeClock) -> None:
    """The vote press's one-query read and its write, on both backends."""
    now = clock.now()
    poll_id, slot_ids, member_id = await _poll(db, clock)
    async with db.transaction() as session:
        member = await session.get(Member, member_id)
        assert member is not None
        person = await session.get(Person, member.person_id)
        assert person is not None
        person.language = "en"
        tg_id = person.telegram_user_id
        assert tg_id is not None
        union_id = member.union_id
        union = await session.get(Union, union_id)
        assert union is not None
        # A pending member of the same Union is no voter.
        team = TeamFixture(union=union, comuni=[])
        pending = await add_member(
            session,
            team,
            key="pending",
            role=Role.SINDACO,
            telegram_user_id=777_001,
            status=MemberStatus.PENDING,
            now=now,
        )
        assert pending.id
        await repo.add_poll_message(session, poll_id=poll_id, chat_id=-100, message_id=7)
        await repo.add_poll_message(session, poll_id=poll_id, chat_id=-200, message_id=8)

    async with db.transaction() as session:
        vote, language = await repo.vote_context(
            session, slot_id=slot_ids[1], telegram_user_id=tg_id
        )
        assert language == "en"
        assert vote is not None
        assert (vote.slot_id, vote.poll_id, vote.union_id) == (slot_ids[1], poll_id, union_id)
        assert (vote.table, vote.status, vote.timezone) == (
            PollTable.POLITICAL,
            PollStatus.OPEN,
            "Europe/Rome",
        )
        assert vote.deadline_at == now + timedelta(days=5)
        assert vote.starts_at == now + timedelta(days=9)
        assert (vote.member_id, vote.member_role, vote.member_is_coordinator) == (
            member_id,
            Role.SINDACO,
            False,
        )
        assert [(m.chat_id, m.message_id, m.dirty) for m in vote.messages] == [
            (-100, 7, False),
            (-200, 8, False),
        ]
        dirty = await repo.record_vote(
            session, context=vote, member_id=member_id, answer=Answer.YES, now=now
        )
        assert dirty == [m.id for m in vote.messages]

    async with db.transaction() as session:
        vote, _lang = await repo.vote_context(session, slot_id=slot_ids[1], telegram_user_id=tg_id)
        assert vote is not None
        assert all(m.dirty for m in vote.messages)
        later = now + timedelta(minutes=1)
        await repo.record_vote(
            session, context=vote, member_id=member_id, answer=Answer.NO, now=later
        )
        # Outsiders, pending members and unknown slots: no membership, or no poll at all.
        pending_view, _ = await repo.vote_context(
            session, slot_id=slot_ids[1], telegram_user_id=777_001
        )
        stranger, stranger_lang = await repo.vote_context(
            session, slot_id=slot_ids[1], telegram_user_id=999_999
        )
        missing, missing_lang = await repo.vote_context(
            session, slot_id=999_999, telegram_user_id=tg_id
        )
        messages = await repo.poll_messages(session, poll_id)
        votes = await repo.votes_of(session, poll_id)
    assert pending_view is not None and pending_view.member_id is None
    assert stranger is not None and stranger.member_id is None and stranger_lang is None
    assert stranger.member_role is None and not stranger.member_is_coordinator
    assert missing is None and missing_lang == "en"
    # The first press marked the messages; the second kept the oldest owed change.
    assert [m.dirty_since for m in messages] == [now, now]
    assert [(v.slot_id, v.member_id, v.answer, v.updated_at) for v in votes] == [
        (slot_ids[1], member_id, Answer.NO, later)
    ]
