"""storage.repositories.dirty_messages on both backends: owed edits are listed per chat, and a
change committed while an edit is being cleared is never lost."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import FakeClock
from storage.db import Database
from storage.models import Answer, Member, Person, PollMessage, Role, Union
from storage.repositories import dirty_messages
from storage.repositories import meetings as repo
from tests import factories
from tests.storage.test_meetings_storage import _poll


async def _messages(db: Database, clock: FakeClock) -> tuple[int, list[int]]:
    poll_id, _slots, _member = await _poll(db, clock)
    async with db.transaction() as session:
        await repo.add_poll_message(session, poll_id=poll_id, chat_id=-100, message_id=7)
        await repo.add_poll_message(session, poll_id=poll_id, chat_id=-200, message_id=8)
        ids = await repo.mark_dirty(session, poll_id=poll_id, now=clock.now())
    return poll_id, ids


async def test_owed_edits_by_chat_and_settling(db: Database, clock: FakeClock) -> None:
    _poll_id, ids = await _messages(db, clock)
    async with db.transaction() as session:
        assert [o.chat_id for o in await dirty_messages.owed(session, PollMessage)] == [-100, -200]
        owed = await dirty_messages.owed(session, PollMessage, chat_id=-200)
        assert [o.row_id for o in owed] == [ids[1]]
        first = await dirty_messages.lock(session, PollMessage, ids[0])
        second = await dirty_messages.lock(session, PollMessage, ids[1])
        assert first is not None and second is not None
        owed_since = first.dirty_since
        assert owed_since is not None
        # The state moved on since the edit was rendered: still owed, what is shown recorded.
        dirty_messages.settle(first, shown_digest="old", current_digest="new")
        dirty_messages.settle(second, shown_digest="same", current_digest="same")
        assert (first.rendered_hash, first.dirty_since) == ("old", owed_since)
        assert (second.rendered_hash, second.dirty_since) == ("same", None)
    async with db.transaction() as session:
        owed = await dirty_messages.owed(session, PollMessage)
        assert [(o.row_id, o.dirty_since) for o in owed] == [(ids[0], owed_since)]
        row = await dirty_messages.lock(session, PollMessage, ids[1])
        assert row is not None and row.rendered_hash == "same"
        row = await dirty_messages.lock(session, PollMessage, ids[0])
        assert row is not None and row.rendered_hash == "old"
        dirty_messages.drop(row)
    async with db.transaction() as session:
        assert await dirty_messages.owed(session, PollMessage) == []
        assert await dirty_messages.lock(session, PollMessage, 999_999) is None


async def _while_clearing(
    db: Database, clock: FakeClock, row_id: int, change: Callable[[], Awaitable[None]]
) -> None:
    """`change` begins, a second later, while an edit's clear holds the message `row_id`: the
    clear has locked the row and re-rendered without the change, and then clears the flag."""
    locked = asyncio.Event()

    async def clear() -> None:
        async with db.transaction() as session:
            row = await dirty_messages.lock(session, PollMessage, row_id)
            assert row is not None
            locked.set()
            await asyncio.sleep(0.3)  # the change arrives now
            dirty_messages.settle(row, shown_digest="a", current_digest="a")
            assert row.dirty_since is None  # cleared here; the waiting change sets it again

    async def then_change() -> None:
        await locked.wait()
        clock.advance(seconds=1)
        await change()

    await asyncio.gather(clear(), then_change())


async def test_a_vote_committed_while_an_edit_is_cleared_stays_owed(
    db: Database, clock: FakeClock
) -> None:
    """The clearing transaction locks the row: a vote's "mark dirty" waits for it and then sets
    the flag again (PostgreSQL: row lock; SQLite: BEGIN IMMEDIATE holds the write lock)."""
    poll_id, ids = await _messages(db, clock)

    async def vote() -> None:
        async with db.transaction() as session:
            await repo.mark_dirty(session, poll_id=poll_id, now=clock.now())

    await _while_clearing(db, clock, ids[0], vote)
    async with db.transaction() as session:
        owed = await dirty_messages.owed(session, PollMessage, chat_id=-100)
        assert [(o.row_id, o.dirty_since) for o in owed] == [(ids[0], clock.now())]


async def _press(
    db: Database, poll_id: int, clock: FakeClock, answer: Answer, *, member_id: int | None = None
) -> None:
    """A vote press's transaction, as bot.services.meetings.cast_vote makes it: the read, then
    the write (by tests.storage.test_meetings_storage._poll's member unless told; first date)."""
    async with db.transaction() as session:
        await _vote_in(session, poll_id, clock, answer, member_id=member_id)


async def _vote_in(
    session: AsyncSession,
    poll_id: int,
    clock: FakeClock,
    answer: Answer,
    *,
    member_id: int | None = None,
) -> None:
    slot_id = (await repo.slots_of(session, poll_id))[0].id
    members = select(Member).order_by(Member.id).limit(1)
    if member_id is not None:
        members = select(Member).where(Member.id == member_id)
    member = (await session.execute(members)).scalars().one()
    person = await session.get(Person, member.person_id)
    assert person is not None and person.telegram_user_id is not None
    vote, _language = await repo.vote_context(
        session, slot_id=slot_id, telegram_user_id=person.telegram_user_id
    )
    assert vote is not None and vote.member_id == member.id
    await repo.record_vote(
        session, context=vote, member_id=member.id, answer=answer, now=clock.now()
    )


async def test_a_vote_pressed_while_an_edit_is_cleared_stays_owed(
    db: Database, clock: FakeClock
) -> None:
    """The vote's own write (record_vote, one statement on PostgreSQL) waits for the clear and
    then owes the edit again, though its read saw every message owing one already."""
    owed_since = clock.now()
    poll_id, ids = await _messages(db, clock)

    await _while_clearing(db, clock, ids[0], lambda: _press(db, poll_id, clock, Answer.YES))
    async with db.transaction() as session:
        owed = await dirty_messages.owed(session, PollMessage)
        assert sorted((o.row_id, o.dirty_since) for o in owed) == [
            (ids[0], clock.now()),  # cleared, then owed again for the vote
            (ids[1], owed_since),  # owed since before: its oldest change kept
        ]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_votes_on_one_poll_do_not_wait_for_each_other(db: Database, clock: FakeClock) -> None:
    """PostgreSQL: a vote whose transaction is still open does not hold the next vote on the
    same poll (their lock on the poll's messages is shared), but it holds an edit's clear."""
    poll_id, ids = await _messages(db, clock)
    async with db.transaction() as session:
        union = (await session.execute(select(Union))).scalars().one()
        other = await factories.add_member(
            session, union, role=Role.ASSESSORE, name="Bruno", now=clock.now()
        )
    async with db.transaction() as first:
        await _vote_in(first, poll_id, clock, Answer.NO)
        await asyncio.wait_for(
            _press(db, poll_id, clock, Answer.YES, member_id=other.id), timeout=5
        )

        async def clear() -> None:
            async with db.transaction() as session:
                await dirty_messages.lock(session, PollMessage, ids[0])

        clearing = asyncio.create_task(clear())
        await asyncio.sleep(0.3)
        assert not clearing.done()  # the clear waits for the open vote
    await asyncio.wait_for(clearing, timeout=5)
