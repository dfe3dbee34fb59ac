"""Outbox key-prefix lookup over 200,000 rows: LIKE 'p%' (as before) against the range on the
key's index (outbox.key_starts_with); median of 7, each in its own transaction.

    python scripts/measure_key_prefix.py        # SQLite
    python scripts/measure_key_prefix.py pg     # and a throwaway PostgreSQL (tests/pg_server.py)
"""

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sqlalchemy import insert, select

from bot.config import normalize_database_url
from storage import migrate
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from storage.repositories import outbox as outbox_repo

NOW = datetime(2026, 12, 1, tzinfo=UTC)


async def main(url: str) -> None:
    db = Database(url)
    await migrate.upgrade(db)
    rows = [
        {
            "dedup_key": f"upd:inv:{r}:{m}",
            "chat_id": m,
            "method": "sendMessage",
            "payload": {},
            "status": OutboxStatus.SENT,
            "attempts": 1,
            "created_at": NOW,
        }
        for r in range(2000)
        for m in range(100)
    ]
    async with db.transaction() as s:
        for i in range(0, len(rows), 10000):
            await s.execute(insert(OutboxMessage), rows[i : i + 10000])

    async def timed(where: Any) -> tuple[float, int]:
        times = []
        for _ in range(7):
            t = time.perf_counter()
            async with db.transaction() as s:
                n = len((await s.execute(select(OutboxMessage.id).where(where))).all())
            times.append(time.perf_counter() - t)
        return statistics.median(times) * 1000, n

    like = OutboxMessage.dedup_key.startswith("upd:inv:1234:", autoescape=True)
    rng = outbox_repo.key_starts_with(OutboxMessage.dedup_key, "upd:inv:1234:")
    like_ms, like_n = await timed(like)
    range_ms, range_n = await timed(rng)
    print(
        f"{db.engine.dialect.name}: {len(rows)} rows; LIKE {like_ms:.2f} ms ({like_n} found), "
        f"range {range_ms:.2f} ms ({range_n} found)"
    )
    await db.dispose()


d = tempfile.mkdtemp()
asyncio.run(main(normalize_database_url(f"sqlite:///{d}/b.db")))

if len(sys.argv) > 1 and sys.argv[1] == "pg":
    from tests import pg_server

    server = pg_server.start()
    try:

        async def pg_main() -> None:
            url = await pg_server.create_database(server.admin_url)
            await main(url)

        asyncio.run(pg_main())
    finally:
        server.stop()
