"""The outbox on both databases: key-prefix lookups by index, and the daily purge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot import delivery
from bot.clock import FakeClock
from bot.config import Settings
from bot.context import Services
from storage.db import Database
from storage.models import JobClaim, OutboxMessage, OutboxStatus, Union
from storage.repositories import outbox as outbox_repo

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

KEYS = [
    "t:1",
    "t:10",
    "t:1:5",
    "t;",
    "tx",
    "T:1",
    "t",
    "t:%",
    "t:_a",
    "t:ü",
    "t:\U0010ffff",
    "u:1",
]


async def _enqueue(db: Database, keys: list[str], *, at: datetime = NOW) -> None:
    async with db.transaction() as s:
        for n, key in enumerate(keys):
            assert await outbox_repo.enqueue(
                s, dedup_key=key, chat_id=n + 1, method="sendMessage", payload={}, now=at
            )


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("t:", {"t:1", "t:10", "t:1:5", "t:%", "t:_a", "t:ü", "t:\U0010ffff"}),
        ("t:1", {"t:1", "t:10", "t:1:5"}),
        ("t:1:", {"t:1:5"}),
        ("t:%", {"t:%"}),  # LIKE's wildcards are plain characters here
        ("t:_", {"t:_a"}),
        ("t:\U0010ffff", {"t:\U0010ffff"}),
        ("T", {"T:1"}),  # case matters
        ("v", set()),
        ("", set(KEYS)),
    ],
)
async def test_key_prefix_is_exact(db: Database, prefix: str, expected: set[str]) -> None:
    await _enqueue(db, KEYS)
    async with db.transaction() as s:
        rows = await outbox_repo.status_by_key_prefix(s, prefix)
    assert {r.dedup_key for r in rows} == expected
    assert [r.id for r in rows] == sorted(r.id for r in rows)


async def test_drop_pending_withdraws_only_pending_rows_of_the_prefix(db: Database) -> None:
    await _enqueue(db, KEYS)
    async with db.transaction() as s:
        sent = (
            await s.execute(select(OutboxMessage).where(OutboxMessage.dedup_key == "t:10"))
        ).scalar_one()
        sent.status = OutboxStatus.SENT
    async with db.transaction() as s:
        assert await outbox_repo.drop_pending(s, "t:1") == 2  # t:1, t:1:5; t:10 was sent
        assert await outbox_repo.drop_pending(s, "t:%") == 1  # a wildcard is a plain character
    async with db.transaction() as s:
        left = set((await s.execute(select(OutboxMessage.dedup_key))).scalars())
    assert left == set(KEYS) - {"t:1", "t:1:5", "t:%"}


async def test_expired_rows_are_withdrawn_not_sent(db: Database) -> None:
    async with db.transaction() as s:
        for key, expires in (
            ("a", NOW),
            ("b", NOW + timedelta(minutes=1)),
            ("c", None),
            ("d", NOW),
        ):
            await outbox_repo.enqueue(
                s,
                dedup_key=key,
                chat_id=1,
                method="sendMessage",
                payload={},
                now=NOW,
                expires_at=expires,
            )
        (
            await s.execute(select(OutboxMessage).where(OutboxMessage.dedup_key == "d"))
        ).scalar_one().status = OutboxStatus.SENT
    async with db.transaction() as s:
        assert await outbox_repo.withdraw_expired(s, now=NOW) == ["a"]  # d was sent already
        assert await outbox_repo.withdraw_expired(s, now=NOW) == []
        assert [key for _id, key in await _due_keys(s)] == ["b", "c"]


async def _due_keys(s: AsyncSession) -> list[tuple[int, str]]:
    ids = dict(await outbox_repo.due(s, now=NOW))
    rows = await s.execute(
        select(OutboxMessage.id, OutboxMessage.dedup_key).where(OutboxMessage.id.in_(ids))
    )
    return sorted((row_id, key) for row_id, key in rows.all())


async def test_key_prefix_lookup_uses_the_key_index(db: Database) -> None:
    await _enqueue(db, [f"k:{n}:{m}" for n in range(30) for m in range(10)])
    query = select(OutboxMessage.id).where(
        outbox_repo.key_starts_with(OutboxMessage.dedup_key, "k:7:")
    )
    async with db.transaction() as s:
        if db.is_sqlite:
            compiled = query.compile(s.bind, compile_kwargs={"literal_binds": True})
            plan = " ".join(
                str(row[-1])
                for row in (await s.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))).all()
            )
            # The unique constraint's index (SQLite names it sqlite_autoindex_…), searched by range.
            assert "SEARCH outbox_message USING COVERING INDEX" in plan, plan
            assert "dedup_key>? AND dedup_key<?" in plan, plan
        else:
            collation = (
                await s.execute(
                    text(
                        "SELECT collation_name FROM information_schema.columns "
                        "WHERE table_name = 'outbox_message' AND column_name = 'dedup_key'"
                    )
                )
            ).scalar_one()
            assert collation == "C"  # code-point order whatever the database's locale
            await s.execute(text("SET LOCAL enable_seqscan = off"))
            compiled = query.compile(s.bind, compile_kwargs={"literal_binds": True})
            plan = " ".join(
                str(row[0]) for row in (await s.execute(text(f"EXPLAIN {compiled}"))).all()
            )
            assert "uq_outbox_message_dedup_key" in plan, plan
        assert len(list((await s.execute(query)).scalars())) == 10


def _services(db: Database, clock: FakeClock) -> Services:
    settings = Settings(token="123:abc", database_url=db.url, tick_seconds=0)
    return Services(settings=settings, db=db, clock=clock)


async def _set(db: Database, key: str, status: OutboxStatus, **values: object) -> None:
    async with db.transaction() as s:
        row = (
            await s.execute(select(OutboxMessage).where(OutboxMessage.dedup_key == key))
        ).scalar_one()
        row.status = status
        for name, value in values.items():
            setattr(row, name, value)


async def test_purge_keeps_what_is_recent_live_or_unreported(db: Database) -> None:
    old = NOW - delivery.OUTBOX_RETENTION - timedelta(hours=1)
    recent = NOW - delivery.OUTBOX_RETENTION + timedelta(hours=1)
    await _enqueue(db, ["old:sent", "old:pending", "old:sending"], at=old)
    await _enqueue(
        db, ["old:failed", "old:failed:told", "old:uncertain", "old:uncertain:told"], at=old
    )
    await _enqueue(db, ["recent:sent"], at=recent)
    await _set(db, "old:sent", OutboxStatus.SENT, sent_at=old)
    await _set(db, "old:sending", OutboxStatus.SENDING)
    await _set(db, "recent:sent", OutboxStatus.SENT, sent_at=recent)
    # A problem of a Union stays until its coordinators were told; a row with no Union (the
    # reports themselves) is never reported, so its age alone decides.
    async with db.transaction() as s:
        union_id = await _some_union(s)
    await _set(db, "old:failed", OutboxStatus.FAILED, union_id=union_id)
    await _set(db, "old:failed:told", OutboxStatus.FAILED, union_id=union_id, reported_at=old)
    await _set(db, "old:uncertain", OutboxStatus.UNCERTAIN, union_id=union_id)
    await _set(db, "old:uncertain:told", OutboxStatus.UNCERTAIN)

    async with db.transaction() as s:
        assert await outbox_repo.purge_settled(s, before=NOW - delivery.OUTBOX_RETENTION) == 3
    async with db.transaction() as s:
        left = {r.dedup_key for r in await outbox_repo.status_by_key_prefix(s, "")}
    assert left == {"old:pending", "old:sending", "old:failed", "old:uncertain", "recent:sent"}


async def _some_union(s: AsyncSession) -> int:
    union = Union(name="Unione", created_at=NOW)
    s.add(union)
    await s.flush()
    return union.id


async def test_purge_runs_once_a_day_in_batches(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "PURGE_BATCH", 4)
    monkeypatch.setattr(delivery, "PURGE_PAUSE_SECONDS", 0)
    old = NOW - delivery.OUTBOX_RETENTION - timedelta(days=1)
    keys = [f"b:{n:02d}" for n in range(10)]
    await _enqueue(db, keys, at=old)
    for key in keys:
        await _set(db, key, OutboxStatus.SENT, sent_at=old)
    clock = FakeClock(NOW)
    services = _services(db, clock)

    assert await delivery.purge_outbox(services, NOW) == 10  # 4 + 4 + 2, three transactions
    await _enqueue(db, ["b:late"], at=old)
    await _set(db, "b:late", OutboxStatus.SENT, sent_at=old)
    assert await delivery.purge_outbox(services, NOW + timedelta(hours=3)) == 0  # claimed today
    assert await delivery.purge_outbox(services, NOW + timedelta(days=1)) == 1
    async with db.transaction() as s:
        claims = (
            await s.execute(select(JobClaim.period).where(JobClaim.kind == "outbox_purge"))
        ).scalars()
        assert sorted(claims) == ["2026-12-01", "2026-12-02"]


async def test_one_message_withdrawn_before_it_is_sent_or_found_once_sent(db: Database) -> None:
    """A cancelled task's message (bot.services.meetings.tasks.cancel_task): withdrawn while it
    waits, by its exact key only; once sent, found with its chat, Telegram's id and its text."""
    await _enqueue(db, ["t:1", "t:10"])
    async with db.transaction() as s:
        assert await outbox_repo.withdraw(s, "t:1")
        assert not await outbox_repo.withdraw(s, "t:1")  # gone already
        assert await outbox_repo.sent_message(s, "t:10") is None  # pending: not sent
        row = (
            await s.execute(select(OutboxMessage).where(OutboxMessage.dedup_key == "t:10"))
        ).scalar_one()
        row.payload = {"text": "Hai un compito"}
        await outbox_repo.finish(
            s, message_id=row.id, status=OutboxStatus.SENT, now=NOW, telegram_message_id=77
        )
    async with db.transaction() as s:
        assert not await outbox_repo.withdraw(s, "t:10")  # sent: stays
        assert await outbox_repo.sent_message(s, "t:10") == (2, 77, "Hai un compito")
        keys = (await s.execute(select(OutboxMessage.dedup_key))).scalars().all()
    assert keys == ["t:10"]
