"""Benchmark: a region — 300 Unions (6,000 members) living a month against the fake Bot API.

    python -m bench.region                         # 300 Unions, SQLite: the month, then the year
    python -m bench.region --postgres              # SQLite and a throwaway PostgreSQL
    python -m bench.region --unions 20 --months 2  # a quick look
    python -m bench.region --quiet-only --compare ../base-main   # the quiet tick, this checkout
                                                                 # against another, side by side

The real bot (`bot.app.build_application`, PTB's AIORateLimiter on, as `python -m bot` runs it)
in this process, against the fake Telegram server (tests/fakes/telegram_server.py) enforcing
Telegram's limits (30/s overall, ~1/s per private chat, 20/min per group; 429 beyond), on an
injected clock: nothing sleeps for simulated minutes. Each Union: 6 Comuni, a coordinator and a
staff member, per Comune a Sindaco, an Assessore and a technician (20 members), 5 actions per
Comune, both groups linked, the automatic monthly poll on (1st, 09:00), the round's defaults,
a PAES approval date (the Covenant clock).

**The month** (January 2027): the clock moves by `--step` (10 simulated minutes) and the tick
runs at each step with sending held back, so its time is the scheduler's own (deciding, opening
polls and rounds, composing messages), not Telegram's pace; then the outbox is sent as the tick
would send it, at the real rate the limiter allows. People act through the database between
ticks: 70 % of the members answer «sì» to the poll's first date as soon as it is out (so it
closes on a date and the round opens from the meeting), half the technicians answer the round
with «nothing new». Reported: messages per second while sending (against 30/s) and the busiest
second, the 429 answers (the target: 0), the tick's time quiet and busy (p50 / max) with its
statements, the longest time the tick held the event loop.

**The year**: the 11 months after are simulated through the same ticks, with the outbox
marked sent in the database instead of going to Telegram (a month at Telegram's pace costs
minutes of real time): the year's data volume through the real scheduled work, not a copy of it.
Reported: the database's size after the year (SQLite: the file after a checkpoint; PostgreSQL:
`pg_database_size`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

START = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)  # 00:00 of 1 January 2027 in Rome
TIMEZONE = "Europe/Rome"
COMUNI = 6
ACTIONS_PER_COMUNE = 5


@dataclass
class Ticks:
    quiet: list[float] = field(default_factory=list)  # seconds
    busy: list[float] = field(default_factory=list)
    quiet_statements: list[int] = field(default_factory=list)
    busy_statements: list[int] = field(default_factory=list)
    longest_hold: float = 0.0  # the longest the tick kept the event loop busy
    longest_cpu_hold: float = 0.0  # the loop thread's CPU in that time (LoopWatch)

    def add(self, seconds: float, statements: int) -> None:
        if statements <= 1:
            self.quiet.append(seconds)
            self.quiet_statements.append(statements)
        else:
            self.busy.append(seconds)
            self.busy_statements.append(statements)


@dataclass
class KindStats:
    runs: int = 0
    longest: float = 0.0
    longest_hold: float = 0.0
    longest_cpu_hold: float = 0.0
    over: float = 0.0  # time in holds over 50 ms, all runs
    holds_over: int = 0


def time_kinds(services: Any, stats: dict[str, KindStats]) -> None:
    """Wrap each kind of due work: its longest run and the longest it held the loop."""

    def timed(name: str, work: Any) -> Any:
        async def run(services: Any, bot: Any, now: datetime) -> None:
            watch = LoopWatch()
            watch.start()
            started = time.perf_counter()
            try:
                await work(services, bot, now)
            finally:
                one = stats.setdefault(name, KindStats())
                one.runs += 1
                one.longest = max(one.longest, time.perf_counter() - started)
                one.longest_hold = max(one.longest_hold, await watch.stop())
                one.longest_cpu_hold = max(one.longest_cpu_hold, watch.longest_cpu)
                one.over += watch.over
                one.holds_over += watch.holds_over

        return run

    services.due_work[:] = [(name, timed(name, work)) for name, work in services.due_work]


@dataclass
class Result:
    backend: str
    unions: int
    members: int
    ticks: Ticks
    messages: int = 0
    send_seconds: float = 0.0
    busiest_second: int = 0
    count_429: int = 0
    by_method: dict[str, int] = field(default_factory=dict)
    months: int = 0
    db_bytes: int = 0
    year_seconds: float = 0.0
    year_ticks: Ticks = field(default_factory=Ticks)
    kinds: dict[str, KindStats] = field(default_factory=dict)
    sizes: list[int] = field(default_factory=list)  # after the seed, then after each month


# --- the region -----------------------------------------------------------------------------


async def seed(database_url: str, fake: Any, unions: int) -> int:
    """Write the Unions through the models; the fake learns their people and groups. Returns
    the number of members."""
    from sqlalchemy import insert

    from storage import migrate
    from storage.db import Database
    from storage.models import (
        Action,
        LinkedChat,
        MeetingSettings,
        Member,
        MemberMunicipality,
        MemberStatus,
        Municipality,
        Person,
        Role,
        TableKind,
        Union,
    )

    now = START - timedelta(days=400)
    db = Database(database_url)
    rows: dict[type, list[dict[str, object]]] = {
        m: []
        for m in (
            Union,
            MeetingSettings,
            Municipality,
            Person,
            Member,
            MemberMunicipality,
            Action,
            LinkedChat,
        )
    }
    pid = aid = cid = 0
    try:
        await migrate.upgrade(db)
        for u in range(1, unions + 1):
            rows[Union].append(
                {
                    "id": u,
                    "name": f"Unione {u:03d}",
                    "timezone": TIMEZONE,
                    "created_at": now,
                    "paes_approved_on": date(2024, 3, 1 + u % 28),
                }
            )
            rows[MeetingSettings].append({"union_id": u, "auto_poll_enabled": True})
            people: list[tuple[Any, Role, int | None, bool]] = []
            for role, coordinator in ((Role.STAFF, True), (Role.STAFF, False)):
                user = fake.add_user(f"Staff{u}{coordinator}", "Bench")
                people.append((user, role, None, coordinator))
            for c in range(COMUNI):
                cid += 1
                rows[Municipality].append(
                    {
                        "id": cid,
                        "union_id": u,
                        "name": f"Comune {u}-{c}",
                        "name_key": f"comune {u}-{c}",
                        "created_at": now,
                    }
                )
                for role in (Role.SINDACO, Role.ASSESSORE, Role.TECNICO):
                    people.append(
                        (fake.add_user(f"{role.value}{u}x{c}", "Bench"), role, cid, False)
                    )
                for a in range(ACTIONS_PER_COMUNE):
                    aid += 1
                    rows[Action].append(
                        {
                            "id": aid,
                            "union_id": u,
                            "code": f"{c}.{a + 1}",
                            "title": f"Azione {a + 1} del Comune {u}-{c}",
                            "municipality_id": cid,
                            "status": "ongoing",
                            "progress": 10 * a,
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
            for user, role, comune, coordinator in people:
                user.has_started = True
                pid += 1
                rows[Person].append(
                    {
                        "id": pid,
                        "telegram_user_id": user.id,
                        "display_name": user.full_name,
                        "telegram_language": "it",
                        "reachable": True,
                        "created_at": now,
                    }
                )
                rows[Member].append(
                    {
                        "id": pid,
                        "union_id": u,
                        "person_id": pid,
                        "role": role,
                        "status": MemberStatus.ACTIVE,
                        "is_coordinator": coordinator,
                        "requested_at": now,
                        "decided_at": now,
                    }
                )
                if comune is not None:
                    rows[MemberMunicipality].append({"member_id": pid, "municipality_id": comune})
            users = [p[0] for p in people]
            political = [p[0] for p in people if p[1] in (Role.SINDACO, Role.ASSESSORE) or p[3]]
            technical = [p[0] for p in people if p[1] in (Role.TECNICO, Role.STAFF)]
            for table, members in (
                (TableKind.POLITICAL, political),
                (TableKind.TECHNICAL, technical),
            ):
                group = fake.create_group(f"{table.value} {u}", users[0], members=members[1:])
                fake.set_bot_admin(group, can_pin=True)
                rows[LinkedChat].append(
                    {
                        "union_id": u,
                        "table_kind": table,
                        "chat_id": group.id,
                        "title": group.title,
                        "linked_at": now,
                    }
                )
        async with db.transaction() as session:
            for model, values in rows.items():
                if values:
                    await session.execute(insert(model), values)
        return pid
    finally:
        await db.dispose()


async def people_act(db: Any, now: datetime) -> None:
    """Between ticks: 70 % of the members answer «sì» to an open poll's first date, half the
    technicians answer an open round with «nothing new» (each once)."""
    from sqlalchemy import select

    from storage.models import (
        Answer,
        MeetingPoll,
        Member,
        PollStatus,
        Role,
        RoundResponse,
        RoundStatus,
        Slot,
        UpdateRound,
        Vote,
    )

    async with db.transaction() as session:
        polls = (
            await session.execute(
                select(MeetingPoll.id, MeetingPoll.union_id, func_min(Slot.id))
                .join(Slot, Slot.poll_id == MeetingPoll.id)
                .where(
                    MeetingPoll.status == PollStatus.OPEN,
                    ~select(Vote.id)
                    .join(Slot, Slot.id == Vote.slot_id)
                    .where(Slot.poll_id == MeetingPoll.id)
                    .exists(),
                )
                .group_by(MeetingPoll.id, MeetingPoll.union_id)
            )
        ).all()
        for _poll, union_id, slot_id in polls:
            members = (
                await session.execute(select(Member.id).where(Member.union_id == union_id))
            ).scalars()
            session.add_all(
                Vote(slot_id=slot_id, member_id=m, answer=Answer.YES, updated_at=now)
                for m in members
                if m % 10 < 7
            )
        rounds = (
            await session.execute(
                select(UpdateRound.id, UpdateRound.union_id).where(
                    UpdateRound.status == RoundStatus.OPEN,
                    UpdateRound.opened_at <= now - timedelta(hours=12),
                    ~select(RoundResponse.id)
                    .where(RoundResponse.round_id == UpdateRound.id)
                    .exists(),
                )
            )
        ).all()
        for round_id, union_id in rounds:
            techs = (
                await session.execute(
                    select(Member.id).where(
                        Member.union_id == union_id, Member.role == Role.TECNICO
                    )
                )
            ).scalars()
            session.add_all(
                RoundResponse(round_id=round_id, member_id=m, no_news=True, created_at=now)
                for m in techs
                if m % 2
            )


def func_min(column: Any) -> Any:
    from sqlalchemy import func

    return func.min(column)


# --- measuring --------------------------------------------------------------------------------


class LoopWatch:
    """The longest time the event loop did not come back to a 2 ms sleeper (`longest`, wall
    time), and the most CPU the loop's thread spent in that time (`longest_cpu`). On a shared
    machine a wall hold also counts time the process was not scheduled or the loop waited for
    the GIL held by another thread; the CPU hold is the loop's own work between two turns."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.longest_cpu = 0.0
        self.over = 0.0  # the time spent in holds over 50 ms (less noisy than the longest)
        self.holds_over = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            before, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(0.002)
            late = time.perf_counter() - before - 0.002
            self.longest = max(self.longest, late)
            self.longest_cpu = max(self.longest_cpu, time.thread_time() - cpu)
            if late > 0.05:
                self.over += late
                self.holds_over += 1

    def start(self) -> None:
        self.longest = self.longest_cpu = self.over = 0.0
        self.holds_over = 0
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> float:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        return self.longest


class HoldSampler:
    """Where the loop's own work holds it: a thread watches a heartbeat the loop beats every
    2 ms; while it is older than `threshold` and the loop's thread spent at least half of that
    on the CPU since (its own work, not the OS nor another thread's GIL), the loop thread's
    stack is sampled every `every` seconds, counted by its innermost frames in our code
    (bot/, storage/) and the innermost two. `top()` lists them by samples (≈ time held)."""

    def __init__(self, threshold: float = 0.05, every: float = 0.005) -> None:
        import threading

        self.threshold, self.every = threshold, every
        self.beat, self.beat_cpu = time.perf_counter(), time.thread_time()
        self.samples: dict[str, int] = {}
        self._stop = threading.Event()
        self._loop_thread = threading.get_ident()
        self._loop_cpu = time.pthread_getcpuclockid(self._loop_thread)
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._task: asyncio.Task[None] | None = None

    async def _heart(self) -> None:
        while True:
            self.beat, self.beat_cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(0.002)

    def _watch(self) -> None:
        import traceback

        while not self._stop.wait(self.every):
            if time.perf_counter() - self.beat < self.threshold:
                continue
            if time.clock_gettime(self._loop_cpu) - self.beat_cpu < self.threshold / 2:
                continue
            frame = sys._current_frames().get(self._loop_thread)
            if frame is None:
                continue
            stack = traceback.extract_stack(frame)
            ours = [
                f"{Path(f.filename).name}:{f.lineno} {f.name}"
                for f in stack
                if "/bot/" in f.filename or "/storage/" in f.filename
            ]
            inner = [f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in stack[-2:]]
            key = " > ".join(ours[-3:]) + " >> " + " > ".join(inner)
            self.samples[key] = self.samples.get(key, 0) + 1

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._heart())
        self._thread.start()

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def top(self, n: int = 15) -> list[tuple[str, float]]:
        ranked = sorted(self.samples.items(), key=lambda kv: -kv[1])[:n]
        return [(key, count * self.every) for key, count in ranked]


class GcWatch:
    """The cyclic garbage collector's pauses (they run on whichever thread allocates: mostly the
    loop's): the longest of each generation and their number."""

    def __init__(self) -> None:
        self.longest: dict[int, float] = {}
        self.count: dict[int, int] = {}
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation = info["generation"]
        took = time.perf_counter() - self._started
        self.longest[generation] = max(self.longest.get(generation, 0.0), took)
        self.count[generation] = self.count.get(generation, 0) + 1

    def start(self) -> None:
        import gc

        gc.callbacks.append(self._callback)

    def stop(self) -> None:
        import gc

        gc.callbacks.remove(self._callback)

    def line(self) -> str:
        return ", ".join(
            f"gen {g}: {self.count[g]} × ≤ {self.longest[g] * 1000:.0f} ms"
            for g in sorted(self.count)
        )


def freeze_heap() -> None:
    """As `python -m bot` does once started (bot.app.freeze_heap_after_start): the start-up's
    objects out of the collector's sight. The harness does not (tests build many bots)."""
    import gc

    gc.collect()
    gc.freeze()


class Statements:
    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.count = 0
        self.engine = engine.sync_engine
        event.listen(self.engine, "before_cursor_execute", self._one)

    def _one(self, *_args: Any) -> None:
        self.count += 1

    def close(self) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._one)


async def timed_tick(bot: Any, statements: Statements, ticks: Ticks, watch: LoopWatch) -> bool:
    """One tick with sending held back: the scheduler's own time. True when it was busy."""
    from bot import delivery
    from bot.jobs import run_tick

    services = bot.services
    services.last_poll_ok_at = bot.clock.now()  # polling keeps up: the clock only jumps here
    delivery.allow_sending(services, False)
    before = statements.count
    watch.start()
    started = time.perf_counter()
    try:
        await run_tick(bot.application)
    finally:
        elapsed = time.perf_counter() - started
        ticks.longest_hold = max(ticks.longest_hold, await watch.stop())
        ticks.longest_cpu_hold = max(ticks.longest_cpu_hold, watch.longest_cpu)
        delivery.allow_sending(services, True)
    ticks.add(elapsed, statements.count - before)
    return statements.count - before > 1


async def send_all(bot: Any, result: Result) -> None:
    """Send what the tick queued, at the pace the rate limiter allows (real time)."""
    from bot import delivery

    fake = bot.fake
    sent_before = len(fake.sent_at)
    started = time.perf_counter()
    while await delivery.flush(bot.services, bot.application.bot):
        pass
    if len(fake.sent_at) > sent_before:
        result.send_seconds += time.perf_counter() - started
        result.messages += len(fake.sent_at) - sent_before


async def mark_sent(db: Any, now: datetime) -> None:
    """The year: the outbox's due rows marked sent, as if Telegram took them at once."""
    from sqlalchemy import or_, update

    from storage.models import OutboxMessage, OutboxStatus

    async with db.transaction() as session:
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now),
            )
            # as bot.delivery's finish does: a sent row keeps no file (the pictures, the .ics)
            .values(
                status=OutboxStatus.SENT, message_id=OutboxMessage.id, sent_at=now, file_data=None
            )
        )


async def db_bytes(bot: Any, database_url: str) -> int:
    from sqlalchemy import text

    if bot.db.is_sqlite:
        path = Path(database_url.split("///", 1)[1])
        async with bot.db.transaction() as session:
            await session.execute(text("SELECT 1"))
        await bot.db.checkpoint_truncate()
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    async with bot.db.transaction() as session:
        return int(
            (
                await session.execute(text("SELECT pg_database_size(current_database())"))
            ).scalar_one()
        )


async def outbox_rows(bot: Any) -> int:
    """The outbox's rows (the daily purge deletes the settled ones past 60 days)."""
    from sqlalchemy import func, select

    from storage.models import OutboxMessage

    async with bot.db.transaction() as session:
        return int((await session.execute(select(func.count(OutboxMessage.id)))).scalar_one())


def _load() -> str:
    """The machine's load average (shared: long runs are slower when it is high)."""
    one, five, fifteen = (f"{x:.1f}" for x in __import__("os").getloadavg())
    return f"load {one} {five} {fifteen}"


# --- the run ------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def region_bot(
    database_url: str, args: argparse.Namespace, *, paced: bool = False
) -> AsyncIterator[tuple[Any, int]]:
    """The fake Telegram (enforcing Telegram's limits when `paced`), the region seeded, the real
    bot started on it (AIORateLimiter when `paced`) with its heap frozen as `python -m bot` does;
    (the bot, its number of members). Stopped after."""
    from bench.run import TimedFake
    from bot.clock import FakeClock
    from tests.e2e.harness import BotUnderTest

    fake = TimedFake()
    fake.enforce_rate_limits = paced
    clock = FakeClock(START)
    fake.clock = clock
    await fake.start()
    try:
        members = await seed(database_url, fake, args.unions)
        bot = BotUnderTest(fake, clock, database_url, rate_limiter=paced)
        await bot.start()
        freeze_heap()
        try:
            yield bot, members
        finally:
            await bot.stop()
    finally:
        await fake.stop()


async def live(database_url: str, backend: str, args: argparse.Namespace) -> Result:
    paced = not args.year_only  # --year-only: every month marked sent, no limiter, no pace
    async with region_bot(database_url, args, paced=paced) as (bot, members):
        fake, clock = bot.fake, bot.clock
        statements = Statements(bot.db.engine)
        watch = LoopWatch()
        result = Result(backend, args.unions, members, Ticks())
        result.sizes.append(await db_bytes(bot, database_url))
        time_kinds(bot.services, result.kinds)
        step = timedelta(minutes=args.step)
        month_end = _month_start(2027, 2)
        if args.days:  # a shorter run: the month's first days (polls, closing, the rounds)
            month_end = _month_start(2027, 1) + timedelta(days=args.days)
        try:
            if paced:
                print(
                    f"  {backend}: the month (January 2027), a tick every {args.step} min",
                    flush=True,
                )
            steps = 0
            while paced and clock.now() < month_end:
                clock.advance(step)
                steps += 1
                if await timed_tick(bot, statements, result.ticks, watch):
                    await send_all(bot, result)
                    await people_act(bot.db, clock.now())
                elif steps % 6 == 0:
                    await people_act(bot.db, clock.now())
            if paced:
                result.count_429 = fake.count_429
                result.busiest_second = _busiest_second(fake.sent_at)
                result.by_method = _by_method(fake)
                result.sizes.append(await db_bytes(bot, database_url))
                report([result])
            started = time.perf_counter()
            print(f"  {backend}: the months after, the outbox marked sent", flush=True)
            year_step = timedelta(minutes=args.year_step)
            for month in range(2 if paced else 1, args.months + 1):
                end = _month_start(2027, month + 1)
                while clock.now() < end:
                    clock.advance(year_step)
                    if await timed_tick(bot, statements, result.year_ticks, watch):
                        await mark_sent(bot.db, clock.now())
                        await people_act(bot.db, clock.now())
                result.sizes.append(await db_bytes(bot, database_url))
                y = result.year_ticks
                print(
                    f"  {backend}: month {month} done ({time.perf_counter() - started:.0f} s), "
                    f"database {result.sizes[-1] / 1e6:.1f} MB; so far {len(y.busy)} busy ticks "
                    f"(p50 {_p50(y.busy)} ms, p99 {_ms(y.busy, 0.99)} ms, max {_ms(y.busy, 1)} "
                    f"ms), quiet p50 {_p50(y.quiet)} ms, longest loop hold "
                    f"{y.longest_hold * 1000:.0f} ms (CPU {y.longest_cpu_hold * 1000:.0f} ms); "
                    f"outbox rows {await outbox_rows(bot)}; {_load()}",
                    flush=True,
                )
            result.year_seconds = time.perf_counter() - started
            result.months = args.months
            result.db_bytes = result.sizes[-1]
        finally:
            statements.close()
        return result


def _month_start(year: int, month: int) -> datetime:
    """The first of `month` (counted from January of `year`, past 12 into the next years),
    00:00 in Rome."""
    from zoneinfo import ZoneInfo

    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=ZoneInfo(TIMEZONE))


def _busiest_second(sent_at: list[float]) -> int:
    best = 0
    j = 0
    for i, at in enumerate(sent_at):
        while sent_at[j] < at - 1.0:
            j += 1
        best = max(best, i - j + 1)
    return best


def _by_method(fake: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for call in fake.calls:
        if call.method != "getUpdates" and call.ok:
            out[call.method] = out.get(call.method, 0) + 1
    return out


async def quiet_only(database_url: str, args: argparse.Namespace) -> Ticks:
    """The region in mid-January (polls open, rounds open, meetings ahead) and then quiet
    ticks: their time and statements. Runs against whatever `bot` this process imports."""
    async with region_bot(database_url, args) as (bot, _members):
        clock = bot.clock
        statements = Statements(bot.db.engine)
        watch = LoopWatch()
        warm, ticks = Ticks(), Ticks()
        kinds: dict[str, KindStats] = {}
        time_kinds(bot.services, kinds)
        try:
            clock.advance(hours=9, minutes=5)  # the polls open
            for n in range(4):
                await timed_tick(bot, statements, warm, watch)
                if n == 0:
                    _opening_line("POLLS", args, warm, kinds, "meetings.monthly_poll")
                await send_all(bot, Result("", 0, 0, Ticks()))
                await people_act(bot.db, clock.now())
                clock.advance(minutes=1)
            for _ in range(args.quiet_ticks):
                clock.advance(minutes=1)
                before = statements.count
                started = time.perf_counter()
                await timed_tick(bot, statements, Ticks(), watch)
                ticks.quiet.append(time.perf_counter() - started)
                ticks.quiet_statements.append(statements.count - before)
            # The polls' deadline: the polls close on a date, the rounds open (one tick).
            async with bot.db.transaction() as session:
                deadline = (await session.execute(text_min_deadline())).scalar_one()
            clock.set(deadline + timedelta(minutes=1))
            kinds.clear()
            closing = Ticks()
            await timed_tick(bot, statements, closing, watch)
            _opening_line("ROUNDS", args, closing, kinds, "update_rounds_open")
        finally:
            statements.close()
        return ticks


async def holds_only(database_url: str, backend: str, args: argparse.Namespace) -> None:
    """The month's busy ticks, one each, and how long each kind of work held the event loop:
    the polls' opening (1st, 09:05), their close on a date with the rounds' opening, the
    rounds' deadline with the scheduled summaries. Sent without Telegram's limits (the fake
    answers at once): the holds are the bot's own. `--stacks`: where the holds over 50 ms went."""
    from sqlalchemy import func, select

    from storage.models import UpdateRound

    async with region_bot(database_url, args) as (bot, _members):
        clock = bot.clock
        statements = Statements(bot.db.engine)
        watch = LoopWatch()
        collector = GcWatch()
        sampler = HoldSampler() if args.stacks else None
        if sampler is not None:
            sampler.start()
        kinds: dict[str, KindStats] = {}
        time_kinds(bot.services, kinds)
        try:

            async def phase(label: str) -> None:
                kinds.clear()
                ticks = Ticks()
                collector.longest.clear()
                collector.count.clear()
                collector.start()
                try:
                    await timed_tick(bot, statements, ticks, watch)
                finally:
                    collector.stop()
                await send_all(bot, Result("", 0, 0, Ticks()))
                await people_act(bot.db, clock.now())
                print(
                    f"HOLDS {backend} {args.unions} {label}: tick {(ticks.busy or ticks.quiet)[-1]:.2f} s, "
                    f"longest loop hold {ticks.longest_hold * 1000:.0f} ms "
                    f"(CPU {ticks.longest_cpu_hold * 1000:.0f} ms); "
                    + ", ".join(
                        f"{name} {k.longest_hold * 1000:.0f} ms (CPU "
                        f"{k.longest_cpu_hold * 1000:.0f} ms; {k.holds_over} holds > 50 ms, "
                        f"{k.over * 1000:.0f} ms in all; ran {k.longest:.1f} s)"
                        for name, k in sorted(kinds.items(), key=lambda kv: -kv[1].longest_hold)
                        if k.longest_hold >= 0.02
                    )
                    + f"; garbage collections: {collector.line()}",
                    flush=True,
                )

            clock.advance(hours=9, minutes=5)
            await phase("polls open")
            async with bot.db.transaction() as session:
                deadline = (await session.execute(text_min_deadline())).scalar_one()
            clock.set(deadline + timedelta(minutes=1))
            await phase("polls close, rounds open")
            clock.advance(hours=13)
            await people_act(bot.db, clock.now())
            async with bot.db.transaction() as session:
                deadline = (
                    await session.execute(select(func.max(UpdateRound.deadline_at)))
                ).scalar_one()
            clock.set(deadline + timedelta(minutes=1))
            await phase("rounds close, summaries")
        finally:
            statements.close()
            if sampler is not None:
                await sampler.stop()
                for key, seconds in sampler.top():
                    print(f"STACK {backend} {seconds * 1000:>6.0f} ms  {key}", flush=True)


def text_min_deadline() -> Any:
    from sqlalchemy import func, select

    from storage.models import MeetingPoll

    return select(func.max(MeetingPoll.deadline_at))  # every Union's poll: the same deadline


def _opening_line(
    label: str, args: argparse.Namespace, ticks: Ticks, kinds: dict[str, KindStats], kind: str
) -> None:
    seconds = (ticks.busy or ticks.quiet)[-1]
    statements = (ticks.busy_statements or ticks.quiet_statements)[-1]
    one = kinds.get(kind, KindStats())
    print(
        f"{label} {args.unions} tick_s={seconds:.2f} statements={statements} "
        f"loop_hold_ms={ticks.longest_hold * 1000:.0f} {kind}_s={one.longest:.2f} "
        f"{kind}_hold_ms={one.longest_hold * 1000:.0f} holds: "
        + ", ".join(
            f"{name} {k.longest_hold * 1000:.0f} ms"
            for name, k in sorted(kinds.items(), key=lambda kv: -kv[1].longest_hold)[:3]
        ),
        flush=True,
    )


def _ms(values: list[float], q: float) -> str:
    if not values:
        return "—"
    if q >= 1:
        return f"{max(values) * 1000:.1f}"
    if len(values) < 3:
        return f"{statistics.median(values) * 1000:.1f}"
    cut = statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]
    return f"{cut * 1000:.1f}"


def _p50(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f}" if values else "—"


def _stmts(values: list[int]) -> str:
    if not values:
        return "—"
    return f"{min(values)}–{max(values)}" if min(values) != max(values) else str(values[0])


async def main_async(args: argparse.Namespace) -> None:
    from bench.run import Databases, machine

    backends = ["sqlite", "postgres"] if args.postgres else ["sqlite"]
    if args.only:
        backends = [args.only]
    workroot = Path(tempfile.mkdtemp(prefix="bench-region-"))
    dbs = Databases()
    try:
        if args.holds:
            for backend in backends:
                workdir = workroot / backend
                workdir.mkdir()
                await holds_only(await dbs.url(backend, workdir), backend, args)
            return
        if args.quiet_only:
            for backend in backends:
                workdir = workroot / backend
                workdir.mkdir()
                ticks = await quiet_only(await dbs.url(backend, workdir), args)
                print(
                    f"QUIET {backend} {args.unions} p50_ms={_p50(ticks.quiet)} "
                    f"max_ms={max(ticks.quiet) * 1000:.1f} statements={_stmts(ticks.quiet_statements)}",
                    flush=True,
                )
            return
        print(
            f"# {machine()}; {args.unions} Unions × 20 "
            f"members; the real bot in-process "
            + (
                "without a rate limiter, every month's outbox marked sent (--year-only)"
                if args.year_only
                else "with AIORateLimiter, the fake enforcing Telegram's limits"
            ),
            flush=True,
        )
        results = []
        for backend in backends:
            workdir = workroot / backend
            workdir.mkdir()
            results.append(await live(await dbs.url(backend, workdir), backend, args))
    finally:
        dbs.close()
        shutil.rmtree(workroot, ignore_errors=True)
    for r in results:
        y = r.year_ticks
        kinds_table(r)
        print(
            f"  {r.backend}: the months after the first: {len(y.quiet)} quiet ticks (p50 "
            f"{_p50(y.quiet)} ms), {len(y.busy)} busy (p50 {_p50(y.busy)} ms, max "
            f"{_ms(y.busy, 1)} ms), longest loop hold {y.longest_hold * 1000:.0f} ms; database by "
            f"month: {', '.join(f'{b / 1e6:.1f}' for b in r.sizes)} MB (the seed first)"
        )
        growth = _monthly_growth(r.sizes)
        if growth is not None and r.months < 12:  # a year simulated needs no extrapolation
            print(
                f"  {r.backend}: a year at the last month's growth: "
                f"{(r.sizes[0] + 12 * growth) / 1e6:.1f} MB"
            )


def _monthly_growth(sizes: list[int]) -> float | None:
    """Bytes a month adds once the region runs (the months after the first, whose database
    also holds the first's start-up); None with a single month."""
    if len(sizes) < 3:
        return float(sizes[1] - sizes[0]) if len(sizes) == 2 else None
    return (sizes[-1] - sizes[1]) / (len(sizes) - 2)


def report(results: list[Result]) -> None:
    print()
    print(
        "| database | Unions | members | messages | msg/s while sending (limit 30) | busiest second "
        "| 429 | quiet tick p50 / p99 / max (statements) | busy tick p50 / p99 / max (statements) "
        "| longest loop hold | database |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        t = r.ticks
        rate = r.messages / r.send_seconds if r.send_seconds else 0.0
        print(
            f"| {r.backend} | {r.unions} | {r.members} | {r.messages} | {rate:.1f} "
            f"| {r.busiest_second} | {r.count_429} "
            f"| {_p50(t.quiet)} / {_ms(t.quiet, 0.99)} / {_ms(t.quiet, 1)} ms "
            f"({_stmts(t.quiet_statements)}) "
            f"| {_p50(t.busy)} / {_ms(t.busy, 0.99)} / {_ms(t.busy, 1)} ms "
            f"({_stmts(t.busy_statements)}) "
            f"| {t.longest_hold * 1000:.0f} ms (CPU {t.longest_cpu_hold * 1000:.0f} ms) "
            f"| {r.sizes[-1] / 1e6:.1f} MB after the month |"
        )
    for r in results:
        kinds_table(r)
        print(f"  {r.backend}: calls to Telegram in the month: {r.by_method}", flush=True)


def kinds_table(r: Result) -> None:
    print(
        f"  {r.backend}: the tick's work so far (runs, longest, longest loop hold, "
        "the loop thread's CPU in it):"
    )
    for name, k in sorted(r.kinds.items(), key=lambda kv: -kv[1].longest_hold):
        print(
            f"    {name:<32} {k.runs:>5} runs, {k.longest * 1000:>7.0f} ms, "
            f"{k.longest_hold * 1000:>5.0f} ms, {k.longest_cpu_hold * 1000:>5.0f} ms CPU",
            flush=True,
        )


def compare_quiet(args: argparse.Namespace) -> None:
    """The quiet tick (or with --holds the busy ticks' loop holds) of this checkout and of
    `--compare`, each in a process of its own."""
    here = Path(__file__).resolve().parents[1]
    for label, code in (("this checkout", here), ("compare", Path(args.compare).resolve())):
        cmd = [
            sys.executable,
            str(here / "bench" / "region.py"),
            "--quiet-only",
            "--code",
            str(code),
            "--unions",
            str(args.unions),
            "--quiet-ticks",
            str(args.quiet_ticks),
        ]
        cmd += ["--postgres"] if args.postgres else []
        cmd += ["--holds"] if args.holds else []
        cmd += ["--stacks"] if args.stacks else []
        out = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=here)
        lines = [
            line
            for line in out.stdout.splitlines()
            if line.startswith(("QUIET", "POLLS", "ROUNDS", "HOLDS", "STACK"))
        ]
        if out.returncode or not lines:
            print(out.stdout[-2000:], out.stderr[-4000:])
            raise SystemExit(f"{label} failed")
        for line in lines:
            print(f"{label:>14} ({code}): {line}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="A region's load (see bench/README.md)")
    parser.add_argument("--unions", type=int, default=300)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    parser.add_argument("--step", type=float, default=10, help="simulated minutes per tick")
    parser.add_argument("--year-step", type=float, default=60, help="the year's tick, minutes")
    parser.add_argument("--months", type=int, default=12, help="months simulated in all")
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="one database only")
    parser.add_argument("--days", type=int, help="only the month's first days")
    parser.add_argument(
        "--year-only",
        action="store_true",
        help="the year's data only: every month with the outbox marked sent, no rate limiter",
    )
    parser.add_argument("--quiet-only", action="store_true", help="only the quiet tick")
    parser.add_argument("--quiet-ticks", type=int, default=20)
    parser.add_argument(
        "--holds", action="store_true", help="only the month's busy ticks: the loop's holds"
    )
    parser.add_argument("--stacks", action="store_true", help="where holds over 50 ms went")
    parser.add_argument("--compare", help="another checkout: its quiet tick side by side")
    parser.add_argument("--code", help=argparse.SUPPRESS)  # the checkout whose bot is imported
    args = parser.parse_args()
    if args.compare:
        compare_quiet(args)
        return
    asyncio.run(main_async(args))


if __name__ == "__main__":
    # `python bench/region.py --code <checkout>`: that checkout's bot, this benchmark.
    _code = sys.argv[sys.argv.index("--code") + 1] if "--code" in sys.argv else None
    _root = str(Path(__file__).resolve().parents[1])
    sys.path[:0] = [p for p in (_code, _root) if p]
    main()
