"""What happens when a poll closes: `bot.services.meetings.close_poll`, on both databases.

It closes once; it chooses the date by the coverage rule (the most Comuni, then by a Sì, then
the most Sì…); it queues the announcement and the .ics for each group of the table; with no date
it tells the coordinators (not the one who closed it) in their language; it withdraws the
reminders still waiting; the poll's messages owe an edit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.clock import FakeClock
from bot.services.meetings import PollClosed, PollNotOpen, close_poll
from storage.db import Database
from storage.models import (
    Answer,
    Meeting,
    MeetingPoll,
    OutboxMessage,
    OutboxStatus,
    PollMessage,
    PollStatus,
    PollTable,
    Role,
)
from storage.repositories import meetings as repo
from storage.repositories import outbox as outbox_repo
from tests.factories import World, add_member, make_world


async def _poll(
    db: Database, now: datetime, *, table: PollTable = PollTable.BOTH
) -> tuple[World, int, list[datetime]]:
    """Three Comuni, both groups linked, a poll of three dates, its message in both groups."""
    async with db.transaction() as session:
        world = await make_world(session, comuni=3, actions_per_comune=0, now=now)
        starts = [now + timedelta(days=8 + i) for i in range(3)]
        poll = await repo.create_poll(
            session,
            union_id=world.union.id,
            table=table,
            title="Riunione <di> dicembre",
            agenda="Bilancio & PAES",
            place="Sala consiliare",
            deadline_at=now + timedelta(days=5),
            slots=[(s, s + timedelta(hours=2)) for s in starts],
            created_by_member_id=None,
            now=now,
        )
        assert poll is not None
        for link in world.links.values():
            await repo.add_poll_message(
                session, poll_id=poll.id, chat_id=link.chat_id, message_id=77
            )
        return world, poll.id, starts


async def _vote(
    db: Database, world: World, poll_id: int, now: datetime, votes: dict[tuple[str, int], Answer]
) -> None:
    async with db.transaction() as session:
        slots = await repo.slots_of(session, poll_id)
        for (key, slot), answer in votes.items():
            await repo.cast_vote(
                session,
                slot_id=slots[slot].id,
                member_id=world.members[key].id,
                answer=answer,
                now=now,
            )


async def _rows(db: Database, prefix: str) -> list[OutboxMessage]:
    async with db.transaction() as session:
        return await outbox_repo.status_by_key_prefix(session, prefix)


async def test_the_date_most_comuni_can_attend_is_announced_once_per_group(
    db: Database, clock: FakeClock
) -> None:
    now = clock.now()
    world, poll_id, starts = await _poll(db, now)
    await _vote(
        db,
        world,
        poll_id,
        now,
        {
            # the first date: the most Sì, but one Comune
            ("sindaco:0", 0): Answer.YES,
            ("assessore:0", 0): Answer.YES,
            ("tecnico:0", 0): Answer.YES,
            # the second: two Comuni, «Se necessario» only
            ("sindaco:1", 1): Answer.MAYBE,
            ("sindaco:2", 1): Answer.MAYBE,
            # the third: two Comuni by a Sì — chosen
            ("sindaco:0", 2): Answer.YES,
            ("sindaco:1", 2): Answer.YES,
            ("sindaco:2", 2): Answer.NO,
        },
    )
    async with db.transaction() as session:
        outcome = await close_poll(session, poll_id=poll_id, now=now, language="it")
    assert isinstance(outcome, PollClosed)
    assert outcome.poll_id == poll_id and outcome.starts_at == starts[2]
    async with db.transaction() as session:
        poll = await session.get(MeetingPoll, poll_id)
        assert poll is not None and poll.status == PollStatus.CLOSED
        meeting = (await session.execute(select(Meeting))).scalar_one()
        messages = list((await session.execute(select(PollMessage))).scalars())
    assert meeting.id == outcome.meeting_id and meeting.starts_at == starts[2]
    assert meeting.title == "Riunione <di> dicembre" and meeting.place == "Sala consiliare"
    assert all(m.dirty_since == now for m in messages) and len(messages) == 2  # owe the edit

    groups = sorted(link.chat_id for link in world.links.values())
    announcements = await _rows(db, f"mtgann:{meeting.id}:")
    invitations = await _rows(db, f"mtgics:{meeting.id}:")
    assert sorted(r.chat_id for r in announcements) == groups
    assert sorted(r.chat_id for r in invitations) == groups
    text = announcements[0].payload["text"]
    assert "<b>Riunione &lt;di&gt; dicembre</b>" in text and "Ci saranno 2 Comuni su 3" in text
    assert all(r.method == "sendDocument" and r.file_name for r in invitations)
    assert invitations[0].file_data is not None and b"BEGIN:VEVENT" in invitations[0].file_data
    assert invitations[0].payload["caption"] == "Invito per l'agenda"
    assert await _rows(db, f"pollnodate:{poll_id}:") == []  # a date: no word to coordinators

    # Closed once: the tick and a coordinator's «Sì, chiudi» meeting here change nothing more.
    async with db.transaction() as session:
        again = await close_poll(
            session, poll_id=poll_id, now=now + timedelta(minutes=1), language="it"
        )
    assert again == PollNotOpen(poll_id)
    async with db.transaction() as session:
        assert len(list((await session.execute(select(Meeting))).scalars())) == 1
    assert len(await _rows(db, "mtgann:")) == 2


async def test_only_the_tables_group_gets_the_announcement(db: Database, clock: FakeClock) -> None:
    now = clock.now()
    world, poll_id, _starts = await _poll(db, now, table=PollTable.TECHNICAL)
    await _vote(db, world, poll_id, now, {("tecnico:1", 0): Answer.YES})
    async with db.transaction() as session:
        outcome = await close_poll(session, poll_id=poll_id, now=now, language="en")
    assert isinstance(outcome, PollClosed) and outcome.meeting_id is not None
    rows = await _rows(db, f"mtgann:{outcome.meeting_id}:")
    technical = [link.chat_id for kind, link in world.links.items() if kind.value == "technical"]
    assert [r.chat_id for r in rows] == technical
    assert ": we meet on <b>" in rows[0].payload["text"]  # the groups' language given


async def test_no_date_tells_the_coordinators_but_the_one_who_closed(
    db: Database, clock: FakeClock
) -> None:
    now = clock.now()
    world, poll_id, _starts = await _poll(db, now)
    async with db.transaction() as session:
        english = await add_member(
            session,
            world,
            role=Role.STAFF,
            name="Emma English",
            coordinator=True,
            language="en",
            now=now,
        )
    # Only «No»: no date covers any Comune.
    await _vote(db, world, poll_id, now, {("sindaco:0", 0): Answer.NO, ("sindaco:1", 1): Answer.NO})
    closer = world.coordinator
    assert closer is not None
    async with db.transaction() as session:
        outcome = await close_poll(
            session, poll_id=poll_id, now=now, language="it", closed_by=closer.id
        )
    assert outcome == PollClosed(poll_id=poll_id, meeting_id=None, starts_at=None)
    async with db.transaction() as session:
        poll = await session.get(MeetingPoll, poll_id)
        assert poll is not None and poll.status == PollStatus.NO_DATE
        assert list((await session.execute(select(Meeting))).scalars()) == []
    told = await _rows(db, f"pollnodate:{poll_id}:")
    assert [r.person_id for r in told] == [english.person_id]  # not the one who closed it
    assert told[0].payload["text"] == (
        "The poll «Riunione &lt;di&gt; dicembre» closed, but no date suits any municipality. "
        "Propose other dates with /riunione."
    )  # in the coordinator's language, the title escaped
    assert await _rows(db, "mtgann:") == []

    # At the deadline (nobody closed it), every coordinator is told.
    world2, poll2, _ = await _poll(db, now)
    async with db.transaction() as session:
        await close_poll(session, poll_id=poll2, now=now, language="it")
    assert [r.person_id for r in await _rows(db, f"pollnodate:{poll2}:")] == [
        world2.people["Carla Coordinatrice"].id
    ]


async def test_reminders_still_waiting_are_withdrawn(db: Database, clock: FakeClock) -> None:
    now = clock.now()
    world, poll_id, _starts = await _poll(db, now)
    await _vote(db, world, poll_id, now, {("sindaco:0", 0): Answer.YES})
    async with db.transaction() as session:
        for n, chat in enumerate((501, 502)):
            await outbox_repo.enqueue(
                session,
                dedup_key=f"pollrem:{poll_id}:1:{n}",
                chat_id=chat,
                method="sendMessage",
                payload={"text": "⏰"},
                now=now,
            )
        sent = await outbox_repo.status_by_key_prefix(session, f"pollrem:{poll_id}:1:1")
        sent[0].status = OutboxStatus.SENT
        # Another poll's reminder is not this poll's to withdraw.
        await outbox_repo.enqueue(
            session,
            dedup_key=f"pollrem:{poll_id + 1000}:1:0",
            chat_id=503,
            method="sendMessage",
            payload={"text": "⏰"},
            now=now,
        )
    async with db.transaction() as session:
        assert isinstance(
            await close_poll(session, poll_id=poll_id, now=now, language="it"), PollClosed
        )
    left = await _rows(db, f"pollrem:{poll_id}:")
    assert [(r.dedup_key, r.status) for r in left] == [
        (f"pollrem:{poll_id}:1:1", OutboxStatus.SENT)
    ]
    assert len(await _rows(db, f"pollrem:{poll_id + 1000}:")) == 1


async def test_a_cancelled_or_missing_poll_is_not_closed(db: Database, clock: FakeClock) -> None:
    now = clock.now()
    _world, poll_id, _starts = await _poll(db, now)
    async with db.transaction() as session:
        await repo.transition(session, poll_id=poll_id, to=PollStatus.CANCELLED, now=now)
    async with db.transaction() as session:
        assert await close_poll(session, poll_id=poll_id, now=now, language="it") == PollNotOpen(
            poll_id
        )
        assert await close_poll(session, poll_id=987654, now=now, language="it") == PollNotOpen(
            987654
        )
    assert await _rows(db, "mtgann:") == [] and await _rows(db, "pollnodate:") == []
