"""planned_dates_between on both databases: what tells the monthly poll which tables its month
has planned (the window is the local month, rules.month_span; the query is the one place that
filters), each date with its table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.services.meetings.rules import month_span
from storage.db import Database
from storage.models import Meeting, PollStatus, PollTable
from storage.repositories import meetings as repo
from tests.factories import make_union

NOW = datetime(2026, 12, 1, 8, tzinfo=UTC)
DEC = month_span(2026, 12, ZoneInfo("Europe/Rome"))  # 30 Nov 23:00 UTC to 31 Dec 23:00 UTC


async def test_planned_dates_of_the_union_in_the_window(db: Database) -> None:
    async with db.transaction() as s:
        ours = await make_union(s, name="Nostra", comuni=["Alfa"], now=NOW)
        other = await make_union(s, name="Altra", comuni=["Beta"], now=NOW)

        async def poll(union_id: int, *starts: datetime) -> int:
            created = await repo.create_poll(
                s,
                union_id=union_id,
                table=PollTable.POLITICAL,
                title="T",
                agenda=None,
                place=None,
                deadline_at=NOW + timedelta(days=3),
                slots=[(t, t + timedelta(hours=1)) for t in starts],
                created_by_member_id=None,
                now=NOW,
            )
            assert created is not None
            return created.id

        def meeting(
            union_id: int,
            starts: datetime,
            n: int,
            *,
            cancelled: bool = False,
            table: PollTable = PollTable.POLITICAL,
        ) -> None:
            s.add(
                Meeting(
                    union_id=union_id,
                    poll_id=None,
                    table=table,
                    title="M",
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=1),
                    ics_uid=f"m{n}@test",
                    cancelled_at=NOW if cancelled else None,
                    created_at=NOW,
                )
            )

        u = ours.union.id
        await poll(u, datetime(2026, 12, 10, 16, tzinfo=UTC), datetime(2027, 1, 12, 16, tzinfo=UTC))
        closed = await poll(u, datetime(2026, 12, 15, 16, tzinfo=UTC))
        await poll(other.union.id, datetime(2026, 12, 11, 16, tzinfo=UTC))
        meeting(u, datetime(2026, 11, 30, 22, 59, tzinfo=UTC), 5)  # 23:59 on 30 Nov in Rome
        # Midnight of 1 December in Rome: the technical table's meeting.
        meeting(u, datetime(2026, 11, 30, 23, tzinfo=UTC), 6, table=PollTable.TECHNICAL)
        meeting(u, datetime(2026, 12, 31, 22, 59, tzinfo=UTC), 1)
        meeting(u, datetime(2026, 12, 31, 23, tzinfo=UTC), 2)  # January in Rome
        meeting(u, datetime(2026, 12, 20, 16, tzinfo=UTC), 3, cancelled=True)
        meeting(other.union.id, datetime(2026, 12, 21, 16, tzinfo=UTC), 4)
        await s.flush()
        await repo.transition(s, poll_id=closed, to=PollStatus.CANCELLED, now=NOW)
    async with db.transaction() as s:
        dates = await repo.planned_dates_between(s, union_id=u, start=DEC[0], end=DEC[1])
    assert dates == [
        (datetime(2026, 11, 30, 23, tzinfo=UTC), PollTable.TECHNICAL),
        (datetime(2026, 12, 10, 16, tzinfo=UTC), PollTable.POLITICAL),
        (datetime(2026, 12, 31, 22, 59, tzinfo=UTC), PollTable.POLITICAL),
    ]
