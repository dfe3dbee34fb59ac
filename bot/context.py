"""What every handler and job can reach: settings, database, clock, rhythm — typed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from telegram.ext import Application, CallbackContext, ExtBot

from bot.clock import Clock
from bot.config import Settings
from bot.services import schedule
from storage.db import Database

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from telegram import Bot

    from storage.models import OutboxMessage

logger = logging.getLogger(__name__)

# A piece of scheduled work: given the services, the bot and "now", do what is due.
DueWork = Callable[["Services", "Bot", datetime], Awaitable[None]]
# (session, outbox row) → None, inside the transaction that marks the row sent.
SentListener = Callable[["AsyncSession", "OutboxMessage"], Awaitable[None]]


class PartlyDone(Exception):
    """Raised by due work after it did what it could when some pieces failed (each logged where
    it failed): the tick keeps the work due, so the next tick tries them again."""


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    due_work: list[tuple[str, DueWork]] = field(default_factory=list)
    # Named hooks that features expose to each other without importing handler modules,
    # e.g. "command:riunione" for re-running a command after the Union picker.
    hooks: dict[str, Callable[..., Awaitable[Any]]] = field(default_factory=dict)
    # Called in the transaction that records a sent outbox row, by dedup-key prefix, so a
    # feature can remember where its message landed (e.g. a poll's message id).
    sent_listeners: list[tuple[str, SentListener]] = field(default_factory=list)
    # (dedup-key prefix, statuses) of outbox problems a feature reports itself.
    reported_elsewhere: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    last_poll_ok_at: datetime | None = None
    # True when the schema was migrated before start (by `python -m storage.migrate`).
    schema_ready: bool = False
    # Set at start; the health check measures a polling stall from here until a first poll.
    started_at: datetime | None = None
    # True while the health check considers polling stalled (it warns once per stall).
    poll_stalled: bool = False
    # Update ids whose transaction committed: the error handler then says "saved" not "lost".
    committed_updates: dict[int, None] = field(default_factory=dict)
    # Update ids whose COMMIT failed after the body ran: saved or not, nobody knows.
    outcome_unknown_updates: dict[int, None] = field(default_factory=dict)
    # Work started by a handler that must not hold up the next update (e.g. an outbox flush).
    background_tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    # State a module keeps per running bot, by module name (e.g. bot.message_refresh's pacing
    # of edits per chat): it lives and dies with these services, never shared between bots.
    extras: dict[str, Any] = field(default_factory=dict)

    def note_committed(self, update_id: int) -> None:
        self.committed_updates[update_id] = None
        while len(self.committed_updates) > 1000:
            self.committed_updates.pop(next(iter(self.committed_updates)))

    def note_outcome_unknown(self, update_id: int) -> None:
        self.outcome_unknown_updates[update_id] = None
        while len(self.outcome_unknown_updates) > 1000:
            self.outcome_unknown_updates.pop(next(iter(self.outcome_unknown_updates)))

    def report_elsewhere(
        self, key_prefix: str, statuses: tuple[str, ...] = ("failed", "uncertain")
    ) -> None:
        """Outbox rows with this key prefix (in these statuses) are reported to people by their
        feature, with its own words: the generic report to coordinators leaves them out."""
        self.reported_elsewhere.append((key_prefix, statuses))

    def add_sent_listener(self, key_prefix: str, listener: SentListener) -> None:
        self.sent_listeners.append((key_prefix, listener))

    def run_in_background(self, work: Coroutine[Any, Any, object]) -> asyncio.Task[object]:
        """Start work that must not hold up the next update; shutdown (and the tests'
        `settle`) wait for it through `background_tasks`."""
        task = asyncio.get_running_loop().create_task(work)
        self.background_tasks.add(task)
        task.add_done_callback(self._background_done)
        return task

    def _background_done(self, task: asyncio.Task[Any]) -> None:
        self.background_tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("Background work failed; the tick retries what it owes", exc_info=error)

    def add_due_work(self, name: str, work: DueWork) -> None:
        """Register work for the scheduler tick, which runs it in its place in
        `bot.services.schedule.SCHEDULE` (the tick's order, with when each kind is due)."""
        if name not in schedule.SCHEDULE or name in schedule.KIT_KINDS:
            raise ValueError(f"due work {name!r} has no place in bot.services.schedule.SCHEDULE")
        if any(n == name for n, _ in self.due_work):
            raise ValueError(f"due work {name!r} registered twice")
        self.due_work.append((name, work))


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """PTB's context with a typed door to our services."""

    @property
    def services(self) -> Services:
        return cast(Services, self.application.bot_data["services"])


def services_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    return cast(Services, application.bot_data["services"])
