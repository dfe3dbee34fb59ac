"""Claims, update ids, the outbox and conversations behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, select

from storage.db import Database
from storage.models import OutboxMention, OutboxMessage, OutboxStatus, Person
from storage.repositories import core as core_repo
from storage.repositories import outbox as outbox_repo

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def test_claim_is_won_once(db: Database) -> None:
    async with db.transaction() as s:
        assert await core_repo.claim(s, kind="poll", union_id=1, period="2026-12", now=NOW)
        assert not await core_repo.claim(s, kind="poll", union_id=1, period="2026-12", now=NOW)
        assert await core_repo.claim(s, kind="poll", union_id=1, period="2027-01", now=NOW)
    async with db.transaction() as s:
        assert await core_repo.is_claimed(s, kind="poll", union_id=1, period="2026-12")


async def test_concurrent_claims_one_winner(db: Database) -> None:
    async def attempt() -> bool:
        async with db.transaction() as s:
            return await core_repo.claim(s, kind="x", union_id=7, period="p", now=NOW)

    results = await asyncio.gather(*(attempt() for _ in range(5)))
    assert results.count(True) == 1


async def test_update_id_recorded_once(db: Database) -> None:
    async with db.transaction() as s:
        assert await core_repo.mark_update_processed(s, update_id=10, now=NOW)
    async with db.transaction() as s:
        assert not await core_repo.mark_update_processed(s, update_id=10, now=NOW)
        await core_repo.purge_processed_updates(s, before=NOW + timedelta(seconds=1))
    async with db.transaction() as s:
        assert await core_repo.mark_update_processed(s, update_id=10, now=NOW)


async def test_outbox_dedup_and_lifecycle(db: Database) -> None:
    async with db.transaction() as s:
        assert await outbox_repo.enqueue(
            s, dedup_key="k1", chat_id=5, method="sendMessage", payload={"text": "a"}, now=NOW
        )
        assert not await outbox_repo.enqueue(
            s, dedup_key="k1", chat_id=5, method="sendMessage", payload={"text": "b"}, now=NOW
        )
        ids = [row_id for row_id, _ in await outbox_repo.due(s, now=NOW)]
    assert len(ids) == 1
    async with db.transaction() as s:
        row = await outbox_repo.start_sending(s, message_id=ids[0])
        assert row is not None and row.payload == {"text": "a"}
    async with db.transaction() as s:
        assert await outbox_repo.start_sending(s, message_id=ids[0]) is None
        assert await outbox_repo.due(s, now=NOW) == []
    async with db.transaction() as s:
        interrupted = await outbox_repo.mark_interrupted_as_uncertain(s)
    assert [r.dedup_key for r in interrupted] == ["k1"]
    async with db.transaction() as s:
        rows = await outbox_repo.status_by_key_prefix(s, "k")
        assert rows[0].status == OutboxStatus.UNCERTAIN


async def test_outbox_enqueue_many_in_order_once_in_two_statements(db: Database) -> None:
    """A batch is queued in the order given (the outbox sends by id), skips a key ever queued,
    records each new row's mentions, and takes two statements however many rows."""
    async with db.transaction() as s:
        people = [
            Person(telegram_user_id=100 + n, display_name=f"P{n}", created_at=NOW) for n in (1, 2)
        ]
        s.add_all(people)
        await s.flush()
        named_ids = {p.id for p in people}
        await outbox_repo.enqueue(
            s, dedup_key="k07", chat_id=5, method="sendMessage", payload={"text": "x"}, now=NOW
        )
    # Keys not in id order, so that the check below is about the order given.
    keys = [f"k{(n * 7) % 30:02d}" for n in range(30)]
    batch = [
        outbox_repo.Queued(
            dedup_key=key + ("\x00" if n == 3 else ""),
            chat_id=5,
            method="sendMessage",
            payload={"text": key},
            union_id=None,
            names=named_ids if n % 2 else (),
        )
        for n, key in enumerate(keys)
    ]
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with db.transaction() as s:
            queued = await outbox_repo.enqueue_many(s, batch, now=NOW)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert queued == set(keys) - {"k07"}
    assert len([st for st in statements if st.lstrip().upper().startswith("INSERT")]) == 2
    async with db.transaction() as s:
        due = [row_id for row_id, _chat in await outbox_repo.due(s, now=NOW)]
        by_id = dict((await s.execute(select(OutboxMessage.id, OutboxMessage.dedup_key))).all())
        mentions = (await s.execute(select(OutboxMention.outbox_id))).scalars().all()
        again = await outbox_repo.enqueue_many(s, batch[:2], now=NOW)
    assert [by_id[i] for i in due] == ["k07", *(k for k in keys if k != "k07")]
    named = [k for n, k in enumerate(keys) if n % 2 and k != "k07"]
    assert sorted(by_id[i] for i in mentions) == sorted(named * 2)
    assert again == set()


async def test_conversation_expires(db: Database) -> None:
    async with db.transaction() as s:
        await core_repo.set_conversation(
            s,
            telegram_user_id=1,
            chat_id=1,
            flow="f",
            step="a",
            data={"x": 1},
            now=NOW,
            ttl=timedelta(hours=1),
        )
    async with db.transaction() as s:
        conv = await core_repo.get_conversation(s, telegram_user_id=1, chat_id=1, now=NOW)
        assert conv is not None and conv.data == {"x": 1} and conv.step == "a"
    async with db.transaction() as s:
        later = NOW + timedelta(hours=2)
        assert await core_repo.get_conversation(s, telegram_user_id=1, chat_id=1, now=later) is None
