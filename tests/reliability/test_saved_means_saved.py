"""Issue 14, item 4: «non ho salvato nulla» only when nothing was saved, once per update, and a
retry that does not record a decision twice.

The faults are real: a second process holds the SQLite file's write lock (BEGIN IMMEDIATE) past
the bot's busy timeout, shrunk for the test; a PostgreSQL server of the test's own is stopped and
started again while a private command arrives.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.clock import FakeClock
from storage import db as db_module
from storage.models import Decision
from tests import pg_server
from tests.conftest import REQUIRE_POSTGRES
from tests.e2e.harness import BotUnderTest
from tests.fakes.telegram_server import FakeTelegram, FakeUser
from tests.reliability.conftest import BotFactory, _bot_factory
from tests.reliability.world import seed_union

NOT_RECORDED = "Qualcosa non ha funzionato e non ho registrato nulla: riprova tra qualche minuto."
ERROR_MARKS = ("non ho registrato nulla", "non ho salvato nulla", "andato storto", "non so se")
DECISION = "/decisione Si parte con il bando per l'illuminazione delle scuole"

# A process other than the bot: it takes the write lock, says so, and keeps it until told.
HOLDER = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0)
con.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
con.execute("ROLLBACK")
print("released", flush=True)
"""


def _texts_since(fake: FakeTelegram, user: FakeUser, start: int) -> str:
    return "\n".join(m.text or "" for m in fake.sent_to(user)[start:])


def _errors(fake: FakeTelegram, user: FakeUser) -> list[str]:
    return [
        m.text or ""
        for m in fake.sent_to(user)
        if any(mark in (m.text or "") for mark in ERROR_MARKS)
    ]


async def _decisions(bot: BotUnderTest) -> list[str]:
    async with bot.db.transaction() as session:
        return list((await session.execute(select(Decision.question))).scalars())


async def test_sqlite_locked_by_another_process_one_honest_message_and_one_decision(
    make_bot: BotFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read when the bot's engine is made: the bot gives up on a held lock after 0.5 s.
    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_S", 0.5)
    bot = await make_bot()
    fake = bot.fake
    world = await seed_union(bot.db, fake, bot.clock.now(), members=1)
    carla = world.coordinator
    await carla.send("/aiuto")  # the bot works
    await bot.settle()
    before = len(fake.sent_to(carla))

    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        HOLDER,
        str(tmp_path / "bot.db"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert (await asyncio.wait_for(holder.stdout.readline(), 10)) == b"locked\n"
        await carla.send(DECISION)
        # The check before every private message gives up after the busy timeout and says so.
        await fake.wait_for(lambda: _errors(fake, carla), timeout=10)
        # The lock goes away at once: a handler still running after the error (as PTB does
        # after an exception in group -1) would now store the decision it was told was lost.
        holder.stdin.write(b"go\n")
        await holder.stdin.drain()
        assert (await asyncio.wait_for(holder.stdout.readline(), 10)) == b"released\n"
    finally:
        if holder.returncode is None:
            holder.kill()
        await holder.wait()
    await bot.settle()
    await asyncio.sleep(0.6)  # longer than the busy timeout: anything still waiting is done
    await bot.settle()
    after_fault = fake.sent_to(carla)[before:]
    assert [m.text for m in after_fault] == [NOT_RECORDED]  # one message, nothing else
    assert await _decisions(bot) == []  # and it was true

    # Told to retry, she does: recorded once (and, no technical group linked, passed to her).
    start = len(fake.sent_to(carla))
    await carla.send(DECISION)
    await bot.settle()
    assert "Decisione registrata" in _texts_since(fake, carla, start)
    # Her thumb slips and she sends it again: the same decision, not a second one.
    start = len(fake.sent_to(carla))
    await carla.send(DECISION)
    await bot.settle()
    assert "Questa decisione è già registrata (mar 1 dic, 09:00)" in _texts_since(
        fake, carla, start
    )
    assert len(await _decisions(bot)) == 1
    assert len(_errors(fake, carla)) == 1


@pytest.fixture
def own_pg() -> Iterator[pg_server.PgServer]:
    """A PostgreSQL server of this test's own, which it may stop: not the suite's shared one."""
    reason = pg_server.unavailable_reason()
    if reason is None and os.environ.get("TEST_DATABASE_URL"):
        reason = "TEST_DATABASE_URL names a server this test must not stop"
    if reason is not None:
        if REQUIRE_POSTGRES and not os.environ.get("TEST_DATABASE_URL"):
            pytest.fail(f"PostgreSQL not available: {reason}")
        pytest.skip(reason)
    server = pg_server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def make_pg_bot(
    fake_telegram: FakeTelegram,
    clock: FakeClock,
    tmp_path: Path,
    own_pg: pg_server.PgServer,
) -> AsyncIterator[BotFactory]:
    url = await pg_server.create_database(own_pg.admin_url)
    async with _bot_factory(fake_telegram, clock, tmp_path, url) as factory:
        yield factory


async def test_postgres_down_then_up_one_honest_message_and_recovery(
    make_pg_bot: BotFactory, own_pg: pg_server.PgServer
) -> None:
    bot = await make_pg_bot()
    fake = bot.fake
    world = await seed_union(bot.db, fake, bot.clock.now(), members=1)
    carla = world.coordinator
    await carla.send("/team")
    await bot.settle()
    before = len(fake.sent_to(carla))

    await asyncio.to_thread(own_pg.halt)
    try:
        await carla.send(DECISION)
        await fake.wait_for(lambda: _errors(fake, carla), timeout=20)
        await bot.settle()
        await asyncio.sleep(0.3)
        await bot.settle()
        assert [m.text for m in fake.sent_to(carla)[before:]] == [NOT_RECORDED]
        await carla.send("/team")  # every private command: one message each, never two
        await bot.settle()
        assert [m.text for m in fake.sent_to(carla)[before:]] == [NOT_RECORDED] * 2
    finally:
        await asyncio.to_thread(own_pg.resume)

    # The server is back: the bot recovers by itself, nothing was stored meanwhile.
    assert await _decisions(bot) == []
    start = len(fake.sent_to(carla))
    await carla.send(DECISION)
    await bot.settle()
    assert "Decisione registrata" in _texts_since(fake, carla, start)
    await carla.send("/team")
    await bot.settle()
    assert "Carla" in (fake.last_sent(carla).text or "")
    assert await _decisions(bot) == [DECISION.split(" ", 1)[1]]


async def test_a_commit_whose_outcome_is_unknown_is_not_called_lost(
    make_bot: BotFactory,
) -> None:
    """The handler's work is done and the COMMIT fails (a connection lost at that instant: the
    server may have committed). The user is told the truth — the bot does not know — not
    «non ho registrato nulla»."""
    bot = await make_bot()
    fake = bot.fake
    world = await seed_union(bot.db, fake, bot.clock.now(), members=1)
    carla = world.coordinator

    # The transaction that writes a Decision loses its COMMIT. (Told by its flush: once
    # flushed, the Decision need not stay in the session's weak identity map until the commit.)
    writing: set[int] = set()

    def wrote_decision(session: Session, _context: object, _instances: object) -> None:
        if any(isinstance(obj, Decision) for obj in session.new):
            writing.add(id(session))

    def lost_commit(session: Session) -> None:
        if id(session) in writing:
            writing.discard(id(session))
            raise OperationalError(
                "COMMIT", {}, Exception("server closed the connection unexpectedly")
            )

    event.listen(Session, "before_flush", wrote_decision)
    event.listen(Session, "before_commit", lost_commit)
    try:
        start = len(fake.sent_to(carla))
        await carla.send(DECISION)
        await bot.settle()
    finally:
        event.remove(Session, "before_commit", lost_commit)
        event.remove(Session, "before_flush", wrote_decision)
    assert [m.text for m in fake.sent_to(carla)[start:]] == [
        "Qualcosa è andato storto proprio mentre salvavo: non so se è stato registrato. "
        "Controlla prima di riprovare."
    ]
