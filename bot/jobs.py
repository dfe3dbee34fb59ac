"""The rhythm: one periodic tick asks the database what is due by the clock, and does it.

Features register their due work with `Services.add_due_work(name, fn)`; the tick runs them in
the order of `bot.services.schedule.SCHEDULE` (one list: the tick's order, whatever the order of
registration), each isolated (one failing does not stop the others), then flushes the outbox
and reports delivery problems. It first asks the database one question — which kinds are
due now (`bot.services.schedule`: probes, and each kind's stored next moment, woken by the writes
that bring it forward) — and runs only those: a quiet tick is that one statement and the health
file, whatever the number of Unions. The first tick after a start runs everything. Tests call `run_tick(application)` after moving the
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
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot
from telegram.ext import Application

from bot import delivery, health, message_refresh
from bot.context import BotContext, DueWork, PartlyDone, Services, services_of
from bot.services import schedule
from bot.telegram_link import link_of
from storage.db import SCHEDULER_LOCK_KEY, AdvisoryLock
from storage.repositories import core as core_repo
from storage.repositories import schedule as schedule_repo

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
        try:
            due, found = await _due(services, now)
        except Exception:
            logger.exception("Scheduler: what is due could not be read; the next tick asks again")
            return
        ran, sent = False, 0
        for name, work in _in_order(services):
            due |= schedule_repo.take_woken()  # woken by the work before: due in this tick
            if name not in due:
                continue
            ran = True
            try:
                await work(services, bot, now)
            except PartlyDone as failed:
                logger.warning("Scheduled work %r: %s; retried at the next tick", name, failed)
            except Exception:
                logger.exception(
                    "Scheduled work %r failed; it will be retried at the next tick", name
                )
            else:
                await _settle(services, name, found, now)
        try:
            if schedule.REOFFER in due:
                ran = bool(await delivery.reoffer_reports(services, now)) or ran
                services.extras[_OWED_SEEN] = found.reports_owed
        except Exception:
            logger.exception("Owed reports not offered again; the next tick will")
        try:
            sent = await delivery.flush(services, bot) if ran or schedule.FLUSH in due else 0
            if (sent or schedule.PROBLEMS in due) and await delivery.report_problems(
                services, bot, now
            ):
                await delivery.flush(services, bot)
        except Exception:
            logger.exception("Outbox flush failed; it will be retried at the next tick")
        try:  # a quiet tick's counts are the ones it just read
            counts = None if ran or sent else (found.outbox, found.reports_owed)
            await health.check(services, now, counts=counts)
        except Exception:
            logger.exception("Health check failed")
        if schedule.PURGE in due:
            await _purge(services, now, found)


def _in_order(services: Services) -> list[tuple[str, DueWork]]:
    """The registered work in the tick's order: `schedule.SCHEDULE`'s."""
    registered = dict(services.due_work)
    return [(kind, registered[kind]) for kind in schedule.SCHEDULE if kind in registered]


async def _due(services: Services, now: datetime) -> tuple[set[str], schedule.Snapshot]:
    """The tick's one query, and what it makes due (bot.services.schedule)."""
    when = schedule.SCHEDULE
    async with services.db.transaction() as session:
        found = await schedule.look(
            session,
            when=when,
            kit_probes={
                schedule.REOFFER: schedule_repo.reports_to_offer(
                    delivery.REPORT_PREFIXES, now - delivery.REPORT_OWED_FOR
                ),
                schedule.FLUSH: schedule_repo.outbox_due(now),
                schedule.PROBLEMS: schedule_repo.problems_unreported(services.reported_elsewhere),
                schedule.OWED_EDITS: schedule_repo.rows_marked(message_refresh.tracked_models()),
            },
            now=now,
            report_prefixes=delivery.REPORT_PREFIXES,
            reports_since=now - delivery.REPORT_OWED_FOR,
        )
    kinds = [name for name, _work in services.due_work] + list(schedule.KIT_KINDS)
    probed = found.probed
    if found.reports_owed != services.extras.get(_OWED_SEEN):  # bot.delivery.owes_report's list
        probed |= {schedule.REOFFER}
    schedule_repo.take_woken()  # what woke before this look is in what it read
    due = schedule.due_kinds(
        kinds,
        when=when,
        hints=found.hints,
        probed=probed,
        sent=bool(delivery.take_sent(services)),
        now=now,
        last_tick=services.extras.get(_LAST_TICK),
    )
    services.extras[_LAST_TICK] = now
    missing = [k for k in due if when.get(k, _NONE).hinted and k not in found.hints]
    if missing:  # the first ticks ever: rows a write can wake
        async with services.db.transaction() as session:
            await schedule.add_missing(session, missing)
    return set(due), found


_NONE = schedule.WhenDue()
_LAST_TICK = "bot.jobs.last_tick"
_OWED_SEEN = "bot.jobs.reports_owed"


async def _settle(services: Services, name: str, found: schedule.Snapshot, now: datetime) -> None:
    rule = schedule.SCHEDULE.get(name)
    if rule is None or not rule.hinted:
        return
    try:
        async with services.db.transaction() as session:
            await schedule.settle(
                session, kind=name, rule=rule, hint=found.hints.get(name), now=now
            )
    except Exception:  # it stays due: the next tick runs it again
        logger.exception("Scheduled work %r: its next moment not stored", name)


async def _purge(services: Services, now: datetime, found: schedule.Snapshot) -> None:
    """Once a day (UTC): processed update ids past 14 days, settled outbox rows past 60."""
    try:
        async with services.db.transaction() as session:
            await core_repo.purge_processed_updates(session, before=now - timedelta(days=14))
    except Exception:
        logger.exception("Housekeeping failed")
        return
    try:
        await delivery.purge_outbox(services, now)
    except Exception:
        logger.exception("Outbox purge failed; it will be retried at the next tick")
        return
    await _settle(services, schedule.PURGE, found, now)


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
    "release_scheduler",
    "run_tick",
    "schedule_tick",
    "tick",
    "uses_scheduler_lock",
]
