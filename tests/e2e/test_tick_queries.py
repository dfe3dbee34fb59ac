"""A quiet tick costs one query, whatever the number of Unions (issue 18; bot.services.schedule).

Each Union lives a busy month: a coordinator and its members, both groups, actions, an open
update round, an open poll, a meeting ahead, a PAES approval date (the Covenant clock). Once the
first ticks have done what was due, a tick a minute later has nothing to do: it must send the
database exactly one statement (the schedule's probe), with 1 Union as with 50, on SQLite and
PostgreSQL. Then a write that brings work forward (a meeting fixed, a round's deadline moved)
is not missed, and a moment that passes while the bot is off is caught up after a restart.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.services.progress.status import invite_key
from storage.models import (
    JobClaim,
    MeetingSettings,
    Municipality,
    OutboxMessage,
    Person,
    PollTable,
    Role,
    Union,
    UpdateRound,
)
from storage.repositories import meetings as meetings_repo
from tests.e2e.harness import BotUnderTest
from tests.factories import add_member, add_round, make_meeting, make_world


async def _region(bot: BotUnderTest, unions: int) -> None:
    now = bot.clock.now()  # Tuesday 1 December 2026, 09:00 in Rome
    async with bot.db.transaction() as session:
        for n in range(unions):
            world = await make_world(session, name=f"Unione {n}", now=now)
            world.union.paes_approved_on = date(2025, 6, 10)
            session.add(MeetingSettings(union_id=world.union.id, auto_poll_enabled=False))
            await add_round(
                session,
                world,
                period="2026-12",
                opened_at=now - timedelta(days=1),
                deadline_at=now + timedelta(days=12),
            )
            await make_meeting(session, world, starts_at=now + timedelta(days=20), now=now)
            first = now + timedelta(days=9)
            await meetings_repo.create_poll(
                session,
                union_id=world.union.id,
                table=PollTable.POLITICAL,
                title="Riunione di gennaio",
                agenda=None,
                place=None,
                deadline_at=now + timedelta(days=5),
                slots=[
                    (first + timedelta(days=d), first + timedelta(days=d, hours=2)) for d in (0, 1)
                ],
                created_by_member_id=None,
                now=now,
            )


def _counting() -> tuple[list[str], Any]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    return statements, count


async def _quiet_tick_statements(bot: BotUnderTest) -> list[str]:
    statements, count = _counting()
    engine = bot.db.engine.sync_engine
    bot.clock.advance(minutes=1)
    event.listen(engine, "before_cursor_execute", count)
    try:
        await bot.tick()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return statements


async def _settle_ticks(bot: BotUnderTest) -> None:
    """The first ticks do what is due (invitations, their report, the outbox)."""
    for _ in range(3):
        await bot.advance(minutes=1)


@pytest.mark.parametrize("unions", [1, 50])
async def test_a_quiet_tick_is_one_query(any_bot: BotUnderTest, unions: int) -> None:
    bot = any_bot
    await _region(bot, unions)
    await _settle_ticks(bot)
    for _ in range(3):
        statements = await _quiet_tick_statements(bot)
        assert len(statements) == 1, statements
    # and an hour later, still quiet
    bot.clock.advance(hours=1)
    await bot.tick()
    assert len(await _quiet_tick_statements(bot)) == 1


async def test_a_write_brings_work_forward(any_bot: BotUnderTest) -> None:
    """A round's deadline moved to the past by a write wakes the round's duties: the next tick
    closes it (the hint said: twelve days from now)."""
    bot = any_bot
    await _region(bot, 2)
    await _settle_ticks(bot)
    assert len(await _quiet_tick_statements(bot)) == 1
    async with bot.db.transaction() as session:
        round_ = (await session.execute(select(UpdateRound).limit(1))).scalar_one()
        round_.deadline_at = bot.clock.now()
        round_id = round_.id
    await bot.advance(minutes=1)
    async with bot.db.transaction() as session:
        closed = await session.get(UpdateRound, round_id)
        assert closed is not None and closed.status.value == "closed"


async def test_a_technician_given_a_telegram_id_is_invited_at_the_next_tick(
    any_bot: BotUnderTest,
) -> None:
    """A technician without a Telegram id gets no invitation when the round opens; once the id
    is set, the next tick invites them (the round's duties are woken, not left for their next
    stored moment, days away)."""
    bot = any_bot
    await _region(bot, 1)
    async with bot.db.transaction() as session:
        world_round = (await session.execute(select(UpdateRound).limit(1))).scalar_one()
        union = await session.get(Union, world_round.union_id)
        assert union is not None
        comune = (
            (await session.execute(select(Municipality).where(Municipality.union_id == union.id)))
            .scalars()
            .first()
        )
        late = await add_member(session, union, role=Role.TECNICO, name="Tina", comuni=[comune])
        person = await session.get(Person, late.person_id)
        assert person is not None
        person.telegram_user_id = None
        late_id, person_id, round_id = late.id, person.id, world_round.id
    await _settle_ticks(bot)
    assert len(await _quiet_tick_statements(bot)) == 1
    key = invite_key(round_id, late_id)
    async with bot.db.transaction() as session:
        assert (
            await session.scalar(select(OutboxMessage).where(OutboxMessage.dedup_key == key))
            is None
        )
        person = await session.get(Person, person_id)
        assert person is not None
        person.telegram_user_id = 5550001
    await bot.advance(minutes=1)
    async with bot.db.transaction() as session:
        invited = await session.scalar(select(OutboxMessage).where(OutboxMessage.dedup_key == key))
    assert invited is not None and invited.chat_id == 5550001


async def test_a_moment_missed_while_down_is_caught_up(any_bot: BotUnderTest) -> None:
    """The poll's reminder moment (24 h before its deadline) passes while the bot is stopped;
    the first tick after the restart sends it, once."""
    bot = any_bot
    await _region(bot, 1)
    await _settle_ticks(bot)
    assert len(await _quiet_tick_statements(bot)) == 1
    await bot.stop()
    bot.clock.advance(days=4, hours=2)  # the deadline is in 5 days: 22 hours left
    await bot.start()
    await bot.tick()
    await bot.advance(minutes=1)
    async with bot.db.transaction() as session:
        claims = list(
            (
                await session.execute(select(JobClaim.kind).where(JobClaim.kind == "poll_reminder"))
            ).scalars()
        )
        reminders = list(
            (
                await session.execute(
                    select(OutboxMessage.dedup_key).where(OutboxMessage.dedup_key.like("pollrem:%"))
                )
            ).scalars()
        )
    assert claims == ["poll_reminder"]
    assert reminders  # queued once per member who has not answered
    assert len(reminders) == len(set(reminders))
    assert len(await _quiet_tick_statements(bot)) == 1


async def test_a_moment_reached_by_the_clock_runs_then_quiet(any_bot: BotUnderTest) -> None:
    """No restart: the tick after the reminder moment runs it (the stored hint), the next is
    quiet again."""
    bot = any_bot
    await _region(bot, 3)
    await _settle_ticks(bot)
    bot.clock.advance(days=4, minutes=1)  # 24 h before the polls' deadline, and a minute
    await bot.tick()
    async with bot.db.transaction() as session:
        claims = list(
            (
                await session.execute(select(JobClaim.kind).where(JobClaim.kind == "poll_reminder"))
            ).scalars()
        )
    assert len(claims) == 3
    await bot.advance(minutes=1)  # the reminders' report, once they are sent
    assert len(await _quiet_tick_statements(bot)) == 1
