"""Small write transactions, measured alone.

Default: how long the event loop is held while small write transactions run on SQLite. Each
transaction records an update id (BEGIN IMMEDIATE, the INSERT, COMMIT); meanwhile a probe task
asks for the loop again and again (`await asyncio.sleep(0)`) and notes how long each turn took
to come back: the longest of those is the longest time a button press ready to run would have
waited for the loop. Printed: the transactions' own durations (wall) and the probe's waits.

`--statements`: what one more statement costs in a transaction, on SQLite and on a throwaway
PostgreSQL: CPU per transaction of this process (the bot's side) and of PostgreSQL's
processes, for transactions of 1, 2 and 3 statements (the update id, then small SELECTs).

`--layers`: the same three-statement transaction (the update id, two small SELECTs) through
each layer of the stack, on both databases: an ORM AsyncSession (`Database.transaction`, as
every handler), a Core AsyncConnection (`engine.begin()`), and the driver itself (the pooled
connection's `driver_connection`: aiosqlite or asyncpg, the SQL compiled once by SQLAlchemy) —
what each layer adds to a transaction's CPU.

`--compare DIR`: the same measure run also on another checkout's `storage` (e.g. a worktree
of main), in a process of its own, the two alternating over `--runs`.

    python -m bench.commits                  # 20,000 transactions on a fresh SQLite database
    python -m bench.commits --transactions 50000
    python -m bench.commits --runs 3 --compare ../base-main
    python -m bench.commits --statements     # the cost of a statement, SQLite and PostgreSQL
    python -m bench.commits --layers         # session, connection, driver: both databases
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from storage import migrate
from storage.db import Database
from storage.models import Person
from storage.repositories import core as core_repo


async def measure(transactions: int) -> tuple[list[float], list[float], float]:
    """(sorted transaction durations, sorted loop waits seen by the probe, CPU s per
    transaction of this process). Two passes of `transactions`: the first alone (durations,
    CPU), the second with the probe running beside it (its own spinning costs CPU)."""
    with tempfile.TemporaryDirectory() as workdir:
        db = Database(f"sqlite+aiosqlite:///{Path(workdir) / 'bench.db'}")
        try:
            await migrate.upgrade(db)
            gc.collect()
            gc.freeze()  # as python -m bot does once started (bot.app.freeze_heap_after_start)
            now = datetime.now(UTC)
            durations: list[float] = []
            cpu = time.process_time()
            for update_id in range(transactions):
                started = time.perf_counter()
                async with db.transaction() as session:
                    await core_repo.mark_update_processed(session, update_id=update_id, now=now)
                durations.append(time.perf_counter() - started)
            cpu = time.process_time() - cpu

            waits: list[float] = []
            running = True

            async def probe() -> None:
                while running:
                    asked = time.perf_counter()
                    await asyncio.sleep(0)
                    waits.append(time.perf_counter() - asked)

            probing = asyncio.create_task(probe())
            await asyncio.sleep(0)
            for update_id in range(transactions, 2 * transactions):
                async with db.transaction() as session:
                    await core_repo.mark_update_processed(session, update_id=update_id, now=now)
            running = False
            await probing
        finally:
            await db.dispose()
    return sorted(durations), sorted(waits), cpu / transactions


async def _transactions(db: Database, *, first_id: int, count: int, statements: int) -> None:
    """`count` transactions: the update id recorded, then `statements - 1` small SELECTs."""
    now = datetime.now(UTC)
    for update_id in range(first_id, first_id + count):
        async with db.transaction() as session:
            await core_repo.mark_update_processed(session, update_id=update_id, now=now)
            for _ in range(statements - 1):
                await session.execute(select(Person.id).where(Person.telegram_user_id == 1))


@asynccontextmanager
async def each_database() -> AsyncIterator[AsyncIterator[tuple[str, Database]]]:
    """The two databases in turn, each migrated and disposed of after its measures: SQLite in a
    temporary folder, then a throwaway PostgreSQL (`bench.run.Databases`)."""
    from bench.run import Databases

    databases = Databases()

    async def each() -> AsyncIterator[tuple[str, Database]]:
        with tempfile.TemporaryDirectory() as workdir:
            for backend in ("sqlite", "postgres"):
                db = Database(await databases.url(backend, Path(workdir)))
                try:
                    await migrate.upgrade(db)
                    yield backend, db
                finally:
                    await db.dispose()

    try:
        # Closed before the databases: an early stop still disposes of the engine first.
        async with aclosing(each()) as databases_in_turn:
            yield databases_in_turn
    finally:
        databases.close()


@asynccontextmanager
async def cpu_per_transaction(transactions: int) -> AsyncIterator[list[float]]:
    """CPU ms per transaction of this process and of PostgreSQL's processes, for the block."""
    from bench.run import postgres_cpu_seconds

    spent: list[float] = []
    started, server = time.process_time(), postgres_cpu_seconds()
    yield spent
    spent += [
        (time.process_time() - started) / transactions * 1000,
        (postgres_cpu_seconds() - server) / transactions * 1000,
    ]


def _cost(backend: str, what: str, spent: list[float]) -> str:
    bot, server = spent
    line = f"{backend:<10} {what}: this process {bot:.3f} ms CPU per transaction"
    return line + (f", PostgreSQL {server:.3f} ms" if backend == "postgres" else "")


async def statement_costs(transactions: int) -> None:
    async with each_database() as databases:
        async for backend, db in databases:
            runs = [(warm_up, n) for warm_up in (True, False) for n in (1, 2, 3)]
            for i, (warm_up, statements) in enumerate(runs):
                async with cpu_per_transaction(transactions) as spent:
                    await _transactions(
                        db, first_id=i * transactions, count=transactions, statements=statements
                    )
                if not warm_up:
                    print(_cost(backend, f"{statements} statement(s)", spent))


_SELECT = select(Person.id).where(Person.telegram_user_id == 1)


async def _through_session(db: Database, update_ids: range, now: datetime) -> None:
    for update_id in update_ids:
        async with db.transaction() as session:
            await core_repo.mark_update_processed(session, update_id=update_id, now=now)
            await session.execute(_SELECT)
            await session.execute(_SELECT)


async def _through_connection(db: Database, update_ids: range, now: datetime) -> None:
    mark = core_repo._mark_update(db.engine.dialect.name)
    for update_id in update_ids:
        async with db.engine.begin() as conn:
            await conn.execute(mark, {"update_id": update_id, "handled_at": now})
            await conn.execute(_SELECT)
            await conn.execute(_SELECT)


async def _through_driver(db: Database, update_ids: range, now: datetime) -> None:
    dialect = db.engine.dialect
    mark = str(core_repo._mark_update(dialect.name).compile(dialect=dialect))
    query = str(_SELECT.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    async with db.engine.connect() as conn:
        driver: Any = (await conn.get_raw_connection()).driver_connection
        if db.is_sqlite:  # aiosqlite; sqlite3's own transaction handling is off (storage/db.py)
            stamp = now.isoformat(" ")
            for update_id in update_ids:
                await driver.execute("BEGIN IMMEDIATE")
                await (await driver.execute(mark, (update_id, stamp))).close()
                for _ in range(2):
                    cursor = await driver.execute(query)
                    await cursor.fetchall()
                    await cursor.close()
                await driver.execute("COMMIT")
        else:  # asyncpg
            for update_id in update_ids:
                async with driver.transaction():
                    await driver.execute(mark, update_id, now)
                    await driver.fetch(query)
                    await driver.fetch(query)


LAYERS = {
    "ORM AsyncSession": _through_session,
    "Core AsyncConnection": _through_connection,
    "driver": _through_driver,
}


async def layer_costs(transactions: int) -> None:
    now = datetime.now(UTC)
    async with each_database() as databases:
        async for backend, db in databases:
            first = 0
            # Twice each, alternating; the first round warms up and is not printed.
            for round_ in range(3):
                for label, through in LAYERS.items():
                    update_ids = range(first, first + transactions)
                    first += transactions
                    async with cpu_per_transaction(transactions) as spent:
                        await through(db, update_ids, now)
                    if round_:
                        print(_cost(backend, f"{label:<22} (3 statements)", spent))


def _quantiles(values: list[float]) -> dict[str, float]:
    def at(q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))] * 1000

    return {
        "p50": at(0.5),
        "p99": at(0.99),
        "p99.9": at(0.999),
        "max": values[-1] * 1000,
        "over 5 ms": float(sum(1 for v in values if v > 0.005)),
    }


def _inner(transactions: int) -> dict[str, object]:
    durations, waits, cpu = asyncio.run(measure(transactions))
    return {
        "transaction": _quantiles(durations),
        "loop": _quantiles(waits),
        "cpu_ms": cpu * 1000,
    }


def _line(label: str, result: dict[str, object]) -> str:
    tx, loop = result["transaction"], result["loop"]
    assert isinstance(tx, dict) and isinstance(loop, dict)
    return (
        f"{label:<14} transaction p50 {tx['p50']:.2f} p99 {tx['p99']:.2f} max {tx['max']:.2f} ms"
        f" | loop held p99 {loop['p99']:.2f} p99.9 {loop['p99.9']:.2f} max {loop['max']:.2f} ms"
        f" ({loop['over 5 ms']:.0f} over 5 ms) | CPU {result['cpu_ms']:.3f} ms per transaction"
    )


def json_in_checkout(script: str, checkout: Path, *args: str) -> dict[str, Any]:
    """Run `script` (a file of this checkout) on another checkout's code, in a process of its
    own (cwd and PYTHONPATH that checkout); its output's last line, as JSON."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run(
        [sys.executable, str(Path(script).resolve()), *args],
        env=env,
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.splitlines()[-1])
    return result


def checkouts(compare: str) -> list[tuple[str, Path]]:
    """The sides of a `--compare`: this checkout, then the other one (if any), by name."""
    sides = [("this checkout", Path(__file__).resolve().parents[1])]
    if compare:
        other = Path(compare).resolve()
        sides.append((other.name, other))
    return sides


def _in_checkout(checkout: Path, transactions: int) -> dict[str, object]:
    """This measure, run on another checkout's storage in a process of its own."""
    return json_in_checkout(__file__, checkout, "--inner", "--transactions", str(transactions))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--compare", default="", help="another checkout, measured alternately")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--statements", action="store_true", help="the cost of one more statement, both databases"
    )
    parser.add_argument(
        "--layers", action="store_true", help="session, connection, driver: both databases"
    )
    args = parser.parse_args()
    if args.inner:
        print(json.dumps(_inner(args.transactions)))
        return
    if args.layers:
        asyncio.run(layer_costs(min(args.transactions, 2_000)))
        return
    if args.statements:
        asyncio.run(statement_costs(min(args.transactions, 2_000)))
        return
    sides = checkouts(args.compare)
    print(f"{args.transactions} small write transactions on SQLite, {args.runs} run(s)")
    for run in range(args.runs):
        for label, checkout in sides if run % 2 == 0 else sides[::-1]:
            print(f"run {run + 1} " + _line(label, _in_checkout(checkout, args.transactions)))


if __name__ == "__main__":
    main()
