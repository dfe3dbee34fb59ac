"""The outbox against Telegram's failures: nothing lost, nothing sent twice, waits as told."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import delivery
from storage.models import LinkedChat, OutboxStatus, TableKind
from storage.repositories import outbox as outbox_repo
from tests.e2e.harness import BotUnderTest
from tests.fakes.telegram_server import FakeUser
from tests.reliability.conftest import BotFactory
from tests.reliability.world import (
    enqueue_texts,
    outbox_rows,
    person,
    reports,
    seed_union,
    texts,
)


def _sent_once(
    bot: BotUnderTest, world_members: list[FakeUser], marker: str = "Promemoria"
) -> None:
    for user in world_members:
        got = [t for t in texts(bot.fake, user) if t and marker in t]
        assert len(got) == 1, (user.full_name, got)


@pytest.mark.parametrize("rate_limiter", [False, True], ids=["plain", "aioratelimiter"])
async def test_429_waits_as_told_and_sends_once(
    make_bot: BotFactory, rate_limiter: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    bot = await make_bot(rate_limiter=rate_limiter)
    fake, clock = bot.fake, bot.clock
    world = await seed_union(bot.db, fake, clock.now(), members=3)
    await enqueue_texts(bot.db, world, clock.now())
    # Plain: the first send answers 429 once. With AIORateLimiter, PTB itself retries up to
    # three times (sleeping as told); a fourth 429 reaches the outbox.
    fake.fail_next(
        "sendMessage",
        429,
        "Too Many Requests: retry after 1",
        retry_after=1,
        count=4 if rate_limiter else 1,
    )
    await bot.tick()
    rows = await outbox_rows(bot.db, "t:")
    first = rows[0]
    assert first.status == OutboxStatus.PENDING and first.error == "retry after"
    assert first.not_before == clock.now() + timedelta(seconds=1)
    # The others (other chats) went on.
    assert [r.status for r in rows[1:]] == [OutboxStatus.SENT, OutboxStatus.SENT]
    await bot.tick()  # not due yet: the fake clock has not moved
    assert texts(fake, world.members[0]) == []
    await bot.advance(seconds=2)
    _sent_once(bot, world.members)
    assert {r.status for r in await outbox_rows(bot.db, "t:")} == {OutboxStatus.SENT}
    assert fake.count_429 == (4 if rate_limiter else 1)
    await bot.advance(minutes=5)
    _sent_once(bot, world.members)


async def test_aioratelimiter_absorbs_a_short_429(
    make_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    bot = await make_bot(rate_limiter=True)
    fake, clock = bot.fake, bot.clock
    world = await seed_union(bot.db, fake, clock.now(), members=2)
    await enqueue_texts(bot.db, world, clock.now())
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    await bot.tick()
    rows = await outbox_rows(bot.db, "t:")
    assert [r.status for r in rows] == [OutboxStatus.SENT, OutboxStatus.SENT]
    assert [r.attempts for r in rows] == [1, 1]  # one outbox attempt; PTB retried inside it
    _sent_once(bot, world.members)


@pytest.mark.parametrize("code", [500, 502])
async def test_server_error_answer_goes_back_to_pending_and_is_sent_once(
    bot: BotUnderTest, code: int
) -> None:
    fake, clock = bot.fake, bot.clock
    world = await seed_union(bot.db, fake, clock.now(), members=3)
    await enqueue_texts(bot.db, world, clock.now())
    fake.fail_next("sendMessage", code, "Internal Server Error")
    await bot.tick()
    rows = await outbox_rows(bot.db, "t:")
    # Telegram said it failed: back to pending with a backoff, and the round stopped there.
    assert [r.status for r in rows] == [OutboxStatus.PENDING] * 3
    assert rows[0].not_before == clock.now() + timedelta(seconds=delivery.RETRY_BASE_SECONDS)
    assert rows[1].attempts == rows[2].attempts == 0
    await bot.advance(seconds=delivery.RETRY_BASE_SECONDS)
    _sent_once(bot, world.members)
    assert {r.status for r in await outbox_rows(bot.db, "t:")} == {OutboxStatus.SENT}


async def test_server_error_forever_gives_up_and_reports(bot: BotUnderTest) -> None:
    fake, clock = bot.fake, bot.clock
    world = await seed_union(bot.db, fake, clock.now(), members=1)
    await enqueue_texts(bot.db, world, clock.now())
    fake.fail_next("sendMessage", 500, "Internal Server Error", count=delivery.MAX_SERVER_ERRORS)
    for _ in range(delivery.MAX_SERVER_ERRORS):
        await bot.advance(minutes=6)
    (row,) = await outbox_rows(bot.db, "t:")
    assert row.status == OutboxStatus.FAILED and row.attempts == delivery.MAX_SERVER_ERRORS
    report = reports(fake, world.coordinator)
    assert len(report) == 1 and "Telegram ha dato errore più volte" in (report[0] or "")


async def test_connection_refused_keeps_everything_pending_then_sends_once(
    bot: BotUnderTest,
) -> None:
    fake, clock = bot.fake, bot.clock
    world = await seed_union(bot.db, fake, clock.now(), members=3)
    await enqueue_texts(bot.db, world, clock.now())
    await bot.settle()
    await fake.go_offline()
    try:
        attempted = await delivery.flush(bot.services, bot.application.bot)
    finally:
        await fake.go_online()
    assert attempted == 1  # the round stops at the first refused connection
    rows = await outbox_rows(bot.db, "t:")
    assert [r.status for r in rows] == [OutboxStatus.PENDING] * 3
    assert "ConnectError" in (rows[0].error or "")
    assert rows[0].not_before is not None and rows[1].not_before is None
    await bot.advance(seconds=delivery.RETRY_BASE_SECONDS)
    _sent_once(bot, world.members)
    assert {r.status for r in await outbox_rows(bot.db, "t:")} == {OutboxStatus.SENT}


async def test_answer_lost_after_delivery_is_uncertain_not_resent_and_reported(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot(read_timeout=0.5)
    fake, clock = bot.fake, bot.clock
    world = await seed_union(bot.db, fake, clock.now(), members=3)
    await enqueue_texts(bot.db, world, clock.now())
    fake.stall_next("sendMessage", seconds=3, deliver=True)
    await bot.tick()
    rows = await outbox_rows(bot.db, "t:")
    assert [r.status for r in rows] == [
        OutboxStatus.UNCERTAIN,
        OutboxStatus.SENT,
        OutboxStatus.SENT,
    ]
    assert rows[0].reported_at == clock.now()
    # Delivered once by Telegram, never resent by us.
    for _ in range(3):
        await bot.advance(minutes=10)
    _sent_once(bot, world.members)
    # The coordinator hears about it exactly once, in Italian, naming whom and what.
    (report,) = reports(fake, world.coordinator)
    assert report is not None
    assert "Messaggi da controllare" in report and "Unione Bassa Romagna" in report
    assert "Tecnico0 Comunale" in report and "Non li rimando" in report
    assert "Tecnico1" not in report


async def test_report_is_in_the_coordinators_language(bot: BotUnderTest) -> None:
    fake, clock = bot.fake, bot.clock
    world = await seed_union(bot.db, fake, clock.now(), members=2, coordinator_language="en")
    await enqueue_texts(bot.db, world, clock.now())
    world.members[1].blocked = True
    await bot.tick()
    (report,) = reports(fake, world.coordinator)
    assert report is not None and "Messages to check" in report and "blocked the bot" in report


async def test_403_marks_the_person_unreachable_and_others_are_delivered(
    bot: BotUnderTest,
) -> None:
    fake, clock = bot.fake, bot.clock
    world = await seed_union(bot.db, fake, clock.now(), members=4)
    never, blocked = world.members[0], world.members[2]
    never.has_started = False
    blocked.blocked = True
    await enqueue_texts(bot.db, world, clock.now())
    await bot.tick()
    rows = {r.dedup_key: r for r in await outbox_rows(bot.db, "t:")}
    assert rows[f"t:{never.id}"].status == OutboxStatus.FAILED
    assert rows[f"t:{blocked.id}"].status == OutboxStatus.FAILED
    _sent_once(bot, [world.members[1], world.members[3]])
    assert not (await person(bot.db, never.id)).reachable
    assert "initiate" in ((await person(bot.db, never.id)).unreachable_reason or "")
    assert not (await person(bot.db, blocked.id)).reachable
    assert (await person(bot.db, world.members[1].id)).reachable
    (report,) = reports(fake, world.coordinator)
    assert report is not None
    assert "non ha ancora avviato il bot" in report and "ha bloccato il bot" in report
    await bot.advance(hours=1)
    assert len(reports(fake, world.coordinator)) == 1  # once


async def test_migrated_group_is_followed_and_the_message_sent_once(bot: BotUnderTest) -> None:
    fake, clock = bot.fake, bot.clock
    world = await seed_union(bot.db, fake, clock.now(), members=1)
    group = fake.create_group("Tavolo tecnico", world.coordinator, members=world.members)
    group.bot_status = "member"
    async with bot.db.transaction() as session:
        session.add(
            LinkedChat(
                union_id=world.union_id,
                table_kind=TableKind.TECHNICAL,
                chat_id=group.id,
                title="Tavolo tecnico",
                linked_at=clock.now(),
            )
        )
        await outbox_repo.enqueue(
            session,
            dedup_key="post:1",
            chat_id=group.id,
            method="sendMessage",
            payload={"text": "Riunione confermata"},
            union_id=world.union_id,
            now=clock.now(),
        )
    # The bot has not seen the service messages yet: it learns of the move from the 400.
    assert bot.application.updater is not None
    await bot.application.updater.stop()
    new_id = await fake.migrate_to_supergroup(group)
    await delivery.flush(bot.services, bot.application.bot)
    (row,) = await outbox_rows(bot.db, "post:")
    assert row.status == OutboxStatus.SENT and row.chat_id == new_id
    assert [m.text for m in fake.sent_to(new_id)] == ["Riunione confermata"]
    assert fake.sent_to(group) == []
    async with bot.db.transaction() as session:
        link = await session.get(LinkedChat, 1)
        assert link is not None and link.chat_id == new_id
    await delivery.flush(bot.services, bot.application.bot)
    assert len(fake.sent_to(new_id)) == 1


async def test_bulk_send_stays_inside_telegrams_rate(
    make_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """70 private messages at once with the production rate limiter: not one 429.

    AIORateLimiter's defaults let ~60 through in the first second (a full bucket, then 30/s);
    the fake, like Telegram, answers 429 beyond 30 in any second."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    bot = await make_bot(rate_limiter=True)
    fake, clock = bot.fake, bot.clock
    fake.enforce_rate_limits = True
    world = await seed_union(bot.db, fake, clock.now(), members=70)
    await enqueue_texts(bot.db, world, clock.now())
    await bot.tick()
    assert fake.count_429 == 0
    assert {r.status for r in await outbox_rows(bot.db, "t:")} == {OutboxStatus.SENT}
    _sent_once(bot, world.members)


async def test_send_interrupted_by_a_crash_is_uncertain_after_restart_and_reported(
    bot: BotUnderTest,
) -> None:
    fake, clock = bot.fake, bot.clock
    world = await seed_union(bot.db, fake, clock.now(), members=2)
    await enqueue_texts(bot.db, world, clock.now())
    async with bot.db.transaction() as session:  # what a kill -9 mid-send leaves behind
        (row_id, _chat), *_ = await outbox_repo.due(session, now=clock.now())
        await outbox_repo.start_sending(session, message_id=row_id)
    await bot.restart()
    rows = await outbox_rows(bot.db, "t:")
    assert rows[0].status == OutboxStatus.UNCERTAIN
    await bot.tick()
    assert texts(fake, world.members[0]) == []  # not resent blindly
    _sent_once(bot, world.members[1:])
    (report,) = reports(fake, world.coordinator)
    assert report is not None and "Tecnico0 Comunale" in report


async def test_reports_stay_inside_their_union(bot: BotUnderTest) -> None:
    fake, clock = bot.fake, bot.clock
    north = await seed_union(bot.db, fake, clock.now(), members=2, name="Unione Nord")
    south = await seed_union(bot.db, fake, clock.now(), members=2, name="Unione Sud")
    await enqueue_texts(bot.db, north, clock.now(), key="n")
    await enqueue_texts(bot.db, south, clock.now(), key="s")
    north.members[0].blocked = True
    south.members[1].blocked = True
    await bot.tick()
    (to_north,) = reports(fake, north.coordinator)
    (to_south,) = reports(fake, south.coordinator)
    assert to_north is not None and to_south is not None
    assert "Unione Nord" in to_north and "Unione Sud" not in to_north
    assert "Tecnico0" in to_north and "Tecnico1" not in to_north
    assert "Unione Sud" in to_south and "Tecnico1" in to_south and "Tecnico0" not in to_south


async def test_group_that_removed_the_bot_fails_once_and_is_reported(bot: BotUnderTest) -> None:
    fake, clock = bot.fake, bot.clock
    world = await seed_union(bot.db, fake, clock.now(), members=1)
    group = fake.create_group("Tavolo politico", world.coordinator, members=world.members)
    group.bot_status = "member"
    async with bot.db.transaction() as session:
        session.add(
            LinkedChat(
                union_id=world.union_id,
                table_kind=TableKind.POLITICAL,
                chat_id=group.id,
                title="Tavolo politico",
                linked_at=clock.now(),
            )
        )
    await fake.remove_bot_from_group(group, world.coordinator)
    await bot.settle()
    async with bot.db.transaction() as session:
        await outbox_repo.enqueue(
            session,
            dedup_key="post:2",
            chat_id=group.id,
            method="sendMessage",
            payload={"text": "Riepilogo di dicembre"},
            union_id=world.union_id,
            now=clock.now(),
        )
    await bot.tick()
    await bot.advance(hours=1)
    (row,) = await outbox_rows(bot.db, "post:")
    assert row.status == OutboxStatus.FAILED and row.attempts == 1
    (report,) = reports(fake, world.coordinator)
    assert report is not None
    # Registration unlinks the group when the bot is removed: the report says what it can.
    assert "un gruppo non più collegato" in report and "il bot è stato tolto dal gruppo" in report


async def test_problems_a_feature_reports_itself_are_left_out(bot: BotUnderTest) -> None:
    fake, clock = bot.fake, bot.clock
    world = await seed_union(bot.db, fake, clock.now(), members=2)
    bot.services.report_elsewhere("own:")
    await enqueue_texts(bot.db, world, clock.now(), key="own")
    await enqueue_texts(bot.db, world, clock.now(), key="t")
    world.members[0].blocked = True
    await bot.tick()
    (report,) = reports(fake, world.coordinator)
    assert report is not None and report.count("Tecnico0 Comunale") == 1  # the t: row only
    (own,) = [r for r in await outbox_rows(bot.db, "own:") if r.status == OutboxStatus.FAILED]
    assert own.reported_at is None  # left to its feature
