"""The rhythm: one periodic tick asks the database what is due by the clock, and does it.

Features register their due work with `Services.add_due_work(name, fn)`; the tick runs them in
registration order, each isolated (one failing does not stop the others), then flushes the
outbox and reports delivery problems. Tests call `run_tick(application)` after moving the
clock; nothing in the bot sleeps for real minutes. Each piece of due work makes itself
idempotent by claiming `(kind, Union, period)` (storage.repositories.core.claim) or by a
status transition in the same transaction as its effect.

Several instances on one PostgreSQL: every instance serves updates, exactly one runs the
tick. The tick job of each instance first asks for a session-level advisory lock held on a
connection of its own (`storage.db.AdvisoryLock`); the one that holds it runs the tick, the
others only write their health and try again at their next tick. When the holder dies its
session ends and the lock is free: another instance takes it at its next tick, within
`TICK_SECONDS` (claims and the outbox keep every piece of work once across the hand-over).
The holder is also the only one that sends the outbox (`delivery.allow_sending`) and
that turns rows left `sending` into `uncertain` (on taking the lock, not at start: such a row
may be another live instance's send). SQLite has one instance: no lock, nothing changes.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from telegram import Bot
from telegram.ext import Application, ContextTypes

from bot import delivery, health
from bot.context import BotContext, Services, services_of
from bot.telegram_link import link_of
from storage.db import SCHEDULER_LOCK_KEY, AdvisoryLock
from storage.repositories import core as core_repo

logger = logging.getLogger(__name__)

TICK_JOB_NAME = "rhythm-tick"
_tick_locks: dict[int, asyncio.Lock] = {}


async def tick(services: Services, bot: Bot) -> None:
    lock = _tick_locks.setdefault(id(services), asyncio.Lock())
    if lock.locked():
        logger.debug("Tick still running; skipping this one")
        return
    async with lock:
        now = services.clock.now()
        for name, work in services.due_work:
            try:
                await work(services, bot, now)
            except Exception:
                logger.exception(
                    "Scheduled work %r failed; it will be retried at the next tick", name
                )
        try:
            await delivery.reoffer_reports(services, now)
        except Exception:
            logger.exception("Owed reports not offered again; the next tick will")
        try:
            await delivery.flush(services, bot)
            if await delivery.report_problems(services, bot, now):
                await delivery.flush(services, bot)
        except Exception:
            logger.exception("Outbox flush failed; it will be retried at the next tick")
        try:
            await health.check(services, now)
        except Exception:
            logger.exception("Health check failed")
        try:
            async with services.db.transaction() as session:
                await core_repo.purge_processed_updates(session, before=now - timedelta(days=14))
        except Exception:
            logger.exception("Housekeeping failed")
        try:
            await delivery.purge_outbox(services, now)
        except Exception:
            logger.exception("Outbox purge failed; it will be retried at the next tick")


async def run_tick(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    await tick(services_of(application), application.bot)


_SCHEDULER = "bot.jobs.scheduler"


class SchedulerTurn:
    """Whether this instance runs the scheduled work (PostgreSQL only)."""

    def __init__(self, database_url: str) -> None:
        self.lock = AdvisoryLock(database_url, SCHEDULER_LOCK_KEY)
        self.held = False
        self.said_waiting = False

    async def take(self, services: Services) -> bool:
        held = await self.lock.try_hold()
        if held and not self.held:
            try:  # what a dead holder was sending: uncertain, before this one sends anything
                await delivery.recover_after_restart(services)
            except Exception:
                logger.exception("Scheduler: recovering interrupted sends failed; next tick")
                return False  # the lock stays ours: the next tick tries again
            logger.info("Scheduler: this instance runs the scheduled work (PostgreSQL lock taken)")
            self.said_waiting = False
            self.held = True
            delivery.allow_sending(services, True)
        elif not held and self.held:
            logger.warning(
                "Scheduler: the lock's database connection was lost; this instance stops the "
                "scheduled work (another one takes it, or this one again at a later tick)"
            )
        elif not held and not self.said_waiting:
            logger.info(
                "Scheduler: another instance runs the scheduled work; this one serves updates "
                "and takes over if that one stops"
            )
            self.said_waiting = True
        self.held = held
        if not held:
            delivery.allow_sending(services, False)
        return held


def uses_scheduler_lock(services: Services) -> bool:
    """True when the tick of this bot waits for the PostgreSQL scheduler lock."""
    return _SCHEDULER in services.extras


async def release_scheduler(services: Services) -> None:
    turn = services.extras.pop(_SCHEDULER, None)
    if turn is not None:
        turn.held = False
        delivery.allow_sending(services, False)
        await turn.lock.release()


async def _tick_job(context: BotContext) -> None:
    services = context.services
    if services.settings.mode == "webhook":
        await link_of(services).probe(context.bot)
    turn = services.extras.get(_SCHEDULER)
    if turn is not None and not await turn.take(services):
        try:
            await health.check(services, services.clock.now())
        except Exception:
            logger.exception("Health check failed")
        return
    await tick(services, context.bot)


def schedule_tick(application: Application[Any, Any, Any, Any, Any, Any], seconds: float) -> None:
    job_queue = application.job_queue
    if job_queue is None:  # pragma: no cover - the job-queue extra is a dependency
        raise RuntimeError("python-telegram-bot[job-queue] is required")
    for job in job_queue.get_jobs_by_name(TICK_JOB_NAME):
        job.schedule_removal()
    services = services_of(application)
    if not services.db.is_sqlite and _SCHEDULER not in services.extras:
        services.extras[_SCHEDULER] = SchedulerTurn(services.db.url)
        delivery.allow_sending(services, False)  # until this instance holds the lock
    job_queue.run_repeating(
        _tick_job,
        interval=seconds,
        first=1,
        name=TICK_JOB_NAME,
        job_kwargs={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )


__all__ = [
    "ContextTypes",
    "release_scheduler",
    "run_tick",
    "schedule_tick",
    "tick",
    "uses_scheduler_lock",
]
