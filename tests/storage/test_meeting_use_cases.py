"""The meetings' use cases without Telegram, on both databases: a vote and its refusals, the
private copies a vote owes an edit of, one's own answers, the panel's who-may and its outcomes,
a date written for «Aggiungi data», the pin the bot may not make.
(Closing has its own file: test_poll_closing.py.)"""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FakeClock
from bot.services import meetings
from bot.services.presses import Press
from bot.views.meetings import CopyView
from storage.db import Database
from storage.models import Answer, MeetingPoll, Person, PollStatus, PollTable, TableKind
from storage.repositories import core as core_repo
from storage.repositories import meetings as repo
from storage.repositories import outbox as outbox_repo
from storage.repositories import registration as registration_repo
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
    assert isinstance(closed, meetings.VoteRefused) and closed.reason == "cancelled"


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
            session, poll_id=poll_id, telegram_user_id=_user(world, "sindaco:0")
        )
        choices = await meetings.extend_choices(
            session, poll_id=poll_id, telegram_user_id=coordinator
        )
        forged = await meetings.extend_deadline(
            session, poll_id=poll_id, telegram_user_id=coordinator, days=5, now=now
        )
        extended = await meetings.extend_deadline(
            session, poll_id=poll_id, telegram_user_id=coordinator, days=1, now=now
        )
    # A member of the Union is told who may manage the poll, by name.
    assert refused == meetings.NotAllowed("not_a_manager", coordinators=("Carla Coordinatrice",))
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
        again = await meetings.open_panel(session, poll_id=poll_id, telegram_user_id=coordinator)
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
            session, poll_id=poll_id, telegram_user_id=coordinator, now=now
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


# --- one's own answers in private -------------------------------------------------------------


async def _dirty(db: Database, poll_id: int) -> dict[int, bool]:
    """message id → whether it owes an edit."""
    async with db.transaction() as session:
        return {
            m.message_id: m.dirty_since is not None
            for m in await repo.poll_messages(session, poll_id)
        }


async def test_a_vote_owes_an_edit_of_the_voters_copy_only(db: Database, clock: FakeClock) -> None:
    """Two mayors keep a private copy; a vote of one owes an edit of the group's message and of
    that mayor's copy, never of the other's. A press on the bot's message carrying the very
    button in private (a reminder whose id was never recorded) becomes the voter's copy."""
    world, poll_id, slots = await _poll(db, clock)
    now = clock.now()
    sindaco, assessore = _user(world, "sindaco:0"), _user(world, "assessore:1")
    async with db.transaction() as session:
        for key, message_id in (("sindaco:0", 20), ("assessore:1", 30)):
            shown = await meetings.my_copy(
                session,
                poll_id=poll_id,
                telegram_user_id=_user(world, key),
                default_language="it",
            )
            assert isinstance(shown, meetings.CopyShown) and shown.copy.is_open
            assert [a for _sid, _at, a in shown.copy.answers] == [None, None]
            await meetings.copy_sent(
                session,
                poll_id=poll_id,
                member_id=shown.member_id,
                chat_id=_user(world, key),
                message_id=message_id,
            )
    political = world.links[TableKind.POLITICAL].chat_id
    async with db.transaction() as session:
        outcome = await meetings.cast_vote(
            session,
            slot_id=slots[1],
            telegram_user_id=sindaco,
            answer=Answer.MAYBE,
            now=now,
            press=Press(political, 10, carries_button=True),
        )
    assert isinstance(outcome, meetings.VoteRecorded)
    assert sorted(outcome.dirty_chat_ids) == sorted([political, sindaco])
    assert [a for _at, a in outcome.mine] == [None, Answer.MAYBE]  # the toast says both dates
    assert await _dirty(db, poll_id) == {10: True, 20: True, 30: False}

    # In private, on a message of the bot carrying the button (a reminder): adopted as the
    # assessore's copy, which replaces the older one; the group's message follows.
    async with db.transaction() as session:
        outcome = await meetings.cast_vote(
            session,
            slot_id=slots[0],
            telegram_user_id=assessore,
            answer=Answer.YES,
            now=now,
            press=None,
            private=Press(assessore, 31, carries_button=True),
        )
        copies = {
            m.message_id: m.member_id
            for m in await repo.poll_messages(session, poll_id)
            if m.member_id is not None
        }
    assert isinstance(outcome, meetings.VoteRecorded)
    assert copies == {20: world.members["sindaco:0"].id, 31: world.members["assessore:1"].id}
    assert (await _dirty(db, poll_id))[31] is True
    async with db.transaction() as session:
        shown_on = await meetings.shown_on(
            session,
            poll_id=poll_id,
            member_id=world.members["assessore:1"].id,
            default_language="it",
        )
    assert isinstance(shown_on, CopyView)
    assert [a for _sid, _at, a in shown_on.answers] == [Answer.YES, None]


async def test_ones_own_answers_are_for_the_table_and_an_open_poll(
    db: Database, clock: FakeClock
) -> None:
    world, poll_id, slots = await _poll(db, clock)
    now = clock.now()
    async with db.transaction() as session:
        stranger = await meetings.my_copy(
            session, poll_id=poll_id, telegram_user_id=99, default_language="it"
        )
        technician = await meetings.my_copy(
            session,
            poll_id=poll_id,
            telegram_user_id=_user(world, "tecnico:0"),
            default_language="it",
        )
        gone = await meetings.my_copy(
            session, poll_id=424242, telegram_user_id=99, default_language="it"
        )
        await repo.cast_vote(
            session,
            slot_id=slots[1],
            member_id=world.members["sindaco:0"].id,
            answer=Answer.YES,
            now=now,
        )
    assert stranger == meetings.VoteRefused("not_a_member", None)
    assert technician == meetings.VoteRefused("not_at_table", None, table=PollTable.POLITICAL)
    assert gone == meetings.VoteRefused("gone", None)
    async with db.transaction() as session:
        await meetings.close_poll(session, poll_id=poll_id, now=now, language="it")
        closed = await meetings.my_copy(
            session,
            poll_id=poll_id,
            telegram_user_id=_user(world, "sindaco:0"),
            default_language="it",
        )
        chosen = (await repo.slots_of(session, poll_id))[1].starts_at
    assert isinstance(closed, meetings.VoteRefused)
    assert (closed.reason, closed.at) == ("closed", chosen)


async def test_the_panel_is_for_who_may_manage_and_others_are_told_who(
    db: Database, clock: FakeClock
) -> None:
    world, poll_id, _slots = await _poll(db, clock)
    async with db.transaction() as session:
        panel = await meetings.open_panel(
            session, poll_id=poll_id, telegram_user_id=_user(world, "Carla Coordinatrice")
        )
        mayor = await meetings.open_panel(
            session, poll_id=poll_id, telegram_user_id=_user(world, "sindaco:0")
        )
        stranger = await meetings.open_panel(session, poll_id=poll_id, telegram_user_id=99)
        poll = await session.get(MeetingPoll, poll_id)
        assert poll is not None
        poll.created_by_member_id = world.members["sindaco:1"].id  # proposed by a mayor
        by_proposer = await meetings.open_panel(
            session, poll_id=poll_id, telegram_user_id=_user(world, "sindaco:1")
        )
        other_mayor = await meetings.open_panel(
            session, poll_id=poll_id, telegram_user_id=_user(world, "sindaco:0")
        )
    assert isinstance(panel, meetings.Panel) and panel.best is None
    assert mayor == meetings.NotAllowed("not_a_manager", coordinators=("Carla Coordinatrice",))
    assert stranger == meetings.NotAllowed("not_a_member")
    assert isinstance(by_proposer, meetings.Panel)
    assert other_mayor == meetings.NotAllowed(
        "not_a_manager", coordinators=("Carla Coordinatrice",), proposer="Sindaco 1"
    )


async def test_where_the_bot_may_not_pin_the_coordinator_is_told_once(
    db: Database, clock: FakeClock
) -> None:
    world, _poll_id, _slots = await _poll(db, clock)
    now = clock.now()
    political = world.links[TableKind.POLITICAL]
    async with db.transaction() as session:
        coordinator = world.people["Carla Coordinatrice"]
        told = [
            await meetings.pin_refused(
                session,
                pin=meetings.OwedPin(
                    meeting, world.union.id, political.chat_id, 100 + meeting, False
                ),
                now=now,
                language="it",
            )
            for meeting in (1, 2)
        ]
        rows = await outbox_repo.status_by_key_prefix(session, f"pinright:{world.union.id}:")
        settled = await core_repo.claimed_keys(
            session,
            kinds=["meeting_pin_done"],
            periods=[f"1:{political.chat_id}", f"2:{political.chat_id}"],
        )
    assert told == [True, False]  # a word for the first meeting, none for the second
    assert [r.chat_id for r in rows] == [coordinator.telegram_user_id]
    assert len(settled) == 2  # both pins are settled: never tried again


async def test_leaving_with_cancellami_drops_ones_private_copies(
    db: Database, clock: FakeClock
) -> None:
    """A private copy's row holds the member's private chat (their Telegram id): /cancellami
    deletes it with the rest of their identity; another member's copy stays."""
    world, poll_id, _slots = await _poll(db, clock)
    async with db.transaction() as session:
        for key, message_id in (("sindaco:0", 20), ("assessore:1", 30)):
            await meetings.copy_sent(
                session,
                poll_id=poll_id,
                member_id=world.members[key].id,
                chat_id=_user(world, key),
                message_id=message_id,
            )
        person = await session.get(Person, world.people["sindaco:0"].id)
        assert person is not None
        await registration_repo.erase_person(session, person=person, now=clock.now())
    async with db.transaction() as session:
        left = {(m.chat_id, m.message_id) for m in await repo.poll_messages(session, poll_id)}
    political = world.links[TableKind.POLITICAL].chat_id
    assert left == {(political, 10), (_user(world, "assessore:1"), 30)}
