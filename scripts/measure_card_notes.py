"""The action card's notes query (summaries.group_notes(comune=…, latest=CARD_NOTES_READ), the
one bot/services/progress/cards.py `card` runs) on a Union with 20,000 technical-group notes: 20
Comuni and the notes of members with no Comune (~950 each), two years of them; a second Union
of the same size beside it. Prints the query plan and the median time of one card's query
(each in its own transaction, as a button press is), over every Comune and the Union's own
notes, seven passes; and, beside it, the monthly summary's read of the same table (one month of
the Union's notes, every Comune), which shares its indexes.

    python scripts/measure_card_notes.py            # SQLite
    python scripts/measure_card_notes.py --postgres # and a throwaway PostgreSQL (tests/pg_server.py)
"""

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sqlalchemy import event, insert, text

from bot.config import normalize_database_url
from bot.services.summaries.summary import CARD_NOTES_READ
from storage import migrate
from storage.db import Database
from storage.models import Municipality, Union, UpdateNote, UpdateSource
from storage.repositories import summaries as summaries_repo

NOTES = 20_000
COMUNI = 20
UNIONS = 2  # the measured one, and a neighbour of the same size
PASSES = 7
START = datetime(2025, 1, 1, 8, tzinfo=UTC)


async def seed(db: Database) -> None:
    async with db.transaction() as s:
        await s.execute(
            insert(Union),
            [
                {"id": u, "name": f"Unione {u}", "timezone": "Europe/Rome", "created_at": START}
                for u in range(1, UNIONS + 1)
            ],
        )
        await s.execute(
            insert(Municipality),
            [
                {
                    "id": (u - 1) * COMUNI + c,
                    "union_id": u,
                    "name": f"Comune {u}.{c}",
                    "name_key": f"comune {u}.{c}",
                    "created_at": START,
                }
                for u in range(1, UNIONS + 1)
                for c in range(1, COMUNI + 1)
            ],
        )
        for u in range(1, UNIONS + 1):
            rows = [
                {
                    "union_id": u,
                    "member_id": None,
                    # one in 21 from a member with no Comune (the Union's own notes)
                    "municipality_id": None
                    if n % (COMUNI + 1) == COMUNI
                    else (u - 1) * COMUNI + n % (COMUNI + 1) + 1,
                    "source": UpdateSource.HASHTAG,
                    "text": f"#aggiornamento sopralluogo {n}: il cantiere procede.",
                    "chat_id": -100 - u,
                    "message_id": n + 1,
                    # two years, a note every ~52 minutes, interleaved across Comuni
                    "created_at": START + timedelta(minutes=52 * n + u),
                }
                for n in range(NOTES)
            ]
            for i in range(0, len(rows), 5000):
                await s.execute(insert(UpdateNote), rows[i : i + 5000])
    if db.engine.dialect.name == "postgresql":
        # What autovacuum would have done to a table this size before anyone asked for a card.
        async with db.engine.connect() as conn:
            await conn.execute(text("ANALYZE update_note"))
            await conn.commit()


async def card_notes(db: Database, comune: int | str) -> int:
    async with db.transaction() as s:
        notes = await summaries_repo.group_notes(
            s,
            union_id=1,
            comune=comune,  # type: ignore[arg-type]
            latest=CARD_NOTES_READ,
        )
    assert len(notes) == CARD_NOTES_READ, len(notes)
    return len(notes)


async def month_notes(db: Database, month: int) -> int:
    """The monthly summary's read: all the Union's notes of one month."""
    since = START + timedelta(days=30 * (month + 3))
    async with db.transaction() as s:
        notes = await summaries_repo.group_notes(
            s, union_id=1, since=since, until=since + timedelta(days=30)
        )
    return len(notes)


async def plan(db: Database, read: Awaitable[int]) -> list[str]:
    """The real statement group_notes sends, captured, then explained with its parameters."""
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "update_note" in statement:
            captured.append((statement, params))

    event.listen(db.engine.sync_engine, "before_cursor_execute", capture)
    try:
        await read
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", capture)
    statement, params = captured[-1]
    prefix = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
    async with db.engine.connect() as conn:
        rows = (await conn.exec_driver_sql(prefix + statement, params)).all()
    return [str(r[-1]) for r in rows]


async def timed(reads: Callable[[], Iterable[Awaitable[int]]]) -> list[float]:
    for read in reads():  # warm the pool and the caches
        await read
    times = []
    for _ in range(PASSES):
        for read in reads():
            t = time.perf_counter()
            await read
            times.append(time.perf_counter() - t)
    return times


def ms(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1000:.2f} ms over {len(times)}"


async def main(url: str) -> None:
    db = Database(url)
    name = db.engine.dialect.name
    try:
        await migrate.upgrade(db)
        await seed(db)
        for label, read in (
            ("a Comune's card", card_notes(db, 1)),
            ("the Union's card", card_notes(db, summaries_repo.UNION_NOTES)),
            ("the summary's month", month_notes(db, 0)),
        ):
            print(f"{name} plan, {label}:")
            for line in await plan(db, read):
                print("   ", line)
        comuni = await timed(lambda: (card_notes(db, c) for c in range(1, COMUNI + 1)))
        union = await timed(lambda: [card_notes(db, summaries_repo.UNION_NOTES)])
        month = await timed(lambda: [month_notes(db, 0)])
        print(f"{name}: {NOTES} notes in the Union, {UNIONS} Unions")
        print(f"{name}: card notes query, a Comune's card: {ms(comuni)}")
        print(f"{name}: card notes query, the Union's card: {ms(union)}")
        print(f"{name}: summary's month of notes ({await month_notes(db, 0)}): {ms(month)}")
    finally:
        await db.dispose()


asyncio.run(main(normalize_database_url(f"sqlite:///{tempfile.mkdtemp()}/card.db")))

if "--postgres" in sys.argv[1:]:
    from tests import pg_server

    server = pg_server.start()
    try:

        async def pg_main() -> None:
            await main(await pg_server.create_database(server.admin_url))

        asyncio.run(pg_main())
    finally:
        server.stop()
