"""The bot was down across a scheduled moment, feature by feature: back up, it catches up once,
or skips with one log line when the moment no longer means anything (docs/HACKING.md, the
catch-up table). Each test stops the bot, moves the clock past the moment, starts it again and
runs two ticks: the second proves the catch-up happened once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from storage.models import (
    Meeting,
    MeetingPoll,
    MeetingSettings,
    PollStatus,
    RoundStatus,
    Summary,
    SummaryKind,
    UpdateRound,
)
from tests.e2e.harness import BotUnderTest
from tests.fakes.fake_world import FakeMessage, FakeUser
from tests.reliability.crash_month import Team, seed_team

ROME = ZoneInfo("Europe/Rome")
POLL_TEXT = "🗓"
REMINDER_TEXT = "Non hai ancora risposto al sondaggio"


def rome(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ROME)


async def team_of(bot: BotUnderTest, *, auto_poll: bool = True) -> Team:
    team = await seed_team(bot.db, bot.fake, bot.clock.now() - timedelta(days=2), comuni=3)
    if not auto_poll:
        async with bot.db.transaction() as session:
            session.add(MeetingSettings(union_id=team.union_id, auto_poll_enabled=False))
    return team


async def down_until(bot: BotUnderTest, when: datetime) -> None:
    """The bot stops, the clock moves to `when`, the bot starts and ticks twice."""
    await bot.stop()
    bot.clock.set(when)
    await bot.start()
    await bot.tick()
    await bot.tick()


def lines(caplog: pytest.LogCaptureFixture, *parts: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if all(p in r.getMessage() for p in parts)]


def polls_in(bot: BotUnderTest, chat: object) -> list[FakeMessage]:
    return [m for m in bot.fake.sent_to(chat) if (m.text or "").startswith(POLL_TEXT)]  # type: ignore[arg-type]


def texts_to(bot: BotUnderTest, chat: object, part: str) -> list[str]:
    return [m.text or "" for m in bot.fake.sent_to(chat) if part in (m.text or "")]  # type: ignore[arg-type]


async def open_poll(bot: BotUnderTest, team: Team) -> FakeMessage:
    bot.clock.set(rome(1, 9, 1))
    await bot.tick()
    [message] = polls_in(bot, team.political)
    return message


async def vote_yes(bot: BotUnderTest, users: list[FakeUser], message: FakeMessage) -> None:
    """These users answer Sì to the poll's second date (a Tuesday, 15 December)."""
    slot = [
        int((row[0][1] or "").rsplit(":", 1)[1])
        for row in message.buttons
        if (row[0][1] or "").startswith("mtg:answers:")
    ][1]
    for user in users:
        answer = await (await user.press(message, f"vote:y:{slot}")).answered()
        assert (answer.text or "").startswith("Registrato")
    await bot.settle()


async def fixed_meeting(bot: BotUnderTest, team: Team) -> Meeting:
    """The monthly poll, everyone's Sì to 15 December at 17:00, the deadline: a meeting."""
    message = await open_poll(bot, team)
    await vote_yes(bot, [team.users[f"sindaco:{i}"] for i in range(3)], message)
    bot.clock.set(rome(6, 9, 1))
    await bot.tick()
    async with bot.db.transaction() as session:
        meeting = (await session.execute(select(Meeting))).scalar_one()
    assert meeting.starts_at == rome(15, 17)
    return meeting


# --- the monthly poll ---------------------------------------------------------------------


async def test_monthly_poll_opens_once_when_the_bot_comes_back_in_its_month(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    team = await team_of(bot)
    bot.clock.set(rome(1, 8, 0))
    with caplog.at_level(logging.INFO):
        await down_until(bot, rome(3, 11, 0))  # down across the 1st at 09:00
    assert len(polls_in(bot, team.political)) == 1
    assert len(polls_in(bot, team.technical)) == 1
    assert len(lines(caplog, "monthly poll 2026-12 opened")) == 1


async def test_monthly_poll_skipped_with_a_log_line_when_the_month_is_almost_over(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    team = await team_of(bot)
    with caplog.at_level(logging.INFO):
        await down_until(bot, rome(30, 11, 0))  # one usable date left: not a poll
    assert polls_in(bot, team.political) == [] and polls_in(bot, team.technical) == []
    assert len(lines(caplog, "monthly poll 2026-12 skipped (month almost over)")) == 1
    assert len(texts_to(bot, team.coordinator, "non è partito")) == 1


# --- the poll's reminder and deadline -----------------------------------------------------


async def test_poll_reminder_caught_up_once_while_the_deadline_is_ahead(bot: BotUnderTest) -> None:
    team = await team_of(bot)
    message = await open_poll(bot, team)
    await vote_yes(bot, [team.users["sindaco:0"]], message)
    # Down from the 4th to the evening of the 5th: the reminder was due at 09:00 on the 5th.
    await down_until(bot, rome(5, 20, 0))
    for key, user in team.users.items():
        assert len(texts_to(bot, user, REMINDER_TEXT)) == (0 if key == "sindaco:0" else 1), key


async def test_poll_deadline_passed_while_down_closes_once_and_the_reminder_is_skipped(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    team = await team_of(bot)
    message = await open_poll(bot, team)
    await vote_yes(bot, [team.users["sindaco:0"], team.users["sindaco:1"]], message)
    with caplog.at_level(logging.INFO):
        await down_until(bot, rome(7, 10, 0))
    async with bot.db.transaction() as session:
        poll = (await session.execute(select(MeetingPoll))).scalar_one()
    assert poll.status == PollStatus.CLOSED
    for chat in (team.political, team.technical):
        assert len(texts_to(bot, chat, "📣 Riunione")) == 1
        assert len([m for m in bot.fake.sent_to(chat) if m.document is not None]) == 1
    assert all(texts_to(bot, user, REMINDER_TEXT) == [] for user in team.users.values())
    assert len(lines(caplog, f"Poll {poll.id}: reminder skipped")) == 1


# --- the update round: opening, reminders, deadline ---------------------------------------


async def test_round_opens_once_after_downtime_while_its_deadline_is_ahead(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    team = await team_of(bot, auto_poll=False)
    with caplog.at_level(logging.INFO):
        await down_until(bot, rome(22, 9, 0))  # the round was due on the 20th at 10:00
    for user in team.technicians():
        assert len(texts_to(bot, user, "Aggiornamento di dicembre 2026")) == 1
    assert len(texts_to(bot, team.technical, "Aggiornamento di dicembre 2026")) == 1
    assert len(lines(caplog, "Update round 2026-12 opened")) == 1


async def test_round_skipped_with_a_log_line_when_its_deadline_passed(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    team = await team_of(bot, auto_poll=False)
    with caplog.at_level(logging.INFO):
        await down_until(bot, rome(26, 9, 0))  # the fallback deadline was the 25th at 10:00
    assert all(bot.fake.sent_to(user) == [] for user in team.technicians())
    assert len(lines(caplog, "Update round 2026-12 of Union", "skipped")) == 1


async def fallback_round(bot: BotUnderTest, team: Team) -> None:
    """The round opens on the 20th at 10:00 (no meeting), deadline the 25th at 10:00."""
    bot.clock.set(rome(20, 10, 1))
    await bot.tick()
    for user in team.technicians():
        assert len(texts_to(bot, user, "Aggiornamento di dicembre 2026")) == 1


async def test_first_round_reminder_caught_up_once(bot: BotUnderTest) -> None:
    team = await team_of(bot, auto_poll=False)
    await fallback_round(bot, team)
    await down_until(bot, rome(23, 18, 0))  # the first reminder was due at 10:00
    for user in team.technicians():
        assert len(texts_to(bot, user, "⏰ Promemoria")) == 1


async def test_last_round_reminder_supersedes_the_missed_first_with_a_log_line(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    team = await team_of(bot, auto_poll=False)
    await fallback_round(bot, team)
    with caplog.at_level(logging.INFO):
        await down_until(bot, rome(24, 12, 0))  # both reminders were due while down
    for user in team.technicians():
        assert len(texts_to(bot, user, "⏰ Promemoria")) == 1
    assert len(lines(caplog, "reminder r1 skipped")) == 1
    assert len(lines(caplog, "reminder r2 to 3 technicians")) == 1


async def test_round_deadline_passed_while_down_closes_skips_reminders_posts_a_late_summary(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    team = await team_of(bot, auto_poll=False)
    await fallback_round(bot, team)
    with caplog.at_level(logging.INFO):
        await down_until(bot, rome(27, 9, 0))
    async with bot.db.transaction() as session:
        round_ = (await session.execute(select(UpdateRound))).scalar_one()
        summaries = list((await session.execute(select(Summary))).scalars())
    assert round_.status == RoundStatus.CLOSED
    assert all(texts_to(bot, u, "⏰ Promemoria") == [] for u in team.technicians())
    assert len(lines(caplog, "reminder r1 skipped")) == 1
    assert len(lines(caplog, "reminder r2 skipped")) == 1
    assert [(s.kind, s.period, s.late) for s in summaries] == [
        (SummaryKind.SCHEDULED, "2026-12", True)
    ]
    posted = [m for m in bot.fake.sent_to(team.political) if "2026" in (m.text or "")]
    assert len(posted) == 1


async def test_summary_skipped_with_a_log_line_when_a_newer_round_opened(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    team = await team_of(bot, auto_poll=False)
    await fallback_round(bot, team)
    with caplog.at_level(logging.INFO):
        await down_until(bot, rome(22, 9, 0, month=1, year=2027))  # January's round is open
    async with bot.db.transaction() as session:
        summaries = list((await session.execute(select(Summary))).scalars())
        periods = [r.period for r in (await session.execute(select(UpdateRound))).scalars()]
    assert summaries == [] and periods == ["2026-12", "2027-01"]
    assert bot.fake.sent_to(team.political) == []
    assert len(lines(caplog, "summary for round 2026-12 skipped")) == 1


# --- the meeting's reminders ----------------------------------------------------------------


async def test_day_before_reminder_caught_up_once_on_the_day_itself(bot: BotUnderTest) -> None:
    team = await team_of(bot)
    await fixed_meeting(bot, team)
    await down_until(bot, rome(15, 12, 0))  # due at 17:00 on the 14th; the meeting is at 17:00
    for chat in (team.political, team.technical):
        reminders = texts_to(bot, chat, "⏰")
        assert reminders == ["⏰ Oggi alle 17:00: Riunione del Team energia — dicembre 2026."]


async def test_day_before_reminder_skipped_in_the_last_hour_the_hour_one_goes(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    team = await team_of(bot)
    meeting = await fixed_meeting(bot, team)
    with caplog.at_level(logging.INFO):
        await down_until(bot, rome(15, 16, 30))
    for chat in (team.political, team.technical):
        assert texts_to(bot, chat, "⏰") == [
            "⏰ Tra 30 minuti, alle 17:00: Riunione del Team energia — dicembre 2026."
        ]
    assert len(lines(caplog, f"Meeting {meeting.id}: day-before reminder skipped")) == 1


async def test_meeting_reminders_skipped_with_log_lines_once_it_started(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    team = await team_of(bot)
    meeting = await fixed_meeting(bot, team)
    with caplog.at_level(logging.INFO):
        await down_until(bot, rome(15, 18, 0))
    for chat in (team.political, team.technical):
        assert texts_to(bot, chat, "⏰") == []
    assert len(lines(caplog, f"Meeting {meeting.id}: meeting_remind_day skipped")) == 1
    assert len(lines(caplog, f"Meeting {meeting.id}: meeting_remind_hour skipped")) == 1


async def test_meeting_reminders_skipped_with_log_lines_after_a_long_downtime(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    """Down from before the reminders until days after the meeting: still one line each."""
    team = await team_of(bot)
    meeting = await fixed_meeting(bot, team)
    with caplog.at_level(logging.INFO):
        await down_until(bot, rome(19, 9, 0))
    for chat in (team.political, team.technical):
        assert texts_to(bot, chat, "⏰") == []
    assert len(lines(caplog, f"Meeting {meeting.id}: meeting_remind_day skipped")) == 1
    assert len(lines(caplog, f"Meeting {meeting.id}: meeting_remind_hour skipped")) == 1
