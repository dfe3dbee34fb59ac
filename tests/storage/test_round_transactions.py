"""Round duties run one short transaction per round (and per Union when rounds open), so a
vote waiting for SQLite's write lock is never held behind every round of every Union."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import FakeClock
from bot.config import Settings
from bot.context import PartlyDone, Services
from bot.handlers.updates import scheduled
from bot.services import progress
from storage.db import Database
from storage.models import RoundStatus, UpdateRound
from storage.repositories import actions as repo
from storage.repositories import core as core_repo
from tests.factories import make_union

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


async def test_each_round_in_its_own_transaction(
    db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(START)
    services = Services(
        settings=Settings(token="123:abc", database_url=db.url, tick_seconds=0), db=db, clock=clock
    )
    round_ids = []
    async with db.transaction() as s:
        for n in range(3):
            world = await make_union(s, name=f"Unione {n}", comuni=["Alfa"], now=START)
            round_ = await repo.create_round(
                s,
                union_id=world.union.id,
                period="2026-12",
                meeting_id=None,
                deadline_at=START + timedelta(days=5),
                now=START,
            )
            assert round_ is not None
            round_ids.append(round_.id)

    real_duties = progress.round_duties
    sessions: list[AsyncSession] = []

    async def duties(session: AsyncSession, *, round_id: int, now: Any, language: str) -> None:
        # A vote arrives between two rounds: it must get the write lock at once.
        async with db.transaction() as other:
            await core_repo.mark_update_processed(other, update_id=round_id, now=now)
        sessions.append(session)
        await real_duties(session, round_id=round_id, now=now, language=language)
        if round_id == round_ids[1]:
            raise RuntimeError("this round's duties fail")

    monkeypatch.setattr(progress, "round_duties", duties)
    clock.set(START + timedelta(days=5, seconds=1))  # every deadline has passed
    # The others are done; the failure is said at the end, so the tick keeps the work due.
    with caplog.at_level(logging.ERROR), pytest.raises(PartlyDone, match="1 rounds' duties"):
        await asyncio.wait_for(
            scheduled.round_housekeeping(services, cast(Any, None), clock.now()), 10
        )
    assert len({id(s) for s in sessions}) == 3
    async with db.transaction() as s:
        statuses = [(await s.get(UpdateRound, rid)).status for rid in round_ids]  # type: ignore[union-attr]
        # The failing round is rolled back alone and retried at the next tick.
        assert statuses == [RoundStatus.CLOSED, RoundStatus.OPEN, RoundStatus.CLOSED]
        for rid in round_ids:
            assert not await core_repo.mark_update_processed(s, update_id=rid, now=clock.now())
    assert f"Duties of update round {round_ids[1]} failed" in caplog.text
    monkeypatch.setattr(progress, "round_duties", real_duties)
    await scheduled.round_housekeeping(services, cast(Any, None), clock.now())
    async with db.transaction() as s:
        assert (await s.get(UpdateRound, round_ids[1])).status == RoundStatus.CLOSED  # type: ignore[union-attr]
