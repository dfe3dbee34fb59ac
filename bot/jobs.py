"""The rhythm: one periodic tick asks the database what is due by the clock, and does it.

Features register their due work with `Services.add_due_work(name, fn)`; the tick runs them in
registration order, each isolated (one failing does not stop the others), then flushes the
outbox and reports delivery problems. Tests call `run_tick(application)` after moving the
clock; nothing in the bot sleeps for real minutes. Each piece of due work makes itself
idempotent by claiming `(kind, Union, period)` (storage.repositories.core.claim) or by a
status transition in the same transaction as its effect.
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


async def _tick_job(context: BotContext) -> None:
    await tick(context.services, context.bot)


def schedule_tick(application: Application[Any, Any, Any, Any, Any, Any], seconds: float) -> None:
    job_queue = application.job_queue
    if job_queue is None:  # pragma: no cover - the job-queue extra is a dependency
        raise RuntimeError("python-telegram-bot[job-queue] is required")
    for job in job_queue.get_jobs_by_name(TICK_JOB_NAME):
        job.schedule_removal()
    job_queue.run_repeating(
        _tick_job,
        interval=seconds,
        first=1,
        name=TICK_JOB_NAME,
        job_kwargs={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )


__all__ = ["ContextTypes", "run_tick", "schedule_tick", "tick"]
