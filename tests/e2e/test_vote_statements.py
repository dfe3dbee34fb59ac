"""What a vote costs the database, through the real bot: the hottest press of all (bench.run's
votes burst is 1,000 of them).

A vote is one transaction: the update id, the vote's one context query (poll, Union, membership,
the poll's messages, the presser's answers for the toast), the upsert, and — only while the
poll's messages owe no edit yet — the UPDATE that owes one.

SQLite: counted by sqlite3 itself (its trace callback: every statement it runs, BEGIN IMMEDIATE
and COMMIT included), and the hand-offs to aiosqlite's thread (each call of aiosqlite's awaitable
API is one). Session 10 runs the vote's statements straight on aiosqlite (`storage.db.run_hot`,
one hand-off each): 6 hand-offs for the first vote and 5 for the next ones, where SQLAlchemy's
cursor took 15 and 12 (cursor, execute, fetchall, close per statement; bench/README.md,
"Session 10 — a vote's CPU"). PostgreSQL: SQLAlchemy's `before_cursor_execute` (BEGIN and COMMIT
not seen), the upsert and the owed edit one statement there. A change that adds a statement, a
hand-off or a transaction to a vote fails here, not in a benchmark nobody ran.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite
import pytest
from sqlalchemy import event

from tests.e2e.harness import BotUnderTest
from tests.fakes.fake_world import FakeMessage, FakeUser
from tests.reliability.crash_month import seed_team
from tests.sql_trace import traced

ROME = ZoneInfo("Europe/Rome")


@dataclass(frozen=True)
class Cost:
    statements: int
    transactions: int
    hand_offs: int = 0  # SQLite: calls into aiosqlite's thread


# The first vote owes the poll message an edit, the next ones find it owed already (the
# coalesced edit has not gone out yet).
SQLITE_FIRST = Cost(statements=6, transactions=1, hand_offs=6)  # BEGIN IMMEDIATE … COMMIT
SQLITE_NEXT = Cost(statements=5, transactions=1, hand_offs=5)
# The update id, the context, the upsert marking the edit owed (one statement).
POSTGRES_FIRST = POSTGRES_NEXT = Cost(statements=3, transactions=1)

# aiosqlite's awaitable API: each call is one trip to its thread and back.
_HAND_OFFS = {
    aiosqlite.Connection: ("cursor", "commit", "rollback", "execute", "execute_fetchall"),
    aiosqlite.Cursor: ("execute", "fetchall", "fetchone", "fetchmany", "close"),
}


@dataclass
class Counts:
    statements: list[str]  # tests/sql_trace.traced's: every statement since it was cleared
    begun: list[object] = field(default_factory=list)
    hand_offs: int = 0
    recording: bool = False


@contextmanager
def hand_offs_counted(monkeypatch: pytest.MonkeyPatch, counts: Counts) -> Iterator[None]:
    def counted(method: Any) -> Any:
        @wraps(method)
        def wrapper(*args: Any, **kwargs: Any) -> Any:  # what it returns is awaited once
            if counts.recording:
                counts.hand_offs += 1
            return method(*args, **kwargs)

        return wrapper

    with monkeypatch.context() as patch:
        for cls, names in _HAND_OFFS.items():
            for name in names:
                patch.setattr(cls, name, counted(getattr(cls, name)))
        yield


async def _counted(
    bot: BotUnderTest, counts: Counts, user: FakeUser, message: FakeMessage, data: str
) -> tuple[Cost, str]:
    """What the bot's database did while it handled one press, and the toast."""
    counts.statements.clear()
    counts.begun.clear()
    counts.hand_offs = 0
    counts.recording = True
    try:
        answer = await (await user.press(message, data)).answered()
    finally:
        counts.recording = False
    cost = Cost(len(counts.statements), len(counts.begun), counts.hand_offs)
    return cost, answer.text or ""


def _listen(bot: BotUnderTest, counts: Counts) -> None:
    """The transactions begun while a press is counted (its statements: tests/sql_trace.py)."""

    def begin(connection: object) -> None:
        if counts.recording:
            counts.begun.append(connection)

    event.listen(bot.db.engine.sync_engine, "begin", begin)


async def test_a_votes_statements(any_bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch) -> None:
    bot = any_bot
    team = await seed_team(bot.db, bot.fake, bot.clock.now() - timedelta(days=2), comuni=3)
    bot.clock.set(datetime(2026, 12, 1, 9, 1, tzinfo=ROME))
    await bot.tick()  # the month's poll opens
    [poll] = [m for m in bot.fake.sent_to(team.political) if (m.text or "").startswith("🗓")]
    slots = [
        int((row[0][1] or "").rsplit(":", 1)[1])
        for row in poll.buttons
        if (row[0][1] or "").startswith("mtg:answers:")
    ]
    sindaci = [team.users[f"sindaco:{i}"] for i in range(3)]
    votes = [(sindaci[0], "y", 0), (sindaci[1], "m", 1), (sindaci[0], "n", 2), (sindaci[2], "y", 3)]
    costs = []
    with traced(bot.db) as statements, hand_offs_counted(monkeypatch, counts := Counts(statements)):
        _listen(bot, counts)
        for user, answer, slot in votes:
            cost, toast = await _counted(bot, counts, user, poll, f"vote:{answer}:{slots[slot]}")
            assert toast.startswith("Registrato"), toast
            costs.append(cost)
    await bot.settle()
    first, following = (
        (SQLITE_FIRST, SQLITE_NEXT) if bot.db.is_sqlite else (POSTGRES_FIRST, POSTGRES_NEXT)
    )
    expected = [first] + [following] * (len(votes) - 1)
    assert costs == expected, f"each vote's cost now, and expected: {costs} != {expected}"
