"""The monthly poll is held back only by a date in *its* month: a meeting, or an open poll
proposing a date in it. A poll opened early for next month, or a meeting just past midnight
of the 1st (local time), does not stop this month's poll. Planning is per table: a month where
one table has its meeting still gets a poll for the other."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from storage.models import JobClaim, Meeting, MeetingPoll, PollTable, Role, TableKind
from storage.repositories import meetings as repo
from tests.e2e.harness import BotUnderTest
from tests.factories import World, add_member, link_group, make_union

ROME = ZoneInfo("Europe/Rome")


def _rome(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ROME).astimezone(UTC)


async def _union(bot: BotUnderTest, name: str) -> tuple[World, int]:
    """A Union with a coordinator and a linked political group; returns it and the group id."""
    coordinator = bot.fake.add_user(name, "Coordinatrice")
    coordinator.has_started = True
    group = bot.fake.create_group(f"Tavolo {name}", coordinator)
    bot.fake.set_bot_admin(group)
    now = bot.clock.now()
    async with bot.db.transaction() as session:
        team = await make_union(session, name=f"Unione {name}", comuni=["Alfa", "Beta"], now=now)
        await add_member(
            session,
            team,
            name=name,
            role=Role.SINDACO,
            comuni=team.comuni[:1],
            coordinator=True,
            telegram_user_id=coordinator.id,
            now=now,
        )
        await link_group(session, team, table=TableKind.POLITICAL, chat_id=group.id, now=now)
    return team, group.id


async def _open_poll(bot: BotUnderTest, team: World, *starts: datetime) -> None:
    async with bot.db.transaction() as session:
        await repo.create_poll(
            session,
            union_id=team.union.id,
            table=PollTable.POLITICAL,
            title="Riunione straordinaria",
            agenda=None,
            place=None,
            deadline_at=min(starts) - timedelta(days=2),
            slots=[(s, s + timedelta(hours=2)) for s in starts],
            created_by_member_id=None,
            now=bot.clock.now(),
        )


async def _meeting(
    bot: BotUnderTest, team: World, starts: datetime, *, table: PollTable = PollTable.POLITICAL
) -> None:
    async with bot.db.transaction() as session:
        session.add(
            Meeting(
                union_id=team.union.id,
                poll_id=None,
                table=table,
                title="Riunione fissata a mano",
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                ics_uid=f"hand-{team.union.id}@test",
                created_at=bot.clock.now(),
            )
        )


async def test_only_a_date_in_the_same_month_holds_the_monthly_poll_back(
    bot: BotUnderTest,
) -> None:
    # The conftest clock: Tuesday 1 December 2026, 09:00 in Rome, when December's poll is due.
    next_month, next_month_group = await _union(bot, "Anna")
    await _open_poll(bot, next_month, _rome(2027, 1, 12, 17), _rome(2027, 1, 14, 17))
    this_month, _ = await _union(bot, "Bea")
    await _open_poll(bot, this_month, _rome(2027, 1, 12, 17), _rome(2026, 12, 18, 17))
    meeting_last_evening, _ = await _union(bot, "Carla")
    await _meeting(bot, meeting_last_evening, _rome(2026, 12, 31, 23, 30))
    meeting_after_midnight, after_midnight_group = await _union(bot, "Dora")
    # 00:30 on 1 January in Rome is still 31 December in UTC: it is January's meeting.
    await _meeting(bot, meeting_after_midnight, _rome(2027, 1, 1, 0, 30))

    await bot.tick()

    async with bot.db.transaction() as session:
        monthly = {
            p.union_id
            for p in (
                await session.execute(select(MeetingPoll).where(MeetingPoll.period == "2026-12"))
            ).scalars()
        }
        skipped = {
            c.union_id: c.note
            for c in (
                await session.execute(select(JobClaim).where(JobClaim.kind == "auto_poll"))
            ).scalars()
            if not (c.note or "").startswith("poll ")
        }
    assert monthly == {next_month.union.id, meeting_after_midnight.union.id}
    assert skipped == {
        this_month.union.id: "already planned",
        meeting_last_evening.union.id: "already planned",
    }
    for group_id in (next_month_group, after_midnight_group):
        posts = [m for m in bot.fake.sent_to(group_id) if (m.text or "").startswith("🗓")]
        assert len(posts) == 1 and "dicembre 2026" in (posts[0].text or "")


async def _union_with_both_groups(bot: BotUnderTest, name: str) -> tuple[World, int, int]:
    """A Union with its political and technical groups linked; returns them."""
    team, political = await _union(bot, name)
    technical = bot.fake.create_group(f"Tecnici {name}", bot.fake.add_user(f"Tec{name}"))
    bot.fake.set_bot_admin(technical)
    async with bot.db.transaction() as session:
        await link_group(
            session,
            team.union,
            table=TableKind.TECHNICAL,
            chat_id=technical.id,
            now=bot.clock.now(),
        )
    return team, political, technical.id


async def test_planning_is_per_table(bot: BotUnderTest, caplog: pytest.LogCaptureFixture) -> None:
    """A month where one table already has its meeting (or a poll deciding it) still gets a
    poll for the other table; a month where both have theirs gets none. The usual poll (both
    tables together) is what a month with nothing planned gets."""
    technical_met, tm_political, tm_technical = await _union_with_both_groups(bot, "Elena")
    await _meeting(bot, technical_met, _rome(2026, 12, 11, 17), table=PollTable.TECHNICAL)
    political_polled, pp_political, pp_technical = await _union_with_both_groups(bot, "Fabia")
    await _open_poll(bot, political_polled, _rome(2026, 12, 15, 17), _rome(2026, 12, 17, 17))
    both_met, bm_political, bm_technical = await _union_with_both_groups(bot, "Gaia")
    await _meeting(bot, both_met, _rome(2026, 12, 10, 17), table=PollTable.BOTH)
    nothing, n_political, n_technical = await _union_with_both_groups(bot, "Ilaria")

    with caplog.at_level(logging.INFO, logger="bot.services.meetings.monthly"):
        await bot.tick()

    async with bot.db.transaction() as session:
        monthly = {
            p.union_id: p.table
            for p in (
                await session.execute(select(MeetingPoll).where(MeetingPoll.period == "2026-12"))
            ).scalars()
        }
    assert monthly == {
        technical_met.union.id: PollTable.POLITICAL,
        political_polled.union.id: PollTable.TECHNICAL,
        nothing.union.id: PollTable.BOTH,
    }

    def polls_in(chat_id: int) -> list[str]:
        return [m.text or "" for m in bot.fake.sent_to(chat_id) if (m.text or "").startswith("🗓")]

    # Each poll goes to its table's group only, and says for which table it is.
    (december,) = polls_in(tm_political)
    assert "Riunione del Team energia — dicembre 2026" in december
    assert "Per il tavolo politico." in december
    assert polls_in(tm_technical) == []
    (december,) = polls_in(pp_technical)
    assert "Per il tavolo tecnico." in december
    assert len(polls_in(pp_political)) == 0  # its own poll was made in the database
    assert polls_in(bm_political) == polls_in(bm_technical) == []
    assert len(polls_in(n_political)) == len(polls_in(n_technical)) == 1
    lines = [r.getMessage() for r in caplog.records]
    assert f"Union {both_met.union.id}: monthly poll 2026-12 skipped (already planned)" in lines
    assert any(
        line.startswith(f"Union {technical_met.union.id}: monthly poll 2026-12 opened")
        and "political table: the other table has its meeting" in line
        for line in lines
    )
    # Once: the next tick, and a restart, open nothing more.
    await bot.tick()
    await bot.restart()
    await bot.tick()
    async with bot.db.transaction() as session:
        assert (
            len(list((await session.execute(select(MeetingPoll))).scalars())) == 4
        )  # 3 + 1 by hand
