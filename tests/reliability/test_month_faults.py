"""Faults found by the crash month (tests/reliability/crash_month.py), each pinned by a test."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.jobs import run_tick
from storage.models import Answer, MeetingSettings, OutboxStatus, Vote
from tests.reliability.conftest import BotFactory
from tests.reliability.crash_month import seed_team
from tests.reliability.world import outbox_rows, reports

ROME = ZoneInfo("Europe/Rome")
REMINDER = "Non hai ancora risposto al sondaggio"


async def test_an_uncertain_poll_reminder_is_reported_as_uncertain_not_as_unreachable(
    make_bot: BotFactory,
) -> None:
    """The poll's own report says the person never started the bot or blocked it: wrong for a
    reminder that may well have arrived. It goes to the coordinator as uncertain instead."""
    bot = await make_bot(read_timeout=0.5)
    fake, clock = bot.fake, bot.clock
    team = await seed_team(bot.db, fake, clock.now() - timedelta(days=2), comuni=1)
    clock.set(datetime(2026, 12, 1, 9, 1, tzinfo=ROME))
    await bot.tick()  # the monthly poll
    clock.set(datetime(2026, 12, 5, 9, 1, tzinfo=ROME))
    fake.stall_next("sendMessage", seconds=2, deliver=True)  # the first reminder's answer is lost
    await bot.tick()
    await bot.advance(minutes=1)
    texts = [m.text or "" for m in fake.sent_to(team.coordinator)]
    assert not any("Non sono riuscito a mandare il promemoria" in t for t in texts)
    (report,) = reports(fake, team.coordinator)
    assert report is not None and "Non so se questi messaggi sono arrivati" in report
    reminded = [
        u for u in team.users.values() if any("⏰" in (m.text or "") for m in fake.sent_to(u))
    ]
    assert len(reminded) == 3  # delivered once each, the uncertain one included, never resent
    for user in reminded:
        assert len([m for m in fake.sent_to(user) if "⏰" in (m.text or "")]) == 1


async def test_a_vote_answered_too_late_is_stored_and_not_an_error(
    make_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """A press that waited while the bot restarted: Telegram refuses the late toast ("query
    is too old"). The vote is stored; the log says so at INFO, no error and no second try."""
    bot = await make_bot()
    fake, clock = bot.fake, bot.clock
    team = await seed_team(bot.db, fake, clock.now() - timedelta(days=2), comuni=1)
    clock.set(datetime(2026, 12, 1, 9, 1, tzinfo=ROME))
    await bot.tick()
    poll = next(m for m in fake.sent_to(team.political) if (m.text or "").startswith("🗓"))
    slot = next(
        d for _t, d in (b for row in poll.buttons for b in row) if d and d.startswith("vote:y:")
    )
    fake.callback_answer_timeout = 0
    press = await team.users["sindaco:0"].press(poll, slot)
    await bot.settle()
    assert press.answer is None
    async with bot.db.transaction() as session:
        votes = list((await session.execute(select(Vote))).scalars())
    assert [(v.slot_id, v.answer) for v in votes] == [(int(slot.rsplit(":", 1)[1]), Answer.YES)]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("answered too late" in r.getMessage() for r in caplog.records)
    assert len(fake.calls_of("answerCallbackQuery")) == 1


async def test_poll_reminders_stuck_in_the_outbox_are_withdrawn_when_the_poll_closes(
    make_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram unreachable from before the reminders until after the deadline: once back,
    nobody is asked to answer a closed poll; the closing is announced; one log line."""
    bot = await make_bot()
    fake, clock = bot.fake, bot.clock
    team = await seed_team(bot.db, fake, clock.now() - timedelta(days=2), comuni=1)
    clock.set(datetime(2026, 12, 1, 9, 1, tzinfo=ROME))
    await bot.tick()
    poll = next(m for m in fake.sent_to(team.political) if (m.text or "").startswith("🗓"))
    yes = next(d for _t, d in (b for row in poll.buttons for b in row) if d and "vote:y:" in d)
    await (await team.users["sindaco:0"].press(poll, yes)).answered()
    await fake.go_offline()
    try:
        clock.set(datetime(2026, 12, 5, 9, 1, tzinfo=ROME))
        await run_tick(bot.application)
        assert [r.status for r in await outbox_rows(bot.db, "pollrem:")] == [
            OutboxStatus.PENDING
        ] * 3
        clock.set(datetime(2026, 12, 6, 9, 1, tzinfo=ROME))
        await run_tick(bot.application)
    finally:
        await fake.go_online()
    await bot.advance(minutes=10)
    assert await outbox_rows(bot.db, "pollrem:") == []
    for user in team.users.values():
        assert not any(REMINDER in (m.text or "") for m in fake.sent_to(user))
    assert len([m for m in fake.sent_to(team.political) if "📣" in (m.text or "")]) == 1
    assert (
        len([r for r in caplog.records if "reminders not sent, the poll closed" in r.getMessage()])
        == 1
    )


async def test_round_reminders_stuck_in_the_outbox_are_withdrawn_when_the_round_closes(
    make_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await make_bot()
    fake, clock = bot.fake, bot.clock
    team = await seed_team(bot.db, fake, clock.now() - timedelta(days=2), comuni=2)
    async with bot.db.transaction() as session:
        session.add(MeetingSettings(union_id=team.union_id, auto_poll_enabled=False))
    clock.set(datetime(2026, 12, 20, 10, 1, tzinfo=ROME))
    await bot.tick()  # the round opens, the invitations go out
    await fake.go_offline()
    try:
        clock.set(datetime(2026, 12, 23, 10, 1, tzinfo=ROME))
        await run_tick(bot.application)
        assert len(await outbox_rows(bot.db, "upd:rem:")) == 2
        clock.set(datetime(2026, 12, 25, 10, 1, tzinfo=ROME))
        await run_tick(bot.application)
    finally:
        await fake.go_online()
    await bot.advance(minutes=10)
    assert await outbox_rows(bot.db, "upd:rem:") == []
    for user in team.technicians():
        assert not any("⏰ Promemoria" in (m.text or "") for m in fake.sent_to(user))
    lines = [r for r in caplog.records if "messages not sent, the round closed" in r.getMessage()]
    assert len(lines) == 1 and "2 messages" in lines[0].getMessage()
    assert (
        len([m for m in fake.sent_to(team.political) if "2026" in (m.text or "")]) == 1
    )  # summary
