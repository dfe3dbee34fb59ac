"""The scheduler's lock (storage.db.AdvisoryLock): one holder; its connection dropped, another
takes it; released at shutdown, another takes it at once. PostgreSQL only."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from storage.db import SCHEDULER_LOCK_KEY, AdvisoryLock
from tests import pg_server


async def _holder_pid(database_url: str) -> int | None:
    conn = await pg_server.connect(database_url)
    try:
        pid = await conn.fetchval(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return int(pid) if pid is not None else None
    finally:
        await conn.close()


async def _within(seconds: float, attempt: Callable[[], Awaitable[bool]]) -> bool:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await attempt():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_one_holder_and_a_take_over_when_its_connection_drops(database_url: str) -> None:
    first = AdvisoryLock(database_url, SCHEDULER_LOCK_KEY)
    second = AdvisoryLock(database_url, SCHEDULER_LOCK_KEY)
    try:
        assert await first.try_hold()
        assert await first.try_hold()  # still held: one round trip, same answer
        assert not await second.try_hold()
        pid = await _holder_pid(database_url)
        assert pid is not None
        await pg_server.terminate_backend(database_url, pid)  # what a holder's death does
        # The server ends the session (and frees the lock) moments after the signal: the
        # stand-by gets it at one of its next tries, as at its next ticks.
        assert await _within(5.0, second.try_hold)
        assert not await first.try_hold()  # it knows it lost the lock
        await second.release()
        assert await _within(5.0, first.try_hold)  # released: free as its session ends
    finally:
        await first.release()
        await second.release()
    for _ in range(50):
        if await _holder_pid(database_url) is None:
            break
        await asyncio.sleep(0.1)
    assert await _holder_pid(database_url) is None
