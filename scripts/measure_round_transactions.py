"""How long round_housekeeping holds a write transaction: 200 Unions with an open round and
five technicians each, on SQLite. Prints, for the first tick (every technician invited as a
late joiner), a quiet tick and the first-reminder tick: the transactions, the longest one,
the whole tick, and the longest time the event loop could not run anything else meanwhile (a
button press waits that long at most).

    python scripts/measure_round_transactions.py [checkout]   # default: this checkout
"""

import asyncio
import sys
import tempfile
import time
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).resolve().parents[1]))
from bot.clock import FakeClock
from bot.config import Settings, normalize_database_url
from bot.context import Services
from bot.handlers.updates.scheduled import round_housekeeping
from storage import migrate
from storage.db import Database
from storage.models import Role
from storage.repositories import actions as repo
from tests.updates_factories import make_member, make_union

START = datetime(2026, 12, 1, 8, tzinfo=UTC)


async def main() -> None:
    d = tempfile.mkdtemp()
    db = Database(normalize_database_url(f"sqlite:///{d}/b.db"))
    await migrate.upgrade(db)
    uid = 10_000
    async with db.transaction() as s:
        for n in range(200):
            union, comuni = await make_union(s, f"U{n}", ["A", "B", "C", "D", "E"], now=START)
            for c in comuni.values():
                uid += 1
                await make_member(
                    s,
                    union,
                    telegram_user_id=uid,
                    name=f"T{uid}",
                    role=Role.TECNICO,
                    comuni=[c],
                    now=START,
                )
            await repo.upsert_actions(
                s,
                union_id=union.id,
                rows=[
                    {
                        **dict.fromkeys(repo.ACTION_FIELDS),
                        "code": f"A{c.id}",
                        "title": "T",
                        "municipality_id": c.id,
                    }
                    for c in comuni.values()
                ],
                now=START,
            )
            await repo.create_round(
                s,
                union_id=union.id,
                period="2026-12",
                meeting_id=None,
                deadline_at=START + timedelta(days=10),
                now=START,
            )
    services = Services(
        settings=Settings(token="123:abc", database_url=db.url, tick_seconds=0),
        db=db,
        clock=FakeClock(START),
    )
    durations: list[float] = []
    real = db.transaction

    @asynccontextmanager
    async def timed():
        t = time.perf_counter()
        async with real() as s:
            yield s
        durations.append(time.perf_counter() - t)

    db.transaction = timed  # type: ignore[method-assign]
    for label, now in (
        ("first tick (invites 1,000 late joiners)", START + timedelta(minutes=1)),
        ("quiet tick", START + timedelta(hours=1)),
        ("reminder tick", START + timedelta(days=3, minutes=1)),
    ):
        durations.clear()
        longest_gap = 0.0

        async def watch_loop() -> None:
            nonlocal longest_gap
            last = time.perf_counter()
            while True:
                await asyncio.sleep(0.005)
                now_ = time.perf_counter()
                longest_gap, last = max(longest_gap, now_ - last), now_

        watcher = asyncio.create_task(watch_loop())
        await asyncio.sleep(0.02)
        longest_gap = 0.0
        t = time.perf_counter()
        await round_housekeeping(services, None, now)  # type: ignore[arg-type]
        total = time.perf_counter() - t
        await asyncio.sleep(0.006)
        watcher.cancel()
        print(
            f"{label}: {len(durations)} transactions, longest {max(durations) * 1000:.0f} ms, "
            f"tick {total * 1000:.0f} ms, loop held at most {longest_gap * 1000:.0f} ms"
        )
    await db.dispose()


asyncio.run(main())
