"""The Covenant clock reads what is due and claims only that: most ticks write nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.config import Settings
from bot.context import Services
from bot.handlers.summaries import covenant_clock_due
from storage.db import Database
from storage.models import JobClaim, OutboxMessage, TableKind
from tests.factories import link_group, make_union, record_claims

START = datetime(2026, 11, 20, 8, tzinfo=UTC)


async def test_claims_only_when_a_warning_is_due(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(START)
    services = Services(
        settings=Settings(token="123:abc", database_url=db.url, tick_seconds=0), db=db, clock=clock
    )
    async with db.transaction() as s:
        team = await make_union(s, name="Unione", comuni=["Alfa"], now=START)
        team.union.paes_approved_on = date(2025, 1, 31)  # monitoring report due 31 Jan 2027
        await link_group(s, team, table=TableKind.POLITICAL, chat_id=-100, now=START)
        await make_union(s, name="Senza PAES", comuni=["Beta"], now=START)
    attempts = record_claims(monkeypatch, "period")
    bot = cast(Any, None)  # the clock only queues messages

    async def tick_at(moment: datetime) -> list[str]:
        attempts.clear()
        clock.set(moment)
        await covenant_clock_due(services, bot, clock.now())
        return list(attempts)

    assert await tick_at(START) == []  # 72 days ahead: nothing due
    assert await tick_at(datetime(2026, 12, 2, 8, tzinfo=UTC)) == ["2027-01-31:60"]
    for minutes in (1, 30, 600):  # the rest of the day: due, but already claimed
        assert (
            await tick_at(datetime(2026, 12, 2, 8, tzinfo=UTC) + timedelta(minutes=minutes)) == []
        )
    assert await tick_at(datetime(2027, 1, 18, 8, tzinfo=UTC)) == ["2027-01-31:14"]
    assert await tick_at(datetime(2027, 1, 18, 9, tzinfo=UTC)) == []

    async with db.transaction() as s:
        claims = sorted(
            (await s.execute(select(JobClaim.period).where(JobClaim.kind == "covenant"))).scalars()
        )
        keys = sorted(
            (
                await s.execute(
                    select(OutboxMessage.dedup_key).where(
                        OutboxMessage.dedup_key.startswith("cov:")
                    )
                )
            ).scalars()
        )
    assert claims == ["2027-01-31:14", "2027-01-31:60"]
    u = team.union.id
    assert keys == [f"cov:{u}:2027-01-31:14", f"cov:{u}:2027-01-31:60"]
