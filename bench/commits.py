"""How long the event loop is held by one small write transaction on SQLite (session 4).

A transaction's statements and its COMMIT run on the event loop (storage/sqlite_driver.py), and
so does the WAL checkpoint SQLite runs inside a COMMIT every ~1,000 pages: this prints the
distribution of a whole transaction's duration (BEGIN IMMEDIATE, the update id recorded,
COMMIT), the loop being held for all of it.

    python -m bench.commits                  # 20,000 transactions on a fresh database
    python -m bench.commits --transactions 50000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from storage import migrate
from storage.db import Database
from storage.repositories import core as core_repo


async def measure(transactions: int) -> list[float]:
    with tempfile.TemporaryDirectory() as workdir:
        db = Database(f"sqlite+aiosqlite:///{Path(workdir) / 'bench.db'}")
        try:
            await migrate.upgrade(db)
            gc.collect()
            gc.freeze()  # as python -m bot does once started (bot.app.freeze_heap_after_start)
            now = datetime.now(UTC)
            durations = []
            for update_id in range(transactions):
                started = time.perf_counter()
                async with db.transaction() as session:
                    await core_repo.mark_update_processed(session, update_id=update_id, now=now)
                durations.append(time.perf_counter() - started)
        finally:
            await db.dispose()
    return sorted(durations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=20_000)
    args = parser.parse_args()
    durations = asyncio.run(measure(args.transactions))

    def ms(q: float) -> str:
        return f"{durations[min(len(durations) - 1, int(q * len(durations)))] * 1000:.2f}"

    slow = sum(1 for d in durations if d > 0.005)
    print(
        f"{len(durations)} transactions on SQLite: p50 {ms(0.5)} ms, p99 {ms(0.99)} ms, "
        f"p99.9 {ms(0.999)} ms, max {durations[-1] * 1000:.2f} ms; {slow} over 5 ms"
    )


if __name__ == "__main__":
    main()
