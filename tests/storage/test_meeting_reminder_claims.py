"""The meetings whose reminders are still undecided, in one query, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.repositories import core as core_repo
from storage.repositories import meetings as repo
from tests.updates_factories import make_meeting, make_union

NOW = datetime(2026, 12, 20, 9, 0, tzinfo=UTC)
KINDS = ("meeting_remind_day", "meeting_remind_hour")


async def test_meetings_missing_claims(db: Database) -> None:
    async with db.transaction() as session:
        union, _ = await make_union(session, "Reno Galliera", ["Argelato"], now=NOW)
        other, _ = await make_union(session, "Val d'Enza", ["Canossa"], now=NOW)
        settled = await make_meeting(session, union, starts_at=NOW - timedelta(days=5), now=NOW)
        half = await make_meeting(session, union, starts_at=NOW - timedelta(days=4), now=NOW)
        open_ = await make_meeting(session, other, starts_at=NOW - timedelta(days=3), now=NOW)
        ahead = await make_meeting(session, union, starts_at=NOW + timedelta(days=1), now=NOW)
        cancelled = await make_meeting(session, other, starts_at=NOW - timedelta(days=2), now=NOW)
        cancelled.cancelled_at = NOW - timedelta(days=9)
        for kind in KINDS:
            await core_repo.claim(
                session, kind=kind, union_id=union.id, period=str(settled.id), now=NOW
            )
        await core_repo.claim(
            session, kind=KINDS[0], union_id=union.id, period=str(half.id), now=NOW
        )
        # A claim of the same period in another Union does not settle this one.
        for kind in KINDS:
            await core_repo.claim(
                session, kind=kind, union_id=union.id, period=str(open_.id), now=NOW
            )
    async with db.transaction() as session:
        found = await repo.meetings_missing_claims(
            session, after=NOW - timedelta(days=30), until=NOW, kinds=KINDS
        )
    assert [m.id for m in found] == [half.id, open_.id]
    assert ahead.id not in [m.id for m in found]
