"""Faults found by the crash month (tests/reliability/crash_month.py), each pinned by a test."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.jobs import run_tick
from storage.models import (
    Answer,
    Meeting,
    MeetingSettings,
    OutboxStatus,
    PollTable,
    Slot,
    UpdateRound,
    Vote,
)
from storage.repositories import meetings as meetings_repo
from tests.e2e.harness import BotUnderTest
from tests.factories import record_claims
from tests.fakes.fake_world import FakeChat, FakeMessage
from tests.fakes.telegram_server import FakeCall, FakeTelegram
from tests.reliability.conftest import BotFactory
from tests.reliability.crash_month import Team, seed_team
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
    lines = [r.getMessage() for r in caplog.records if "their moment passed" in r.getMessage()]
    assert len(lines) == 1 and "2 messages not sent" in lines[0]
    assert lines[0].count("upd:rem:") == 2
    assert (
        len([m for m in fake.sent_to(team.political) if "2026" in (m.text or "")]) == 1
    )  # summary


async def _one_date_poll(
    bot: BotUnderTest, team: Team, starts: datetime, *, deadline: datetime
) -> None:
    """An extra poll with one date, which a Sindaco has already said yes to."""
    async with bot.db.transaction() as session:
        poll = await meetings_repo.create_poll(
            session,
            union_id=team.union_id,
            table=PollTable.BOTH,
            title="Riunione straordinaria",
            agenda=None,
            place=None,
            deadline_at=deadline,
            slots=[(starts, starts + timedelta(hours=2))],
            created_by_member_id=None,
            now=bot.clock.now(),
        )
        assert poll is not None
        (slot,) = (await session.execute(select(Slot).where(Slot.poll_id == poll.id))).scalars()
        session.add(
            Vote(
                slot_id=slot.id,
                member_id=team.member_of[team.users["sindaco:0"].id],
                answer=Answer.YES,
                updated_at=bot.clock.now(),
            )
        )


async def _monthly_meeting(bot: BotUnderTest, team: Team) -> Meeting:
    """The December poll opens on the 1st, a mayor says yes, it closes on the 6th: the meeting."""
    clock, fake = bot.clock, bot.fake
    clock.set(datetime(2026, 12, 1, 9, 1, tzinfo=ROME))
    await bot.tick()
    poll = next(m for m in fake.sent_to(team.political) if (m.text or "").startswith("🗓"))
    yes = next(d for _t, d in (b for row in poll.buttons for b in row) if d and "vote:y:" in d)
    await (await team.users["sindaco:0"].press(poll, yes)).answered()
    clock.set(datetime(2026, 12, 6, 9, 1, tzinfo=ROME))
    await bot.tick()
    await bot.settle()
    async with bot.db.transaction() as session:
        (meeting,) = (await session.execute(select(Meeting))).scalars()
    return meeting


def _calls(fake: FakeTelegram, method: str, chat: FakeChat) -> list[FakeCall]:
    return [c for c in fake.calls_of(method) if c.params.get("chat_id") == chat.id]


def _announcements(fake: FakeTelegram, chat: FakeChat) -> list[FakeMessage]:
    return [m for m in fake.sent_to(chat) if (m.text or "").startswith("📣")]


@pytest.mark.parametrize("delivered", [False, True])
async def test_a_pin_interrupted_is_made_at_the_next_tick_and_never_twice(
    make_bot: BotFactory, delivered: bool
) -> None:
    """The pin is recorded as owed before the call: the call's answer lost (the bot killed, or
    Telegram unreachable) leaves it owed, and the tick after the restart settles it: pinned
    if it was not, left alone (no second pin) if Telegram had taken it."""
    bot = await make_bot(read_timeout=0.5)
    fake = bot.fake
    team = await seed_team(bot.db, fake, bot.clock.now() - timedelta(days=2), comuni=1)
    fake.set_bot_admin(team.political, can_pin=True)
    # Closing pins at once: the answer is lost. (The technical group's pin is not tried: the
    # bot may not pin there, getChatMember says so.)
    fake.stall_next("pinChatMessage", seconds=2, deliver=delivered)
    await _monthly_meeting(bot, team)
    (announcement,) = _announcements(fake, team.political)
    assert announcement.pinned is delivered
    # Telegram failed it moments ago: the same tick does not try again.
    assert _calls(fake, "getChat", team.political) == []
    await bot.restart()
    await bot.advance(minutes=1)
    assert announcement.pinned
    assert team.political.pinned_ids == [announcement.message_id]
    pins = _calls(fake, "pinChatMessage", team.political)
    assert len([c for c in pins if c.ok or delivered]) == 1  # pinned once, never twice
    # Re-driven, the pin is asked about first: taken already, it is not made again.
    assert len(_calls(fake, "getChat", team.political)) == 1
    await bot.advance(minutes=1)  # settled: nothing more is asked
    assert len(_calls(fake, "getChat", team.political)) == 1
    assert _calls(fake, "pinChatMessage", team.political) == pins


async def test_a_pin_telegram_keeps_failing_is_tried_less_and_less_often(
    make_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram answers 502 to every pin for a while: the owed pin is tried again after 1, 2,
    4 … minutes (at most hourly), one warning per try, not at every tick; then it goes through."""
    bot = await make_bot()
    fake = bot.fake
    team = await seed_team(bot.db, fake, bot.clock.now() - timedelta(days=2), comuni=1)
    fake.set_bot_admin(team.political, can_pin=True)
    fake.set_bot_admin(team.technical, can_pin=True)
    fake.fail_next("pinChatMessage", 502, "Bad Gateway", count=10)
    await _monthly_meeting(bot, team)  # closing: the first try in each group fails
    for _minute in range(15):
        await bot.advance(minutes=1)
    # Per group: tries at 0, 1, 3, 7 and 15 minutes (5 × 2 = the 10 failures), none in between.
    assert len(_calls(fake, "pinChatMessage", team.political)) == 5
    warnings = [
        r for r in caplog.records if "pin in" in r.getMessage() and "failed" in r.getMessage()
    ]
    assert len(warnings) == 10
    # The error once per pin — a 502 is a condition of the world, not a bug: its one-line
    # summary, no traceback (bot/logging_setup.py).
    assert sum(1 for r in warnings if "NetworkError: Bad Gateway" in r.getMessage()) == 2
    assert not any(r.exc_info for r in warnings)
    for _minute in range(16):
        await bot.advance(minutes=1)
    (announcement,) = _announcements(fake, team.political)
    assert announcement.pinned
    assert len(_calls(fake, "pinChatMessage", team.political)) == 6


async def test_a_pin_the_bot_may_not_make_is_not_tried_and_said_once(
    make_bot: BotFactory,
) -> None:
    """The bot is no administrator: it asks Telegram for its rights (getChatMember), does not
    try the pin, and tells the coordinator once per group which right to give; the pin is
    settled, never retried, and a later meeting says nothing more."""
    bot = await make_bot()
    fake = bot.fake
    team = await seed_team(bot.db, fake, bot.clock.now() - timedelta(days=2), comuni=1)
    await _monthly_meeting(bot, team)
    (announcement,) = _announcements(fake, team.political)
    await bot.advance(minutes=1)
    await bot.advance(minutes=1)
    assert not announcement.pinned
    assert _calls(fake, "pinChatMessage", team.political) == []
    assert len(_calls(fake, "getChatMember", team.political)) == 1
    assert not fake.calls_of("getChat")
    told = [
        m.text or ""
        for m in fake.sent_to(team.coordinator)
        if "non posso fissare l'annuncio" in (m.text or "")
    ]
    assert len(told) == 2  # once for each of the two groups, naming it and the right
    assert any("«Tavolo politico»" in t and "«Fissa messaggi»" in t for t in told)


async def test_meeting_reminders_stuck_in_the_outbox_are_withdrawn_when_the_meeting_starts(
    make_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await make_bot()
    fake, clock = bot.fake, bot.clock
    team = await seed_team(bot.db, fake, clock.now() - timedelta(days=2), comuni=1)
    meeting = await _monthly_meeting(bot, team)
    await fake.go_offline()
    try:
        clock.set(meeting.starts_at - timedelta(hours=20))
        await run_tick(bot.application)
        clock.set(meeting.starts_at - timedelta(minutes=30))
        await run_tick(bot.application)
        # The day before and the hour before, in both groups (a joint meeting).
        assert len(await outbox_rows(bot.db, "mtgrem")) == 4
        clock.set(meeting.starts_at + timedelta(minutes=1))
        await run_tick(bot.application)
    finally:
        await fake.go_online()
    await bot.advance(minutes=10)
    assert await outbox_rows(bot.db, "mtgrem") == []
    for chat in (team.political, team.technical):
        assert not any("⏰" in (m.text or "") for m in fake.sent_to(chat))
        assert not any("Convocazione" in (m.text or "") for m in fake.sent_to(chat))
    # With the reminders, the convocation and its .ics (the meeting was fixed within the five
    # days, so it went out late, into the same outage): all expire when the meeting starts.
    lines = [r.getMessage() for r in caplog.records if "their moment passed" in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith("Outbox: 8 messages not sent")
    assert lines[0].count(f":{meeting.id}:") == 8 and lines[0].count("mtgrem") == 4
    assert lines[0].count("agdconv:") == 2 and lines[0].count("agdics:") == 2


async def test_meeting_reminders_delayed_but_before_the_start_still_go_out(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot()
    fake, clock = bot.fake, bot.clock
    team = await seed_team(bot.db, fake, clock.now() - timedelta(days=2), comuni=1)
    meeting = await _monthly_meeting(bot, team)
    await fake.go_offline()
    try:
        clock.set(meeting.starts_at - timedelta(hours=20))
        await run_tick(bot.application)
    finally:
        await fake.go_online()
    clock.set(meeting.starts_at - timedelta(hours=19))
    await bot.advance(minutes=10)
    assert len([m for m in fake.sent_to(team.political) if "⏰" in (m.text or "")]) == 1


async def test_poll_reminders_refused_are_reported_after_the_close_once(
    make_bot: BotFactory,
) -> None:
    """One reminder refused (the person blocked the bot), another held back by flood control
    until after the deadline: the close withdraws the held one, and the coordinator still hears,
    once, who could not be reached."""
    bot = await make_bot()
    fake, clock = bot.fake, bot.clock
    team = await seed_team(bot.db, fake, clock.now() - timedelta(days=2), comuni=1)
    clock.set(datetime(2026, 12, 1, 9, 1, tzinfo=ROME))
    await bot.tick()
    poll = next(m for m in fake.sent_to(team.political) if (m.text or "").startswith("🗓"))
    yes = next(d for _t, d in (b for row in poll.buttons for b in row) if d and "vote:y:" in d)
    await (await team.users["sindaco:0"].press(poll, yes)).answered()
    blocked = team.users["tecnico:0"]
    blocked.has_started = False
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 172800", retry_after=172800)
    clock.set(datetime(2026, 12, 5, 9, 1, tzinfo=ROME))
    await bot.tick()
    await bot.settle()
    rows = await outbox_rows(bot.db, "pollrem:")
    assert sorted(r.status for r in rows) == sorted(
        [OutboxStatus.PENDING, OutboxStatus.FAILED, OutboxStatus.SENT]
    )
    assert not any(
        "Non sono riuscito" in (m.text or "") for m in fake.sent_to(team.coordinator)
    )  # not yet: one reminder is still waiting
    clock.set(datetime(2026, 12, 6, 9, 1, tzinfo=ROME))
    await bot.tick()  # the close, and the report at once
    await bot.settle()

    def report() -> list[str]:
        return [
            m.text or ""
            for m in fake.sent_to(team.coordinator)
            if "Non sono riuscito a mandare il promemoria" in (m.text or "")
        ]

    assert len(report()) == 1 and blocked.full_name in report()[0]
    for _ in range(3):
        await bot.advance(minutes=1)
    assert len(report()) == 1
    assert [r.status for r in await outbox_rows(bot.db, "pollrem:")].count(
        OutboxStatus.PENDING
    ) == 0


async def test_a_meeting_fixed_after_a_skipped_round_still_gets_its_round(
    make_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The bot was down over the fallback round's whole window (20–25 December): that round is
    skipped. A meeting fixed later in the month (on the 27th, for the 30th) still gets the round
    the rule promises as soon as a meeting is fixed, with its deadline two days before it."""
    bot = await make_bot()
    fake, clock = bot.fake, bot.clock
    team = await seed_team(bot.db, fake, clock.now() - timedelta(days=2), comuni=1)
    async with bot.db.transaction() as session:
        session.add(MeetingSettings(union_id=team.union_id, auto_poll_enabled=False))
    clock.set(datetime(2026, 12, 26, 9, 0, tzinfo=ROME))
    await bot.tick()
    assert any(
        r.getMessage().startswith("Update round 2026-12 of Union") and "skipped" in r.getMessage()
        for r in caplog.records
    )
    starts = datetime(2026, 12, 30, 17, 0, tzinfo=ROME)
    await _one_date_poll(bot, team, starts, deadline=datetime(2026, 12, 27, 12, 0, tzinfo=ROME))
    for _ in range(3):  # nothing fixed yet: the skipped month stays quiet
        await bot.advance(minutes=1)
    async with bot.db.transaction() as session:
        assert (await session.execute(select(UpdateRound))).first() is None
    clock.set(datetime(2026, 12, 27, 12, 1, tzinfo=ROME))
    await bot.tick()
    await bot.advance(minutes=1)
    async with bot.db.transaction() as session:
        (round_,) = (await session.execute(select(UpdateRound))).scalars()
        (meeting,) = (await session.execute(select(Meeting))).scalars()
    assert round_.period == "2026-12" and round_.meeting_id == meeting.id
    assert round_.deadline_at == starts - timedelta(days=2)
    (technician,) = team.technicians()
    asked = [m for m in fake.sent_to(technician) if "Aggiornamento di dicembre" in (m.text or "")]
    assert len(asked) == 1
    await bot.advance(minutes=1)  # once: the round exists now
    async with bot.db.transaction() as session:
        assert len((await session.execute(select(UpdateRound))).all()) == 1


async def test_a_skipped_month_with_a_meeting_too_close_for_a_round_stays_skipped(
    make_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A meeting fixed on the 29th for the 30th leaves no time for a round: none opens, and
    the ticks after write nothing (the skip is claimed once)."""
    bot = await make_bot()
    fake, clock = bot.fake, bot.clock
    team = await seed_team(bot.db, fake, clock.now() - timedelta(days=2), comuni=1)
    async with bot.db.transaction() as session:
        session.add(MeetingSettings(union_id=team.union_id, auto_poll_enabled=False))
    clock.set(datetime(2026, 12, 29, 9, 0, tzinfo=ROME))
    await bot.tick()
    starts = datetime(2026, 12, 30, 17, 0, tzinfo=ROME)
    await _one_date_poll(bot, team, starts, deadline=datetime(2026, 12, 29, 10, 0, tzinfo=ROME))
    clock.set(datetime(2026, 12, 29, 10, 1, tzinfo=ROME))
    await bot.tick()
    attempts = record_claims(monkeypatch)
    for _ in range(3):
        await bot.advance(minutes=1)
    assert "upd_round_skip" not in attempts
    async with bot.db.transaction() as session:
        assert (await session.execute(select(UpdateRound))).first() is None
        assert len((await session.execute(select(Meeting))).all()) == 1
