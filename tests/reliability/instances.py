"""Two instances of the bot on one PostgreSQL, in webhook mode behind a reverse proxy, living
the scripted month of crash_month; the one that runs the scheduled work is SIGKILLed mid-month.

As a region would deploy it: both `python -m bot` children set the same public WEBHOOK_URL,
which is a small round-robin proxy in this process (nginx's job: an update goes to one
instance, to the other if that one does not answer); each listens on its own PORT. Exactly
one holds the scheduler's advisory lock. At the poll's deadline — the tick is then closing the
poll, announcing the meeting and opening the round — the holder is killed; the other must take
the lock within two ticks; the killed one comes back later as a stand-by. At the end
crash_month's checks hold (each scheduled post sent once, or uncertain and reported; every
confirmed vote and answer stored), and both instances served updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from aiohttp import ClientError, ClientSession, web

from storage import migrate
from storage.db import Database
from tests.fakes.telegram_server import FakeTelegram
from tests.reliability.crash import TOKEN, BotProcess, _read_log, check_no_connections_left
from tests.reliability.crash_month import (
    CLOCK_ENV,
    START,
    Month,
    MonthClock,
    MonthReport,
    _check,
    seed_team,
)

SECRET = "instances-webhook-secret_0123456789"
HOLDER = "Scheduler: this instance runs the scheduled work"
STANDBY = "Scheduler: another instance runs the scheduled work"


class RoundRobinProxy:
    """A reverse proxy on 127.0.0.1: each POST to the next backend, the other on failure."""

    def __init__(self) -> None:
        self.backends: list[str] = []
        self.served: dict[str, int] = {}
        self._next = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/telegram", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._session = ClientSession()

    async def stop(self) -> None:
        await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram"

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() in ("content-type", "x-telegram-bot-api-secret-token")
        }
        for attempt in range(len(self.backends)):
            backend = self.backends[(self._next + attempt) % len(self.backends)]
            try:
                async with self._session.post(backend, data=body, headers=headers) as response:
                    status = response.status
            except ClientError:
                continue
            self._next = (self._next + attempt + 1) % len(self.backends)
            if status < 500:
                self.served[backend] = self.served.get(backend, 0) + 1
            return web.Response(status=status)
        return web.Response(status=502)


@dataclass
class InstancesReport:
    month: MonthReport
    takeover_seconds: float | None = None
    served: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _stamp(line: str) -> datetime:
    return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")


async def _wait_line(log: Path, text: str, *, since: int = 0, timeout: float = 60) -> str:  # noqa: ASYNC109
    async with asyncio.timeout(timeout):
        while True:
            for line in _read_log(log)[since:].splitlines():
                if text in line:
                    return line
            await asyncio.sleep(0.02)


async def run_two_instances(
    workdir: Path, *, database_url: str, seed: int = 7, tick: float = 1.0
) -> InstancesReport:
    rng = random.Random(seed)
    workdir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
    clock = MonthClock(workdir / "clock.txt", START)
    fake = FakeTelegram(token=TOKEN, clock=clock.fake)
    await fake.start()
    proxy = RoundRobinProxy()
    await proxy.start()
    db = Database(database_url)
    month_report = MonthReport(seed=seed)
    report = InstancesReport(month=month_report)
    bots: list[BotProcess] = []
    try:
        await migrate.upgrade(db)
        team = await seed_team(db, fake, clock.now() - timedelta(days=3), comuni=3)
        for method in ("sendMessage", "sendDocument", "sendPhoto"):
            fake.stall_next(method, seconds=0.1, deliver=True, count=10**9)
        for name in ("a", "b"):
            port = _free_port()
            bot = BotProcess(fake, database_url, workdir, workdir / f"{name}.log")
            bot.env |= {
                CLOCK_ENV: str(clock.path),
                "TICK_SECONDS": str(tick),
                "HEALTH_FILE": str(workdir / f"{name}-health.json"),
                "WEBHOOK_URL": proxy.url,
                "WEBHOOK_SECRET": SECRET,
                "WEBHOOK_LISTEN": "127.0.0.1",
                "PORT": str(port),
            }
            proxy.backends.append(f"http://127.0.0.1:{port}/telegram")
            bots.append(bot)
        a, b = bots
        await a.start()
        await _wait_line(a.log, HOLDER)
        await b.start()
        await _wait_line(b.log, STANDBY)
        month = Month(fake, db, a, clock, team, rng, month_report)
        killer = asyncio.create_task(_kill_the_holder(month, a, b, report, tick))
        try:
            await month.run()
        except TimeoutError:
            pass  # already a problem in the report
        finally:
            await asyncio.gather(killer, return_exceptions=True)
            if not killer.cancelled() and killer.exception() is not None:
                report.problems.append(f"killer: {killer.exception()!r}")
        with contextlib.suppress(TimeoutError):
            await month.drain()
        await fake.settle(timeout=30)
        for bot in bots:
            await bot.stop()
        await _check(db, fake, month, a.log, month_report)
        text_b = _read_log(b.log)
        if TOKEN in text_b or TOKEN.split(":")[1] in text_b:
            report.problems.append("the token appears in the second instance's log")
        if "Traceback" in text_b and "Error handling update" not in text_b:
            report.problems.append("a traceback in the second instance's log")
        report.served = dict(proxy.served)
        await db.dispose()
        await check_no_connections_left(database_url, report.problems)
    finally:
        for bot in bots:
            await bot.kill()
        await db.dispose()
        await proxy.stop()
        await fake.stop()
    return report


async def _kill_the_holder(
    month: Month, a: BotProcess, b: BotProcess, report: InstancesReport, tick: float
) -> None:
    """At the poll's deadline (the clock's move after the reminders), kill `a`, the holder;
    time how long `b` takes to hold the lock; bring `a` back as a stand-by."""
    async with asyncio.timeout(300):
        while "poll reminders" not in month.report.phases:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        reminders_at = month.clock.now()
        while month.clock.now() == reminders_at:  # noqa: ASYNC110 (the next move: the deadline)
            await asyncio.sleep(0.01)
    await asyncio.sleep(month.rng.uniform(0.05, 0.6))
    if HOLDER in _read_log(b.log):
        report.problems.append("the stand-by held the lock before the holder died")
    mark_b = len(_read_log(b.log))
    killed_at = datetime.now()
    await a.kill()
    month.report.kills += 1
    line = await _wait_line(b.log, HOLDER, since=mark_b, timeout=30)
    report.takeover_seconds = (_stamp(line) - killed_at).total_seconds()
    await asyncio.sleep(2 * tick)
    mark_a = len(_read_log(a.log))
    await a.start()
    await _wait_line(a.log, STANDBY, since=mark_a, timeout=60)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
