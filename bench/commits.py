"""Small write transactions, measured alone (session 4).

Default: how long the event loop is held by one small write transaction on SQLite. A
transaction's statements and its COMMIT run on the event loop (storage/sqlite_driver.py), and
so does the WAL checkpoint SQLite runs inside a COMMIT every ~1,000 pages: this prints the
distribution of a whole transaction's duration (BEGIN IMMEDIATE, the update id recorded,
COMMIT), the loop being held for all of it.

`--statements`: what one more statement costs in a transaction, on SQLite and on a throwaway
PostgreSQL: CPU per transaction of this process (the bot's side) and of PostgreSQL's
processes, for transactions of 1, 2 and 3 statements (the update id, then small SELECTs).

    python -m bench.commits                  # 20,000 transactions on a fresh SQLite database
    python -m bench.commits --transactions 50000
    python -m bench.commits --statements     # the cost of a statement, SQLite and PostgreSQL
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bench.run import Databases, postgres_cpu_seconds
from storage import migrate
from storage.db import Database
from storage.models import Person
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


async def _transactions(db: Database, *, first_id: int, count: int, statements: int) -> None:
    """`count` transactions: the update id recorded, then `statements - 1` small SELECTs."""
    now = datetime.now(UTC)
    for update_id in range(first_id, first_id + count):
        async with db.transaction() as session:
            await core_repo.mark_update_processed(session, update_id=update_id, now=now)
            for _ in range(statements - 1):
                await session.execute(select(Person.id).where(Person.telegram_user_id == 1))


async def statement_costs(transactions: int) -> None:
    databases = Databases()
    try:
        with tempfile.TemporaryDirectory() as workdir:
            for backend in ("sqlite", "postgres"):
                db = Database(await databases.url(backend, Path(workdir)))
                try:
                    await migrate.upgrade(db)
                    runs = [(warm_up, n) for warm_up in (True, False) for n in (1, 2, 3)]
                    for i, (warm_up, statements) in enumerate(runs):
                        started, server = time.process_time(), postgres_cpu_seconds()
                        await _transactions(
                            db, first_id=i * transactions, count=transactions, statements=statements
                        )
                        if warm_up:
                            continue
                        bot = (time.process_time() - started) / transactions * 1000
                        server = (postgres_cpu_seconds() - server) / transactions * 1000
                        print(
                            f"{backend:<10} {statements} statement(s): this process "
                            f"{bot:.3f} ms CPU per transaction"
                            + (f", PostgreSQL {server:.3f} ms" if backend == "postgres" else "")
                        )
                finally:
                    await db.dispose()
    finally:
        databases.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=20_000)
    parser.add_argument(
        "--statements", action="store_true", help="the cost of one more statement, both databases"
    )
    args = parser.parse_args()
    if args.statements:
        asyncio.run(statement_costs(min(args.transactions, 2_000)))
        return
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
