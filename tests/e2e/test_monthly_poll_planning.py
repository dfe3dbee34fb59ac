"""The monthly poll is held back only by a date in *its* month: a meeting, or an open poll
proposing a date in it. A poll opened early for next month, or a meeting just past midnight
of the 1st (local time), does not stop this month's poll."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

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


async def _meeting(bot: BotUnderTest, team: World, starts: datetime) -> None:
    async with bot.db.transaction() as session:
        session.add(
            Meeting(
                union_id=team.union.id,
                poll_id=None,
                table=PollTable.POLITICAL,
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
