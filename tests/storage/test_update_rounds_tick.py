"""The round's scheduled work on both databases: open once, remind once, close at the deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.clock import FakeClock
from bot.config import Settings
from bot.context import Services
from bot.handlers.updates.scheduled import open_due_rounds, round_housekeeping
from storage.db import Database
from storage.models import OutboxMessage, Role, RoundStatus, TableKind, UpdateRound
from storage.repositories import actions as repo
from tests.updates_factories import link_group, make_meeting, make_member, make_union

ROME = ZoneInfo("Europe/Rome")
START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def services_for(db: Database, clock: FakeClock) -> Services:
    settings = Settings(token="123:abc", database_url=db.url, tick_seconds=0)
    return Services(settings=settings, db=db, clock=clock)


async def test_round_opens_once_reminds_once_and_closes(db: Database) -> None:
    clock = FakeClock(START)
    services = services_for(db, clock)
    bot = cast(Any, None)  # the work only queues messages; the outbox sends them
    async with db.transaction() as s:
        union, comuni = await make_union(s, "Unione", ["Alfa", "Beta"], now=START)
        tina = await make_member(
            s,
            union,
            telegram_user_id=11,
            name="Tina",
            role=Role.TECNICO,
            comuni=[comuni["Alfa"]],
            now=START,
        )
        bea = await make_member(
            s,
            union,
            telegram_user_id=12,
            name="Bea",
            role=Role.TECNICO,
            comuni=[comuni["Beta"]],
            now=START,
        )
        await make_member(
            s,
            union,
            telegram_user_id=13,
            name="Carla",
            role=Role.STAFF,
            coordinator=True,
            now=START,
        )
        await link_group(s, union, chat_id=-500, kind=TableKind.TECHNICAL, now=START)
        await make_meeting(
            s, union, starts_at=datetime(2026, 12, 10, 17, 0, tzinfo=ROME), now=START
        )
        await repo.upsert_actions(
            s,
            union_id=union.id,
            rows=[
                {**dict.fromkeys(repo.ACTION_FIELDS), "code": c, "title": "T", "municipality_id": m}
                for c, m in (("A1", comuni["Alfa"].id), ("B1", comuni["Beta"].id))
            ],
            now=START,
        )
        union_id, tina_id, bea_id = union.id, tina.id, bea.id
    for _ in range(3):
        await open_due_rounds(services, bot, clock.now())
        await round_housekeeping(services, bot, clock.now())
    async with db.transaction() as s:
        rounds = list((await s.execute(select(UpdateRound))).scalars())
        keys = sorted(r.dedup_key for r in (await s.execute(select(OutboxMessage))).scalars())
    assert len(rounds) == 1 and rounds[0].deadline_at == datetime(2026, 12, 8, 17, 0, tzinfo=ROME)
    round_id = rounds[0].id
    member_ids = sorted(k.rsplit(":", 1)[1] for k in keys if k.startswith("upd:inv:"))
    assert len(member_ids) == 2
    assert f"upd:ann:{round_id}" in keys and any(k.startswith("upd:open:") for k in keys)
    # Tina answers; three days later only Bea is reminded, once.
    async with db.transaction() as s:
        action = (await repo.actions_by_code(s, union_id))["a1"]
        from storage.models import ActionStatus, UpdateSource

        await repo.record_update(
            s,
            action=action,
            member_id=tina_id,
            round_id=round_id,
            source=UpdateSource.PRIVATE,
            status=ActionStatus.ONGOING,
            progress=10,
            note=None,
            now=clock.now(),
        )
    clock.advance(days=3, minutes=1)
    for _ in range(2):
        await round_housekeeping(services, bot, clock.now())
    async with db.transaction() as s:
        reminders = [
            r.dedup_key
            for r in (await s.execute(select(OutboxMessage))).scalars()
            if r.dedup_key.startswith("upd:rem:")
        ]
    assert reminders == [f"upd:rem:{round_id}:{bea_id}:r1"]
    clock.set(rounds[0].deadline_at + timedelta(seconds=1))
    await round_housekeeping(services, bot, clock.now())
    async with db.transaction() as s:
        closed = await s.get(UpdateRound, round_id)
        assert closed is not None and closed.status == RoundStatus.CLOSED


async def _actions_read_at_opening(db: Database, technicians: int, name: str) -> int:
    """Statements reading paes_action while a Union's round opens (invitations queued)."""
    from sqlalchemy import event

    clock = FakeClock(START)
    async with db.transaction() as s:
        union, comuni = await make_union(s, name, [f"C{n}" for n in range(technicians)], now=START)
        for n in range(technicians):
            await make_member(
                s,
                union,
                telegram_user_id=hash((name, n)) % 10**9 + 1,
                name=f"T{n}",
                role=Role.TECNICO,
                comuni=[comuni[f"C{n}"]],
                now=START,
            )
        await make_meeting(
            s, union, starts_at=datetime(2026, 12, 10, 17, 0, tzinfo=ROME), now=START
        )
        await repo.upsert_actions(
            s,
            union_id=union.id,
            rows=[
                {**dict.fromkeys(repo.ACTION_FIELDS), "code": f"A{n}", "title": "T"}
                | {"municipality_id": comuni[f"C{n}"].id}
                for n in range(technicians)
            ],
            now=START,
        )
    statements: list[str] = []

    def count(*args: object) -> None:
        if "paes_action" in str(args[2]):
            statements.append(str(args[2]))

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        await open_due_rounds(services_for(db, clock), cast(Any, None), clock.now())
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    async with db.transaction() as s:
        invitations = await s.execute(
            select(OutboxMessage.id).where(OutboxMessage.dedup_key.like("upd:inv:%"))
        )
        assert len(invitations.all()) == technicians
    return len(statements)


async def test_the_opening_reads_a_unions_actions_once_for_all_its_technicians(
    db: Database,
) -> None:
    """The invitations' lists come from one read of the Union's actions, not one per technician
    (a region's opening tick would hold the event loop for a Union's worth of queries)."""
    one = await _actions_read_at_opening(db, 1, "Unione Uno")
    async with db.transaction() as s:
        await s.execute(OutboxMessage.__table__.delete())
    four = await _actions_read_at_opening(db, 4, "Unione Quattro")
    assert four == one
