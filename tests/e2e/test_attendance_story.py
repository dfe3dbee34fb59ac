"""A meeting's attendance, end to end through the real bot (issue 19): the list goes to the
table's group half an hour before the start, members check in with one button, the Comuni
represented follow the coverage rule, people of the other table or of another Union are told
why they cannot, the coordinator corrects the list in private one tap per person and adds a
guest in a dialogue that survives a restart; after the day the check-ins close.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from storage.models import (
    Attendance,
    AttendanceMode,
    MeetingGuest,
    Member,
    Person,
    PollTable,
    Role,
    Union,
)
from tests.e2e.harness import BotUnderTest
from tests.e2e.test_meetings_story import ROME, _team
from tests.factories import make_meeting
from tests.fakes.fake_world import FakeChat, FakeMessage
from tests.meetings_factories import add_member, make_union


def _list_in(bot: BotUnderTest, group: FakeChat) -> FakeMessage:
    lists = [m for m in bot.fake.sent_to(group) if (m.text or "").startswith("📋 Presenze")]
    assert len(lists) == 1, [m.text for m in lists]
    return lists[0]


async def _present(bot: BotUnderTest, meeting_id: int) -> dict[int, AttendanceMode]:
    async with bot.db.transaction() as session:
        rows = await session.execute(
            select(Attendance.member_id, Attendance.mode).where(Attendance.meeting_id == meeting_id)
        )
        return {member_id: AttendanceMode(mode) for member_id, mode in rows.all()}


async def test_attendance_story(any_bot: BotUnderTest) -> None:
    bot, fake = any_bot, any_bot.fake
    team = await _team(bot, cass_started=True)
    group, carla, users = team.group, team.carla, team.users
    now = bot.clock.now()
    local = now.astimezone(ROME)
    starts = datetime(local.year, local.month, local.day, 17, 0, tzinfo=ROME) + timedelta(days=1)
    # Someone of another Union who sits in the same group.
    olga = fake.add_user("Olga", "Altrove")
    olga.has_started = True
    fake.add_member(group, olga)
    async with bot.db.transaction() as session:
        union = await session.get(Union, team.union_id)
        assert union is not None
        meeting = await make_meeting(
            session,
            union,
            starts_at=starts,
            now=now,
            table=PollTable.POLITICAL,
            title="Riunione di dicembre",
        )
        meeting_id = meeting.id
        other = await make_union(session, name="Unione Altrove", comuni=["Altrove"], now=now)
        await add_member(
            session,
            other,
            key="olga",
            role=Role.SINDACO,
            comuni=[0],
            telegram_user_id=olga.id,
            now=now,
        )
        rows = await session.execute(
            select(Person.telegram_user_id, Member.id)
            .join(Person, Person.id == Member.person_id)
            .where(Member.union_id == team.union_id)
        )
        ids: dict[int | None, int] = {user: member for user, member in rows.all()}

    # Before the window: nothing in the group.
    await bot.tick()
    assert not [m for m in fake.sent_to(group) if (m.text or "").startswith("📋")]
    bot.clock.set(starts - timedelta(minutes=31))
    await bot.tick()
    assert not [m for m in fake.sent_to(group) if (m.text or "").startswith("📋")]

    # Half an hour before the start the list goes out, once.
    bot.clock.set(starts - timedelta(minutes=30))
    await bot.tick()
    await bot.tick()
    roll = _list_in(bot, group)
    assert (roll.text or "").startswith("📋 Presenze — Riunione di dicembre")
    assert "Comuni rappresentati: 0 su 3" in (roll.text or "")
    assert "Non ancora rappresentati: Argelato, Bentivoglio, Castello" in (roll.text or "")
    assert roll.button_texts == ["✅ Sono presente", "💻 Sono online", "⚙️ Gestisci presenze"]

    # One tap each: Sara in the room, Cora online. The list follows (one coalesced edit).
    sara, cora, tino = users["sa"], users["ac"], users["tec"]
    toast = await (await sara.press(roll, "✅ Sono presente")).answered()
    assert toast.text == "Registrato: partecipi in presenza. Grazie!"
    toast = await (await sara.press(roll, "✅ Sono presente")).answered()
    assert toast.text == "Avevi già confermato: partecipi in presenza."
    toast = await (await cora.press(roll, "💻 Sono online")).answered()
    assert toast.text == "Registrato: partecipi online. Grazie!"
    await bot.settle()
    await bot.run_jobs()
    await bot.settle()
    text = roll.text or ""
    assert "Comuni rappresentati: 2 su 3 — Argelato, Castello" in text
    assert "Non ancora rappresentati: Bentivoglio" in text
    assert "✅ In presenza (1): Sara Argelato" in text
    assert "💻 Online (1): Cora Castello" in text

    # The technician does not sit at the political table; Olga is of another Union.
    alert = await (await tino.press(roll, "✅ Sono presente")).answered()
    assert alert.show_alert
    assert (alert.text or "").startswith("Questa riunione è del tavolo politico")
    alert = await (await olga.press(roll, "✅ Sono presente")).answered()
    assert alert.show_alert
    assert (alert.text or "").startswith("Qui entrano solo i membri del Team energia dell'Unione")
    # «⚙️ Gestisci presenze» is the coordinator's.
    alert = await (await sara.press(roll, "⚙️ Gestisci presenze")).answered()
    assert alert.show_alert and (alert.text or "").startswith("Le presenze le corregge")
    assert await _present(bot, meeting_id) == {
        ids[sara.id]: AttendanceMode.IN_PERSON,
        ids[cora.id]: AttendanceMode.ONLINE,
    }

    await bot.restart()

    # The coordinator opens the roster in private and corrects it: one tap per person.
    toast = await (await carla.press(roll, "⚙️ Gestisci presenze")).answered()
    assert toast.text == "Ti ho scritto in privato: lì correggi le presenze."
    await bot.settle()
    roster = fake.last_sent(carla)
    assert (roster.text or "").startswith("📋 Presenze — Riunione di dicembre")
    assert "✅ Sara Argelato (Argelato)" in roster.button_texts
    assert "▫️ Bruno Bentivoglio (Bentivoglio)" in roster.button_texts
    toast = await (await carla.press(roster, "▫️ Bruno Bentivoglio (Bentivoglio)")).answered()
    assert toast.text == "Bruno Bentivoglio: in presenza."
    await bot.settle()
    assert "✅ Bruno Bentivoglio (Bentivoglio)" in roster.button_texts
    toast = await (await carla.press(roster, "✅ Sara Argelato (Argelato)")).answered()
    assert toast.text == "Sara Argelato: online."
    await bot.settle()
    toast = await (await carla.press(roster, "💻 Sara Argelato (Argelato)")).answered()
    assert toast.text == "Sara Argelato: assente."
    await bot.settle()
    assert "Comuni rappresentati: 2 su 3 — Bentivoglio, Castello" in (roster.text or "")

    # A guest: the name, a restart, then the organisation.
    await (await carla.press(roster, "➕ Aggiungi un ospite")).answered()
    await bot.settle()
    assert (fake.last_sent(carla).text or "").startswith("➕ Ospite della riunione")
    await carla.send("   ")
    await bot.settle()
    assert "Riscrivilo" in (fake.last_sent(carla).text or "")
    await carla.send("Mario Rossi")
    await bot.settle()
    question = fake.last_sent(carla)
    assert (question.text or "").startswith("Di quale ente o organizzazione fa parte Mario Rossi?")
    await bot.restart()
    await carla.send("ARPA Emilia-Romagna")
    await bot.settle()
    after = fake.last_sent(carla)
    assert "👥 Ospiti (1): Mario Rossi (ARPA Emilia-Romagna)" in (after.text or "")
    assert "✅ Mario Rossi (ARPA Emilia-Romagna)" in after.button_texts
    toast = await (await carla.press(after, "✅ Mario Rossi (ARPA Emilia-Romagna)")).answered()
    assert toast.text == "Ospite: online."
    await bot.settle()
    async with bot.db.transaction() as session:
        guests = list((await session.execute(select(MeetingGuest))).scalars())
    assert [(g.name, g.organisation, g.mode) for g in guests] == [
        ("Mario Rossi", "ARPA Emilia-Romagna", AttendanceMode.ONLINE)
    ]

    # The group's list shows the corrections and the guest.
    await bot.run_jobs()
    await bot.settle()
    text = roll.text or ""
    assert "✅ In presenza (1): Bruno Bentivoglio" in text
    assert "💻 Online (1): Cora Castello" in text
    assert "👥 Ospiti (1): Mario Rossi (ARPA Emilia-Romagna)" in text
    assert "Sara Argelato" not in text

    # After the meeting's day the check-ins are closed; the coordinator may still correct.
    bot.clock.set(starts.replace(hour=0, minute=0) + timedelta(days=1))
    await bot.tick()
    alert = await (await users["sb"].press(roll, "💻 Sono online")).answered()
    assert alert.show_alert and (alert.text or "").startswith("Le presenze si sono chiuse")
    assert await _present(bot, meeting_id) == {
        ids[users["sb"].id]: AttendanceMode.IN_PERSON,
        ids[cora.id]: AttendanceMode.ONLINE,
    }
    assert len([m for m in fake.sent_to(group) if (m.text or "").startswith("📋")]) == 1
    fake.write_transcript(".transcripts/test_attendance_story.txt")


async def test_roster_link_guest_without_organisation(bot: BotUnderTest) -> None:
    """`/start pr-<meeting>` (the link «⚙️ Gestisci presenze» answers with when the bot may not
    write first) opens the roster for the coordinator only; a guest may have no organisation,
    and «🗑» takes them off."""
    fake = bot.fake
    team = await _team(bot, cass_started=True)
    carla, sara = team.carla, team.users["sa"]
    now = bot.clock.now()
    async with bot.db.transaction() as session:
        union = await session.get(Union, team.union_id)
        assert union is not None
        meeting = await make_meeting(
            session, union, starts_at=now + timedelta(days=3), now=now, title="Workshop"
        )
        meeting_id = meeting.id

    await sara.send(f"/start pr-{meeting_id}")
    await bot.settle()
    assert (fake.last_sent(sara).text or "").startswith(
        "Le presenze le corregge chi coordina l'Unione"
    )

    await carla.send(f"/start pr-{meeting_id}")
    await bot.settle()
    roster = fake.last_sent(carla)
    assert (roster.text or "").startswith("📋 Presenze — Workshop")
    await (await carla.press(roster, "➕ Aggiungi un ospite")).answered()
    await bot.settle()
    await carla.send("Giulia Verdi")
    await bot.settle()
    question = fake.last_sent(carla)
    await (await carla.press(question, "Nessuna organizzazione")).answered()
    await bot.settle()
    assert "👥 Ospiti (1): Giulia Verdi" in (question.text or "")
    assert ["✅ Giulia Verdi", "🗑"] in [[t for t, _d in row] for row in question.buttons]
    # «🗑» beside the guest: off the list.
    await (await carla.press(question, "🗑")).answered()
    await bot.settle()
    assert "Ospiti" not in (question.text or "")
    async with bot.db.transaction() as session:
        assert list((await session.execute(select(MeetingGuest))).scalars()) == []
    fake.write_transcript(".transcripts/test_attendance_roster_link.txt")
