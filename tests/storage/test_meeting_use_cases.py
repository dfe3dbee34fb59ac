"""The meetings' use cases without Telegram, on both databases: a vote and its refusals, the
management row's who-may and its outcomes, a date written for «Aggiungi data».
(Closing has its own file: test_poll_closing.py.)"""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FakeClock
from bot.services import meetings
from bot.services.presses import Press
from storage.db import Database
from storage.models import Answer, MeetingPoll, PollStatus, PollTable, TableKind
from storage.repositories import core as core_repo
from storage.repositories import meetings as repo
from tests.factories import World, make_world


async def _poll(
    db: Database, clock: FakeClock, table: PollTable = PollTable.POLITICAL
) -> tuple[World, int, list[int]]:
    now = clock.now()
    async with db.transaction() as session:
        world = await make_world(session, comuni=2, actions_per_comune=0, now=now)
        poll = await repo.create_poll(
            session,
            union_id=world.union.id,
            table=table,
            title="Riunione",
            agenda=None,
            place=None,
            deadline_at=now + timedelta(days=5),
            slots=[
                (now + timedelta(days=8 + i), now + timedelta(days=8 + i, hours=2))
                for i in range(2)
            ],
            created_by_member_id=None,
            now=now,
        )
        assert poll is not None
        political = world.links[TableKind.POLITICAL].chat_id
        await repo.add_poll_message(session, poll_id=poll.id, chat_id=political, message_id=10)
        slots = [s.id for s in await repo.slots_of(session, poll.id)]
        return world, poll.id, slots


def _user(world: World, key: str) -> int:
    user = world.people[key].telegram_user_id
    assert user is not None
    return user


async def test_a_vote_is_recorded_and_owes_the_tally_edit(db: Database, clock: FakeClock) -> None:
    world, poll_id, slots = await _poll(db, clock)
    political = world.links[TableKind.POLITICAL].chat_id
    on_the_poll = Press(chat_id=political, message_id=10, carries_button=True)
    async with db.transaction() as session:
        outcome = await meetings.cast_vote(
            session,
            slot_id=slots[0],
            telegram_user_id=_user(world, "sindaco:0"),
            answer=Answer.MAYBE,
            now=clock.now(),
            press=on_the_poll,
        )
    assert isinstance(outcome, meetings.VoteRecorded)
    assert outcome.answer == Answer.MAYBE and outcome.dirty_chat_ids == (political,)
    async with db.transaction() as session:
        votes = await repo.votes_of(session, poll_id)
        messages = await repo.poll_messages(session, poll_id)
    assert [(v.slot_id, v.answer) for v in votes] == [(slots[0], Answer.MAYBE)]
    assert messages[0].dirty_since == clock.now()


async def test_a_vote_refused_changes_nothing(db: Database, clock: FakeClock) -> None:
    world, poll_id, slots = await _poll(db, clock)
    political = world.links[TableKind.POLITICAL].chat_id
    technical = world.links[TableKind.TECHNICAL].chat_id
    now = clock.now()
    cases = [
        # (who, slot, press, now) → reason
        ("tecnico:0", slots[0], None, now, "not_at_table"),
        ("sindaco:0", 424242, None, now, "gone"),
        # forged on another message of the group, or the same button in the other group
        ("sindaco:0", slots[0], Press(political, 11, carries_button=False), now, "gone"),
        ("sindaco:0", slots[0], Press(technical, 12, carries_button=True), now, "gone"),
        ("sindaco:0", slots[0], None, now + timedelta(days=5), "deadline_passed"),
    ]
    for key, slot, press, when, reason in cases:
        async with db.transaction() as session:
            outcome = await meetings.cast_vote(
                session,
                slot_id=slot,
                telegram_user_id=_user(world, key),
                answer=Answer.YES,
                now=when,
                press=press,
            )
        assert isinstance(outcome, meetings.VoteRefused) and outcome.reason == reason, key
    async with db.transaction() as session:
        stranger = await meetings.cast_vote(
            session, slot_id=slots[0], telegram_user_id=99, answer=Answer.YES, now=now, press=None
        )
        await repo.transition(session, poll_id=poll_id, to=PollStatus.CANCELLED, now=now)
    assert isinstance(stranger, meetings.VoteRefused) and stranger.reason == "not_a_member"
    async with db.transaction() as session:
        closed = await meetings.cast_vote(
            session,
            slot_id=slots[0],
            telegram_user_id=_user(world, "sindaco:0"),
            answer=Answer.YES,
            now=now,
            press=None,
        )
        assert await repo.votes_of(session, poll_id) == []
    assert isinstance(closed, meetings.VoteRefused) and closed.reason == "closed"


async def test_a_poll_message_sent_uncertain_is_adopted(db: Database, clock: FakeClock) -> None:
    world, poll_id, slots = await _poll(db, clock)
    political = world.links[TableKind.POLITICAL].chat_id
    async with db.transaction() as session:
        outcome = await meetings.cast_vote(
            session,
            slot_id=slots[1],
            telegram_user_id=_user(world, "assessore:1"),
            answer=Answer.YES,
            now=clock.now(),
            press=Press(political, 55, carries_button=True),  # the bot's, id never learnt
        )
        shown = await repo.poll_messages(session, poll_id)
    assert isinstance(outcome, meetings.VoteRecorded)
    assert sorted(m.message_id for m in shown) == [10, 55]
    assert all(m.dirty_since is not None for m in shown)


async def test_the_management_row_is_the_coordinators(db: Database, clock: FakeClock) -> None:
    world, poll_id, _slots = await _poll(db, clock)
    now = clock.now()
    coordinator = _user(world, "Carla Coordinatrice")
    async with db.transaction() as session:
        refused = await meetings.extend_choices(
            session, poll_id=poll_id, telegram_user_id=_user(world, "sindaco:0"), press=None
        )
        choices = await meetings.extend_choices(
            session, poll_id=poll_id, telegram_user_id=coordinator, press=None
        )
        forged = await meetings.extend_deadline(
            session, poll_id=poll_id, telegram_user_id=coordinator, days=5, now=now
        )
        extended = await meetings.extend_deadline(
            session, poll_id=poll_id, telegram_user_id=coordinator, days=1, now=now
        )
    assert refused == meetings.NotAllowed("not_a_manager")
    assert isinstance(choices, meetings.ExtendChoices)
    assert [days for days, _deadline in choices.choices] == [1, 2]  # 24 h before the first date
    assert forged == meetings.NotAllowed("stale_button")
    assert isinstance(extended, meetings.Extended)
    assert extended.deadline == now + timedelta(days=6)
    async with db.transaction() as session:
        poll = await session.get(MeetingPoll, poll_id)
        assert poll is not None and poll.deadline_at == now + timedelta(days=6)
        cancelled = await meetings.cancel_poll(
            session, poll_id=poll_id, telegram_user_id=coordinator, now=now
        )
        again = await meetings.ask_to_close(
            session, poll_id=poll_id, telegram_user_id=coordinator, press=None
        )
    assert cancelled == meetings.Cancelled(poll_id) and again == meetings.NotAllowed("closed")


async def test_close_now_is_close_poll_by_the_coordinator(db: Database, clock: FakeClock) -> None:
    world, poll_id, slots = await _poll(db, clock)
    async with db.transaction() as session:
        await repo.cast_vote(
            session,
            slot_id=slots[1],
            member_id=world.members["sindaco:1"].id,
            answer=Answer.YES,
            now=clock.now(),
        )
        closed = await meetings.close_now(
            session,
            poll_id=poll_id,
            telegram_user_id=_user(world, "Carla Coordinatrice"),
            now=clock.now(),
            language="it",
        )
    assert isinstance(closed, meetings.Closed) and closed.closed.meeting_id is not None
    assert closed.closed.starts_at == clock.now() + timedelta(days=9)


async def test_a_written_date_is_added_to_the_poll(db: Database, clock: FakeClock) -> None:
    world, poll_id, _slots = await _poll(db, clock)
    coordinator = _user(world, "Carla Coordinatrice")
    now = clock.now()  # Tuesday 1 December 2026, 09:00 in Rome; the deadline is the 6th
    async with db.transaction() as session:
        started = await meetings.start_adding_date(
            session, poll_id=poll_id, telegram_user_id=coordinator, press=None, now=now
        )
        problem = await meetings.add_date(
            session, poll_id=poll_id, telegram_user_id=coordinator, text="boh", now=now
        )
        early = await meetings.add_date(
            session, poll_id=poll_id, telegram_user_id=coordinator, text="6/12 17:00", now=now
        )
        added = await meetings.add_date(
            session, poll_id=poll_id, telegram_user_id=coordinator, text="17/12 17:00", now=now
        )
        slots = await repo.slots_of(session, poll_id)
        dialogue = await core_repo.get_conversation(
            session, telegram_user_id=coordinator, chat_id=coordinator, now=now
        )
    assert isinstance(started, meetings.Managed)
    assert problem.outcome == "problem" and problem.problem is not None
    assert early.outcome == "too_early"
    assert added.outcome == "added" and added.at is not None and len(slots) == 3
    assert dialogue is None  # the date is in: the dialogue ended
