"""The real bot, end to end: `build_application` against the fake Bot API over HTTP.

```python
async def test_story(bot: BotUnderTest) -> None:
    fake = bot.fake
    mario = fake.add_user("Mario", "Rossi")
    await mario.send("/start")
    await bot.settle()
    assert "Team energia" in fake.last_sent(mario).text
    await bot.advance(days=1)          # move the injected clock and run the scheduler tick
    await bot.restart()                # a new Application on the same database
```

Nothing sleeps for real minutes: the clock is a FakeClock shared by the bot and the fake server,
the scheduler tick is called by the test (`tick`/`advance`), and one-off JobQueue jobs (e.g. a
coalesced poll edit due in a second) can be run at once with `run_jobs()`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from telegram.ext import Application

from bot.app import ALLOWED_UPDATES, build_application, on_shutdown, on_startup
from bot.clock import FakeClock
from bot.config import Settings
from bot.context import Services, services_of
from bot.jobs import TICK_JOB_NAME, run_tick
from storage.db import Database
from tests.fakes.telegram_server import FakeTelegram

logger = logging.getLogger(__name__)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


class BotUnderTest:
    def __init__(
        self,
        fake: FakeTelegram,
        clock: FakeClock,
        database_url: str,
        *,
        admin_ids: frozenset[int] = frozenset(),
        rate_limiter: bool = False,
    ) -> None:
        self.fake = fake
        self.clock = clock
        self.settings = Settings(
            token=fake.token,
            database_url=database_url,
            base_url=fake.base_url,
            base_file_url=fake.base_file_url,
            admin_ids=admin_ids,
            tick_seconds=0,  # the test drives the tick
        )
        self.rate_limiter = rate_limiter
        self.app: AnyApplication | None = None
        self.starts = 0
        self._idle: Callable[[], bool] | None = None

    @property
    def application(self) -> AnyApplication:
        if self.app is None:
            raise RuntimeError("bot not started")
        return self.app

    @property
    def services(self) -> Services:
        return services_of(self.application)

    @property
    def db(self) -> Database:
        return self.services.db

    async def start(self) -> AnyApplication:
        app = build_application(self.settings, clock=self.clock, rate_limiter=self.rate_limiter)

        def bot_has_no_update_nor_background_task() -> bool:  # named in settle()'s timeout
            return (
                app.update_queue.empty()
                and app.update_processor.current_concurrent_updates == 0
                and not services_of(app).background_tasks
            )

        self._idle = self.fake.add_idle_check(bot_has_no_update_nor_background_task)
        await app.initialize()
        await on_startup(app)  # run_polling would call it as post_init
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES)
        self.app = app
        self.starts += 1
        return app

    async def stop(self) -> None:
        app = self.app
        if app is None:
            return
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        await on_shutdown(app)
        if self._idle is not None:  # the next start watches its own application
            self.fake.remove_idle_check(self._idle)
            self._idle = None
        self.app = None

    async def restart(self) -> AnyApplication:
        await self.settle()
        await self.stop()
        return await self.start()

    async def settle(self) -> None:
        await self.fake.settle()

    async def tick(self) -> None:
        """One scheduler tick at the clock's current time, then wait for its effects."""
        await self.settle()
        await run_tick(self.application)
        await self.settle()

    async def advance(self, delta: timedelta | None = None, **kwargs: float) -> None:
        """Move the clock, then tick (what the periodic job would do at that moment)."""
        self.clock.advance(delta, **kwargs)
        await self.tick()

    async def run_jobs(self) -> None:
        """Run pending one-off JobQueue jobs now (e.g. coalesced edits) instead of waiting."""
        job_queue = self.application.job_queue
        assert job_queue is not None
        for job in job_queue.jobs():
            if job.name != TICK_JOB_NAME:
                await job.run(self.application)
                # The scheduler may have run and dropped a one-off job meanwhile (a loaded
                # machine): it is gone either way.
                with contextlib.suppress(JobLookupError):
                    job.schedule_removal()
        await self.settle()
