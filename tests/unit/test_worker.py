"""The worker process (bot.services.worker): CPU-heavy drawing runs there, not on the event
loop's process; a worker that died is replaced; an idle one ends."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from bot.services import worker


async def test_work_runs_in_another_process() -> None:
    assert await worker.run(os.getpid) != os.getpid()
    assert await worker.run(divmod, 17, 5) == (3, 2)


async def test_a_worker_killed_is_replaced() -> None:
    first = await worker.run(os.getpid)
    os.kill(first, signal.SIGKILL)
    await asyncio.sleep(0.2)  # the pool notices its worker is gone
    second = await worker.run(os.getpid)
    assert second not in (first, os.getpid())


async def test_an_error_in_the_work_reaches_the_caller() -> None:
    with pytest.raises(ZeroDivisionError):
        await worker.run(divmod, 1, 0)
    assert await worker.run(divmod, 4, 2) == (2, 0)  # and the worker goes on


async def test_an_idle_worker_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "IDLE_SECONDS", 0.05)
    pid = await worker.run(os.getpid)
    await asyncio.sleep(0.3)
    assert worker._pool is None
    for _ in range(50):  # the pool's own thread reaps it
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the idle worker is still running")
    assert await worker.run(os.getpid) != pid  # a new one on demand
