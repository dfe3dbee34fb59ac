"""Kill the real bot process (SIGKILL) at random moments while it works, restart it, check.

The bot runs as `python -m bot` in a child process, against the fake Telegram served by this
process and a database: a SQLite file, or a fresh PostgreSQL database when the caller names one
(`tests.pg_server.create_database`). While the bot runs, this process keeps adding outbox work (a
concurrent writer, as a feature's transaction would be) and people press `/lingua` buttons.
After the last restart the bot drains its outbox and the checks run:

- no outbox message reached Telegram twice, none is left pending or in `sending`;
- every message is `sent` (and delivered once, with the stored message id) or `uncertain`
  (delivered at most once) and then reported to the coordinator by a report in the outbox;
- every button press the bot confirmed with its toast is in the database;
- no log line of the child contains the token.

On PostgreSQL a kill leaves what a crashed server process of ours leaves: connections gone
mid-transaction, which the server rolls back, and a restarted bot that opens a fresh pool. The
bot's transactions last milliseconds, so a kill would seldom find one open: meanwhile this
process holds locks in pulses (`lock_pulses`: a table locked, or its rows locked FOR UPDATE,
for up to half a second, as a migration or an operator's query would), and the bot's
transactions wait inside them, open, when a kill lands.

Used by `tests/reliability/test_crash.py` (a few seeds, CI) and `scripts/crash_soak.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.config import normalize_database_url
from storage import migrate
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus, Person
from tests import pg_server
from tests.fakes.fake_world import FakePress, FakeUser
from tests.fakes.telegram_server import FakeTelegram
from tests.reliability.world import World, enqueue_texts, seed_union

REPO = Path(__file__).resolve().parents[2]
TOKEN = "987654321:AAE-crash-test-token_abcdefghijklmnopqrstuv"
_KEY = re.compile(r"\[(c\d+b?:\d+)\]")
_CONFIRMED = {"Lingua aggiornata.": "it", "Language updated.": "en"}


def sqlite_url(workdir: Path) -> str:
    return normalize_database_url(f"sqlite:///{workdir / 'bot.db'}")


async def lock_pulses(database_url: str, seed: int, tables: tuple[str, ...]) -> None:
    """Until cancelled (PostgreSQL): now and then, lock one of `tables` for a moment, the whole
    table EXCLUSIVE (reads go on, writes wait) or all its rows FOR UPDATE (which waits for, and
    holds off, FOR KEY SHARE too). A pulse that cannot have its lock within 0.3 s gives up."""
    if make_url(database_url).get_backend_name() != "postgresql":
        return
    rng = random.Random(seed * 7919)  # its own: the scenario's draws stay those of SQLite
    conn = await pg_server.connect(database_url)
    try:
        await conn.execute("SET lock_timeout = '300ms'")
        while True:
            await asyncio.sleep(rng.uniform(0.1, 0.8))
            table = rng.choice(tables)
            if rng.random() < 0.5:
                statement = f"LOCK TABLE {table} IN EXCLUSIVE MODE"
            else:
                statement = f"SELECT 1 FROM {table} FOR UPDATE"
            hold = rng.uniform(0.05, 0.5)
            with contextlib.suppress(Exception):
                async with conn.transaction():
                    await conn.execute(statement)
                    await asyncio.sleep(hold)
    except asyncio.CancelledError:
        pass
    finally:
        await conn.close()


async def check_no_connections_left(database_url: str, problems: list[str]) -> None:
    """PostgreSQL, once the bot has stopped and the parent closed its pool: the server holds no
    connection to the database any more (those of killed bots ended with them), none waits on
    a lock."""
    if make_url(database_url).get_backend_name() != "postgresql":
        return
    conn = await pg_server.connect(database_url)
    try:
        left: list[Any] = []
        for _ in range(50):
            left = await conn.fetch(
                "SELECT pid, state, wait_event_type, left(query, 60) AS query"
                " FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if not left:
                return
            await asyncio.sleep(0.1)
        for row in left:
            problems.append(
                f"a connection left on PostgreSQL: pid {row['pid']}, {row['state']}, "
                f"waiting on {row['wait_event_type']}: {row['query']}"
            )
    finally:
        await conn.close()


@dataclass
class CrashReport:
    seed: int
    kills: int
    messages: int
    sent: int = 0
    uncertain: int = 0
    reports_sent: int = 0
    presses_confirmed: int = 0
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"seed {self.seed}: {self.kills} kills, {self.messages} messages → {self.sent} sent, "
            f"{self.uncertain} uncertain (reported), {self.reports_sent} reports, "
            f"{self.presses_confirmed} confirmed presses; "
            + ("OK" if not self.problems else f"{len(self.problems)} PROBLEMS")
        )


class BotProcess:
    def __init__(self, fake: FakeTelegram, database_url: str, workdir: Path, log: Path) -> None:
        self.env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": fake.base_url,
            "TELEGRAM_BASE_FILE_URL": fake.base_file_url,
            "DATABASE_URL": database_url,
            "TICK_SECONDS": "0.2",
            "HEALTH_FILE": str(workdir / "health.json"),
            "LOG_LEVEL": "INFO",
            "PYTHONPATH": str(REPO),
        }
        self.workdir = workdir
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                cwd=self.workdir,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(15):
                await self.proc.wait()
        except TimeoutError:
            await self.kill()


async def _press_languages(
    fake: FakeTelegram, world: World, rng: random.Random, presses: list[tuple[int, FakePress]]
) -> None:
    """People ask for /lingua and press a language, as long as the bot answers."""
    users = [world.coordinator, *world.members]
    with contextlib.suppress(TimeoutError, asyncio.CancelledError):
        while True:
            user = rng.choice(users)
            before = len(fake.sent_to(user))
            await user.send("/lingua")

            def answered(u: FakeUser = user, b: int = before) -> bool:
                return len(fake.sent_to(u)) > b

            await fake.wait_for(answered, timeout=5)
            menu = fake.last_sent(user)
            if not menu.buttons:
                continue
            press = await user.press(menu, rng.choice(["🇮🇹 Italiano", "🇬🇧 English"]))
            presses.append((user.id, press))
            await asyncio.sleep(rng.uniform(0.05, 0.3))


async def run_crash_scenario(
    workdir: Path,
    *,
    seed: int,
    kills: int = 4,
    users: int = 5,
    database_url: str | None = None,
) -> CrashReport:
    """One seed; on `database_url` (an empty database: a fresh PostgreSQL one, say), else on a
    SQLite file in `workdir`."""
    rng = random.Random(seed)
    os.makedirs(workdir, exist_ok=True)
    database_url = database_url or sqlite_url(workdir)
    log = workdir / "bot.log"
    fake = FakeTelegram(token=TOKEN)
    await fake.start()
    db = Database(database_url)
    report = CrashReport(seed=seed, kills=kills, messages=0)
    presses: list[tuple[int, FakePress]] = []
    pulses: asyncio.Task[None] | None = None
    try:
        await migrate.upgrade(db)
        now = datetime.now(UTC)
        world = await seed_union(db, fake, now, members=users)
        # Each answer takes a while: a kill often lands while a send is in flight.
        fake.stall_next("sendMessage", seconds=0.03, deliver=True, count=10**9)
        pulses = asyncio.create_task(
            lock_pulses(database_url, seed, ("processed_update", "person", "outbox_message"))
        )
        bot = BotProcess(fake, database_url, workdir, log)
        for round_no in range(kills + 1):
            await enqueue_texts(db, world, datetime.now(UTC), key=f"c{round_no}", text="Promemoria")
            await enqueue_texts(
                db, world, datetime.now(UTC), key=f"c{round_no}b", text="Riunione confermata"
            )
            report.messages += 2 * users
            await bot.start()
            clicker = asyncio.create_task(_press_languages(fake, world, rng, presses))
            if round_no < kills:
                await asyncio.sleep(rng.uniform(0.3, 3.5))
                await bot.kill()
                clicker.cancel()
                await asyncio.gather(clicker, return_exceptions=True)
                continue
            # Last round: let it drain, then stop politely.
            await asyncio.sleep(1.0)
            clicker.cancel()
            pulses.cancel()
            await asyncio.gather(clicker, pulses, return_exceptions=True)
            pulses = None
            await _drained(db, timeout=60)
            await fake.settle(timeout=30)
            await bot.stop()
        await _check(db, fake, world, presses, log, report)
        await db.dispose()
        await check_no_connections_left(database_url, report.problems)
    finally:
        if pulses is not None:
            pulses.cancel()
            await asyncio.gather(pulses, return_exceptions=True)
        await db.dispose()
        await fake.stop()
    return report


async def _drained(db: Database, *, timeout: float) -> None:  # noqa: ASYNC109
    async with asyncio.timeout(timeout):
        while True:
            async with db.transaction() as session:
                rows = list((await session.execute(select(OutboxMessage))).scalars())
            busy = [
                r
                for r in rows
                if r.status in (OutboxStatus.PENDING, OutboxStatus.SENDING)
                or (r.status == OutboxStatus.UNCERTAIN and r.union_id and r.reported_at is None)
            ]
            if not busy:
                return
            await asyncio.sleep(0.2)


async def _check(
    db: Database,
    fake: FakeTelegram,
    world: World,
    presses: list[tuple[int, FakePress]],
    log: Path,
    report: CrashReport,
) -> None:
    problems = report.problems
    async with db.transaction() as session:
        rows = list((await session.execute(select(OutboxMessage))).scalars())
        people = {p.telegram_user_id: p for p in (await session.execute(select(Person))).scalars()}
    delivered: dict[str, list[int]] = {}
    for user in world.members:
        for msg in fake.sent_to(user):
            for key in _KEY.findall(msg.text or ""):
                delivered.setdefault(key, []).append(msg.message_id)
    business = [r for r in rows if _KEY.fullmatch(f"[{r.dedup_key}]")]
    reports = [r for r in rows if r.dedup_key.startswith("report:")]
    # Whatever the features' scheduled work queued meanwhile must be settled too.
    for row in rows:
        if row.status in (OutboxStatus.PENDING, OutboxStatus.SENDING):
            problems.append(f"{row.dedup_key} left {row.status}")
    if len(business) != report.messages:
        problems.append(f"{len(business)} rows for {report.messages} messages queued")
    for row in business:
        got = delivered.get(row.dedup_key, [])
        if len(got) > 1:
            problems.append(f"{row.dedup_key} delivered {len(got)} times")
        if row.status == OutboxStatus.SENT:
            report.sent += 1
            if got != [row.message_id]:
                problems.append(f"{row.dedup_key} sent as {row.message_id}, Telegram has {got}")
        elif row.status == OutboxStatus.UNCERTAIN:
            report.uncertain += 1
            covering = [
                r
                for r in reports
                if r.dedup_key.split(":")[1] == str(row.union_id)
                and _in_span(row.id, r.dedup_key.split(":")[2])
            ]
            if row.reported_at is None or not covering:
                problems.append(f"{row.dedup_key} uncertain and not reported")
            elif not any(r.status in (OutboxStatus.SENT, OutboxStatus.UNCERTAIN) for r in covering):
                problems.append(f"{row.dedup_key}: its report is {covering[0].status}")
        else:
            problems.append(f"{row.dedup_key} ended {row.status} ({row.error})")
    report_texts = [m.text for m in fake.sent_to(world.coordinator) if "Messaggi" in (m.text or "")]
    report_texts += [
        m.text for m in fake.sent_to(world.coordinator) if "Messages to" in (m.text or "")
    ]
    report.reports_sent = sum(1 for r in reports if r.status == OutboxStatus.SENT)
    if len(report_texts) > len(reports):
        problems.append(f"{len(report_texts)} reports delivered for {len(reports)} queued")
    # Every confirmed press is in the database (a later unconfirmed one may have committed too).
    last_confirmed: dict[int, int] = {}
    for n, (user_id, press) in enumerate(presses):
        if press.answer is not None and press.answer.text in _CONFIRMED:
            last_confirmed[user_id] = n
            report.presses_confirmed += 1
    for user_id, n in last_confirmed.items():
        allowed = {_choice(presses[n][1])} | {
            _choice(p) for uid, p in presses[n + 1 :] if uid == user_id
        }
        person = people.get(user_id)
        if person is None or person.language not in allowed:
            problems.append(
                f"user {user_id}: confirmed {_choice(presses[n][1])}, stored "
                f"{person.language if person else None}"
            )
    text = _read_log(log)
    if TOKEN in text or TOKEN.split(":")[1] in text:
        problems.append("the token appears in the bot's log")
    if "Traceback" in text and "Error handling update" not in text:
        problems.append("a traceback in the bot's log")


def _read_log(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def _choice(press: FakePress) -> str:
    return "en" if press.data.endswith(":en") else "it"


def _in_span(row_id: int, span: str) -> bool:
    low, _, high = span.partition("-")
    return int(low) <= row_id <= int(high)
