"""Continuity at a glance, end to end through the real bot (issue 19): four meetings of the
political table with their attendance taken (and one nobody checked in to, which does not
count) → /team shows each Comune's record over the last 12 months, the summary names the
Comuni missing from the last three meetings in a row, the export has a sheet of who was
represented at each meeting.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from storage.models import Attendance, AttendanceMode, Member, Person, PollTable, Union
from tests.e2e.harness import BotUnderTest
from tests.e2e.test_meetings_story import ROME, _team
from tests.factories import make_meeting


async def test_continuity_story(any_bot: BotUnderTest) -> None:
    bot, fake = any_bot, any_bot.fake
    team = await _team(bot)
    group, users = team.group, team.users
    now = bot.clock.now()
    local = now.astimezone(ROME)
    first = datetime(local.year, local.month, local.day, 17, 0, tzinfo=ROME) + timedelta(days=1)
    async with bot.db.transaction() as session:
        union = await session.get(Union, team.union_id)
        assert union is not None
        rows = await session.execute(
            select(Person.telegram_user_id, Member.id)
            .join(Person, Person.id == Member.person_id)
            .where(Member.union_id == team.union_id)
        )
        ids = {user: member for user, member in rows.all()}
        sara, cora = ids[users["sa"].id], ids[users["ac"].id]
        # Argelato (Sara) at all four; Castello (Cora) at the first only; Bentivoglio never.
        for week in range(4):
            meeting = await make_meeting(
                session,
                union,
                starts_at=first + timedelta(weeks=week),
                now=now,
                table=PollTable.POLITICAL,
                title=f"Riunione {week + 1}",
            )
            present = [sara] + ([cora] if week == 0 else [])
            for member_id in present:
                session.add(
                    Attendance(
                        meeting_id=meeting.id,
                        member_id=member_id,
                        mode=AttendanceMode.IN_PERSON,
                        recorded_by_member_id=member_id,
                        recorded_at=meeting.starts_at,
                    )
                )
        # A meeting nobody checked in to: no record, held against nobody.
        await make_meeting(
            session,
            union,
            starts_at=first + timedelta(weeks=4),
            now=now,
            table=PollTable.POLITICAL,
            title="Riunione senza appello",
        )

    # The evening of the last meeting its check-ins are still open: it does not count yet.
    bot.clock.set(first + timedelta(weeks=3, hours=3))
    await users["sb"].send("/team", chat=group)
    await bot.settle()
    roster = fake.last_sent(group).text or ""
    assert "🗓 Riunioni negli ultimi 12 mesi: tavolo politico 3 su 3" in roster  # Argelato
    assert "tavolo politico 0 su 3 (assente alle ultime 3)" in roster  # Bentivoglio
    assert "tavolo politico 1 su 3" in roster and "(assente alle ultime 2)" not in roster

    bot.clock.set(first + timedelta(weeks=5))
    await users["sb"].send("/team", chat=group)
    await bot.settle()
    roster = fake.last_sent(group).text or ""
    sections = {part.split("\n")[0]: part for part in roster.split("\n\n")}
    assert "tavolo politico 4 su 4" in sections["Argelato"]
    assert "tavolo politico 0 su 4 (assente alle ultime 4)" in sections["Bentivoglio"]
    assert "tavolo politico 1 su 4 (assente alle ultime 3)" in sections["Castello"]
    assert "🗓" not in sections["Personale dell'Unione"]

    # The summary, on demand in the political group: who has been missing.
    await users["sa"].send("/riepilogo", chat=group)
    await bot.settle()
    summary = next(
        m.text or "" for m in reversed(fake.sent_to(group)) if "Riepilogo di" in (m.text or "")
    )
    assert (
        "🪑 Non rappresentati alle ultime riunioni del tavolo politico: "
        "Bentivoglio (4 di fila), Castello (3 di fila)"
    ) in summary
    assert summary.index("Prossima riunione") < summary.index("🪑") < summary.index("In sintesi")

    # The export: one row per Comune at each meeting that counts.
    await users["sa"].send("/esporta")
    await bot.settle()
    menu = fake.last_sent(users["sa"])
    assert (await (await users["sa"].press(menu, "📤 Excel")).answered()).text == (
        "Preparo il file…"
    )
    await bot.settle()
    document = fake.last_sent(users["sa"]).document
    assert document is not None
    sheet = list(load_workbook(io.BytesIO(document.content))["Presenze per Comune"].values)
    assert sheet[0] == ("Inizio", "Riunione", "Tavolo", "Comune", "Rappresentato")
    assert len(sheet) == 1 + 4 * 3
    assert sheet[1][1:] == ("Riunione 1", "tavolo politico", "Argelato", "sì")
    assert sheet[1][0] == first.replace(tzinfo=None)
    castello = [row[4] for row in sheet[1:] if row[3] == "Castello"]
    assert castello == ["sì", "no", "no", "no"]
    assert all(row[1] != "Riunione senza appello" for row in sheet[1:])
