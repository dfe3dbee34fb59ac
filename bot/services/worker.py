"""CPU-heavy work that must not hold the event loop: run in a worker process.

A thread is not enough for work that stays in C code holding the GIL: matplotlib's Agg drawing
of text and Pillow's PNG encoding kept the loop waiting for 0.2–0.7 s per summary while they ran
in `asyncio.to_thread` (bench/README.md, "The loop's holds"), though the loop itself had nothing
to do. One worker process, started on first use from a fresh interpreter (`forkserver`: never a
fork of this threaded process), draws there; the event loop only waits for the answer. At the
bot's own priority, as the thread was: at nice 10 on a loaded machine the 300 summaries of a
region took five minutes instead of one, the tick waiting for them. (The uploaded spreadsheets have a worker of their own, bot.services.import_worker:
a process per file with memory and CPU ceilings, for input nobody vetted.)

The worker ends after `IDLE_SECONDS` without work (a summary a month per Union, /riepilogo on
demand: its ≈ 125 MB of matplotlib and the summaries' modules are not kept for nothing); the next
call starts one again by a fork of the fork server, which keeps those modules preloaded. A worker
that died (killed, out of memory) is replaced once per call; if the new one fails too, the error
reaches the caller, whose work is retried at the next tick (a summary is recorded only once its
pictures are drawn). The function and its arguments cross by pickle: module-level functions, plain data.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# Imported by the fork server once, so each worker starts with them loaded.
PRELOAD = ["bot.services.summaries.chart"]

IDLE_SECONDS = 300.0

_pool: ProcessPoolExecutor | None = None
_idle: asyncio.TimerHandle | None = None


def _executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
    return _pool


async def run(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """`fn(*args, **kwargs)` in the worker process; the loop stays free meanwhile."""
    global _idle
    loop = asyncio.get_running_loop()
    if _idle is not None:
        _idle.cancel()
    try:
        for attempt in (1, 2):
            pool = _executor()
            try:
                # Submitted from a thread: a submit may start the worker, and the first start
                # waits for the fork server to import PRELOAD (≈ 2 s of the loop, measured).
                future = await asyncio.to_thread(pool.submit, _call, fn, args, kwargs)
                return await asyncio.wrap_future(future)
            except BrokenProcessPool:
                _discard(pool)
                if attempt == 2:
                    raise
                logger.warning("The worker process stopped; starting a new one")
        raise AssertionError("unreachable")  # pragma: no cover
    finally:
        _idle = loop.call_later(IDLE_SECONDS, _end_idle)


def _end_idle() -> None:
    if _pool is not None:
        _discard(_pool)


def _call(fn: Callable[..., R], args: tuple[object, ...], kwargs: dict[str, object]) -> R:
    return fn(*args, **kwargs)


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool
    if _pool is pool:
        _pool = None
    pool.shutdown(wait=False, cancel_futures=True)
