"""Due work reads before it claims: a tick with nothing new to do attempts no claim at all
(a claim is an INSERT, and the tick runs every 30 seconds)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from storage.models import (
    Answer,
    JobClaim,
    MeetingSettings,
    OutboxMessage,
    PollTable,
    Role,
    Slot,
    TableKind,
    Vote,
)
from storage.repositories import meetings as meetings_repo
from tests.e2e.harness import BotUnderTest
from tests.factories import add_member, link_group, make_meeting, make_union, record_claims


async def test_quiet_ticks_claim_nothing(
    bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The conftest clock: Tuesday 1 December 2026, 08:00 UTC.
    coordinator = bot.fake.add_user("Carla", "Coordinatrice")
    coordinator.has_started = True
    group = bot.fake.create_group("Tavolo politico", coordinator)
    bot.fake.set_bot_admin(group, can_pin=True)
    now = bot.clock.now()
    starts = datetime(2026, 12, 2, 16, 0, tzinfo=UTC)  # tomorrow, 17:00 in Rome
    async with bot.db.transaction() as session:
        world = await make_union(session, name="Unione", comuni=["Alfa"], now=now)
        session.add(MeetingSettings(union_id=world.union.id, auto_poll_enabled=False))
        await add_member(
            session,
            world,
            role=Role.STAFF,
            name="Carla",
            coordinator=True,
            telegram_user_id=coordinator.id,
            now=now,
        )
        await link_group(session, world, table=TableKind.POLITICAL, chat_id=group.id, now=now)
        await make_meeting(session, world, starts_at=starts, now=now - timedelta(days=5))

    attempts = record_claims(monkeypatch)

    async def tick(at: datetime) -> list[str]:
        attempts.clear()
        bot.clock.set(at)
        await bot.tick()
        return sorted(attempts)

    # The first tick: the day-before reminder is due (less than 24 hours ahead), today's outbox
    # purge, and November's update round is settled as skipped (its deadline is past).
    assert await tick(datetime(2026, 12, 1, 17, 0, tzinfo=UTC)) == [
        "meeting_remind_day",
        "outbox_purge",
        "upd_round_skip",
    ]
    for minutes in (1, 2, 30):
        assert await tick(datetime(2026, 12, 1, 17, minutes, tzinfo=UTC)) == []
    # One hour before (a new day: its outbox purge too): the hour reminder, once.
    assert await tick(starts - timedelta(minutes=59)) == ["meeting_remind_hour", "outbox_purge"]
    assert await tick(starts - timedelta(minutes=58)) == []
    # Once it has started, both reminders are known to be claimed; the attendance list, due
    # since half an hour before the start, is claimed once (issue 19), then nothing to write.
    assert await tick(starts + timedelta(minutes=5)) == ["meeting_attendance"]
    assert await tick(starts + timedelta(minutes=6)) == []
    assert await tick(starts + timedelta(hours=3)) == []

    async with bot.db.transaction() as session:
        kinds = sorted((await session.execute(select(JobClaim.kind))).scalars())
        reminders = sorted(
            k
            for k in (await session.execute(select(OutboxMessage.dedup_key))).scalars()
            if k.startswith("mtgrem")
        )
    assert kinds.count("meeting_remind_day") == kinds.count("meeting_remind_hour") == 1
    assert reminders == [f"mtgremday:1:{group.id}", f"mtgremhour:1:{group.id}"]
    texts = [m.text or "" for m in bot.fake.sent_to(group)]
    assert sum(t.startswith("⏰ Domani") for t in texts) == 1
    assert sum(t.startswith("⏰ Tra un'ora") for t in texts) == 1


async def test_a_poll_closing_claims_each_step_once(
    bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reminder, its delivery report, closing, the announcement's pin: each claimed on the tick
    it becomes due; the ticks in between write no claim."""
    coordinator = bot.fake.add_user("Carla", "Coordinatrice")
    sindaca = bot.fake.add_user("Sara", "Sindaca")
    coordinator.has_started = sindaca.has_started = True
    group = bot.fake.create_group("Tavolo politico", coordinator, members=[sindaca])
    bot.fake.set_bot_admin(group, can_pin=True)
    now = bot.clock.now()
    async with bot.db.transaction() as session:
        world = await make_union(session, name="Unione", comuni=["Alfa"], now=now)
        session.add(MeetingSettings(union_id=world.union.id, auto_poll_enabled=False))
        await add_member(
            session,
            world,
            role=Role.STAFF,
            name="Carla",
            coordinator=True,
            telegram_user_id=coordinator.id,
            now=now,
        )
        sara = await add_member(
            session,
            world,
            role=Role.SINDACO,
            name="Sara",
            comuni=world.comuni,
            telegram_user_id=sindaca.id,
            now=now,
        )
        await link_group(session, world, table=TableKind.POLITICAL, chat_id=group.id, now=now)
        first = datetime(2026, 12, 9, 16, 0, tzinfo=UTC)
        poll = await meetings_repo.create_poll(
            session,
            union_id=world.union.id,
            table=PollTable.POLITICAL,
            title="Riunione di dicembre",
            agenda=None,
            place=None,
            deadline_at=datetime(2026, 12, 2, 10, 0, tzinfo=UTC),
            slots=[(first + timedelta(days=d), first + timedelta(days=d, hours=2)) for d in (0, 1)],
            created_by_member_id=None,
            now=now,
        )
        assert poll is not None
        slot_id = (
            (
                await session.execute(
                    select(Slot.id).where(Slot.poll_id == poll.id).order_by(Slot.id)
                )
            )
            .scalars()
            .first()
        )
        assert slot_id is not None
        session.add(Vote(slot_id=slot_id, member_id=sara.id, answer=Answer.YES, updated_at=now))

    attempts = record_claims(monkeypatch)

    async def tick(at: datetime) -> list[str]:
        attempts.clear()
        bot.clock.set(at)
        await bot.tick()
        return sorted(attempts)

    # 17:00, less than 24 hours before the deadline: Carla has not answered and is reminded;
    # the reminder is delivered in the same tick, so its (empty) delivery report is settled too.
    assert await tick(datetime(2026, 12, 1, 17, 0, tzinfo=UTC)) == [
        "outbox_purge",
        "poll_reminder",
        "poll_reminder_report",
        "upd_round_skip",
    ]
    for minutes in (1, 2, 30):
        assert await tick(datetime(2026, 12, 1, 17, minutes, tzinfo=UTC)) == []
    # Past the deadline (a new day: its purge too): the poll closes on 9 December, the
    # announcement is sent and pinned.
    assert await tick(datetime(2026, 12, 2, 10, 1, tzinfo=UTC)) == [
        "meeting_pin",
        "meeting_pin_done",
        "outbox_purge",
    ]
    for minutes in (2, 3, 59):
        assert await tick(datetime(2026, 12, 2, 10, minutes, tzinfo=UTC)) == []
    announcement = next(m for m in bot.fake.sent_to(group) if (m.text or "").startswith("📣"))
    assert announcement.pinned
    to_carla = [m.text or "" for m in bot.fake.sent_to(coordinator)]
    reminders = [t for t in to_carla if "Riunione di dicembre" in t and "bozza" not in t]
    assert len(reminders) == 1
    # and the agenda's draft, once (bot.services.meetings.agenda)
    assert len([t for t in to_carla if t.startswith("Ho preparato la bozza")]) == 1
