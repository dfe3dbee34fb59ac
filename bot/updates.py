"""Handling several people's updates at once while each person's stay in order.

PTB's default handles one update at a time. `concurrent_updates(n)` lifts that, but then two
presses of the same person may run at the same time and commit in the wrong order (a vote
changed twice ends on the first choice). `PerPersonProcessor` runs up to `n` updates at once,
but never two of the same person (or, with no person, of the same chat): theirs are handled one
after the other in arrival order. CONCURRENT_UPDATES sets n (default 4; 1: one at a time).

An update first waits for its person's turn, and only then for one of the `n` slots: a person
with many queued updates holds at most one slot, so the others are not kept waiting behind
them. (PTB's own semaphore, taken before `do_process_update`, is made unbounded for that.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# PTB's semaphore around do_process_update: never the limit here (the slots below are).
_UNBOUNDED = 2**30


def ordering_key(update: object) -> int | None:
    """Whose updates must not overtake each other: the person, else the chat."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None


class PerPersonProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int) -> None:
        if max_concurrent_updates < 1:
            raise ValueError("max_concurrent_updates must be a positive integer")
        # PTB's __init__ sizes its semaphore from the property below: unbounded while it runs.
        self._limit = _UNBOUNDED
        super().__init__(_UNBOUNDED)
        self._limit = max_concurrent_updates
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}
        self._in_flight = 0

    @property
    def max_concurrent_updates(self) -> int:
        return self._limit

    @property
    def current_concurrent_updates(self) -> int:
        """Updates taken from the queue and not finished: running, or waiting for their
        person's turn or a slot (0 means idle)."""
        return self._in_flight

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        self._in_flight += 1
        try:
            key = ordering_key(update)
            if key is None:
                async with self._slots:
                    await coroutine
                return
            lock, users = self._locks.get(key, (asyncio.Lock(), 0))
            self._locks[key] = (lock, users + 1)
            try:
                # FIFO: this person's updates in arrival order; a slot only once it is theirs.
                async with lock, self._slots:
                    await coroutine
            finally:
                lock, users = self._locks[key]
                if users <= 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)
        finally:
            self._in_flight -= 1

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


class UpdateQueue(asyncio.Queue[object]):
    """PTB's update queue, bounded twice, so a burst waits at Telegram rather than in memory.

    `maxsize` bounds what waits in the queue: polling pauses while it is full. With
    CONCURRENT_UPDATES > 1 PTB takes every update out of the queue at once and makes it a task
    (waiting for its person's turn or a slot), which would empty the queue into memory; so
    `get` also waits while `in_flight` updates are taken and not finished (PTB calls
    `task_done` when one is).
    """

    def __init__(self, maxsize: int, *, in_flight: int) -> None:
        super().__init__(maxsize)
        self._gate = asyncio.Semaphore(in_flight)

    async def get(self) -> object:
        await self._gate.acquire()
        try:
            return await super().get()
        except BaseException:
            self._gate.release()
            raise

    def task_done(self) -> None:
        super().task_done()
        # At shutdown PTB drains the queue with get_nowait() and task_done(): the gate is then
        # released more than taken, which no longer matters.
        self._gate.release()
