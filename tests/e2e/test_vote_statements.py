"""What a vote costs the database, through the real bot: the hottest press of all (bench.run's
votes burst is 1,000 of them).

A vote is one transaction: the update id, the vote's one context query (poll, Union, membership,
the poll's messages, the presser's answers for the toast), the upsert, and — only while the
poll's messages owe no edit yet — the UPDATE that owes one. Counted on SQLite
(`before_cursor_execute`, which does not see the BEGIN). Session 9 (bench/README.md) found these
counts equal on main and on main before sessions 7–9 (f497f69, 0e573b7): a change that adds a
statement or a transaction to a vote fails here, not in a benchmark nobody ran.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event

from tests.e2e.harness import BotUnderTest
from tests.fakes.fake_world import FakeMessage, FakeUser
from tests.reliability.crash_month import seed_team

ROME = ZoneInfo("Europe/Rome")

# (statements, transactions): the first vote owes the poll message an edit, the next ones find
# it owed already (the coalesced edit has not gone out yet).
FIRST_VOTE = (4, 1)
NEXT_VOTE = (3, 1)


async def _counted(
    bot: BotUnderTest, user: FakeUser, message: FakeMessage, data: str
) -> tuple[int, int, str]:
    """(statements, transactions, the toast) while the bot handles one press."""
    statements: list[str] = []
    begun: list[object] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    def begin(connection: object) -> None:
        begun.append(connection)

    engine = bot.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    event.listen(engine, "begin", begin)
    try:
        answer = await (await user.press(message, data)).answered()
    finally:
        event.remove(engine, "before_cursor_execute", count)
        event.remove(engine, "begin", begin)
    return len(statements), len(begun), answer.text or ""


async def test_a_votes_statements(bot: BotUnderTest) -> None:
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
    counts = []
    for user, answer, slot in votes:
        statements, transactions, toast = await _counted(
            bot, user, poll, f"vote:{answer}:{slots[slot]}"
        )
        assert toast.startswith("Registrato"), toast
        counts.append((statements, transactions))
    await bot.settle()
    expected = [FIRST_VOTE] + [NEXT_VOTE] * (len(votes) - 1)
    worse = [(c, e) for c, e in zip(counts, expected, strict=True) if c[0] > e[0] or c[1] > e[1]]
    assert not worse, (
        f"(statements, transactions) now and expected, of the votes that cost more: {worse}"
    )
