"""The agenda (ordine del giorno), end to end on SQLite and PostgreSQL: the poll closes → the
draft goes to the coordinator (the typed agenda, a Covenant deadline, a question waiting for
the political table, an open task) → a mayor proposes an item from the group's announcement,
across a restart → refusals that record nothing → the coordinator accepts it with one tap
(the mayor is told), orders and confirms → the convocation 5 days before, with the agenda in
the group and in the .ics → an item added after it → the day-before reminder carries the
agenda again, once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import icalendar
from sqlalchemy import select

from storage.models import (
    AgendaItem,
    AgendaStatus,
    Answer,
    Decision,
    DecisionStatus,
    MeetingSettings,
    MeetingTask,
    Member,
    Person,
    PollTable,
    TaskStatus,
    Union,
    Vote,
)
from storage.repositories import meetings as meetings_repo
from tests.e2e.harness import BotUnderTest
from tests.e2e.test_meetings_story import Team, _alert, _team
from tests.fakes.fake_world import FakeMessage

STARTS = datetime(2026, 12, 16, 16, 30, tzinfo=UTC)  # mer 16 dic, 17:30 in Rome


async def _fix_meeting(bot: BotUnderTest, team: Team) -> None:
    """Pending work for the political table, and a poll that closes at the next tick."""
    now = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    bot.clock.set(now)
    sara = team.users["sa"]
    async with bot.db.transaction() as session:
        session.add(MeetingSettings(union_id=team.union_id, auto_poll_enabled=False))
        union = await session.get(Union, team.union_id)
        assert union is not None
        union.paes_approved_on = date(2025, 2, 1)  # the monitoring report: 1 Feb 2027
        member = (
            await session.execute(
                select(Member)
                .join(Person, Person.id == Member.person_id)
                .where(Person.telegram_user_id == sara.id)
            )
        ).scalar_one()
        session.add(
            Decision(
                union_id=team.union_id,
                question="Aderiamo al bando regionale per l'illuminazione pubblica?",
                status=DecisionStatus.OPEN,
                created_at=now,
            )
        )
        session.add(
            MeetingTask(
                union_id=team.union_id,
                assignee_member_id=member.id,
                text="Raccogliere le bollette 2025 della scuola",
                due_on=date(2026, 12, 1),
                status=TaskStatus.OPEN,
                created_at=now,
            )
        )
        poll = await meetings_repo.create_poll(
            session,
            union_id=team.union_id,
            table=PollTable.POLITICAL,
            title="Riunione di dicembre",
            agenda="1. Stato delle azioni del PAES",
            place="Sala consiliare",
            deadline_at=now + timedelta(hours=1),
            slots=[(STARTS, STARTS + timedelta(hours=2))],
            created_by_member_id=None,
            now=now,
        )
        assert poll is not None
        slot = (await meetings_repo.slots_of(session, poll.id))[0]
        session.add(Vote(slot_id=slot.id, member_id=member.id, answer=Answer.YES, updated_at=now))
    bot.clock.set(now + timedelta(hours=2))
    await bot.tick()


def _with(messages: list[FakeMessage], start: str) -> list[FakeMessage]:
    return [m for m in messages if (m.text or "").startswith(start)]


async def _items(bot: BotUnderTest) -> list[tuple[str, AgendaStatus]]:
    async with bot.db.transaction() as session:
        rows = await session.execute(
            select(AgendaItem).order_by(AgendaItem.position, AgendaItem.id)
        )
        return [(i.text, i.status) for i in rows.scalars()]


async def test_agenda_story(any_bot: BotUnderTest) -> None:
    bot = any_bot
    fake = bot.fake
    team = await _team(bot, cass_started=True)
    sara, tino, carla = team.users["sa"], team.users["tec"], team.carla
    await _fix_meeting(bot, team)

    # The draft, in private to the coordinator: what is pending for the political table.
    draft = _with(fake.sent_to(carla), "Ho preparato la bozza")[-1]
    assert draft.text is not None
    assert draft.text.splitlines()[2:7] == [
        "📋 Ordine del giorno · Riunione di dicembre, mer 16 dic 2026, 17:30",
        "",
        "1. ✏️ Stato delle azioni del PAES",
        "2. ⏰ Patto dei Sindaci: relazione di monitoraggio del PAES entro lun 1 feb 2027",
        "3. ❓ Aderiamo al bando regionale per l'illuminazione pubblica?",
    ]
    assert "4. 📌 Raccogliere le bollette 2025 della scuola" in draft.text
    assert "La convocazione parte il ven 11 dic 2026, 17:30." in draft.text
    assert draft.button_texts[:3] == ["1 ↓", "1 ✖", "2 ↑"]

    # A mayor proposes an item from the announcement in the group; the dialogue is private.
    announcement = _with(fake.sent_to(team.group), "📣")[-1]
    press = await sara.press(announcement, "📝 Proponi un punto")
    assert (await press.answered()).text == (
        "Ti ho scritto in privato: scrivi lì il punto che proponi."
    )
    await bot.settle()
    assert "Scrivimi in un messaggio il punto che proponi" in (fake.last_sent(sara).text or "")
    await bot.restart()  # the dialogue is in the database
    await sara.send("   ")
    await bot.settle()
    assert fake.last_sent(sara).text == "Il messaggio è vuoto: scrivimi il punto in parole."
    await sara.send("Comunità energetica: a che punto siamo")
    await bot.settle()
    assert fake.last_sent(sara).text == ("Proposta inviata a chi coordina: ti dirò se la aggiunge.")
    proposal = fake.last_sent(carla)
    assert proposal.text == (
        "💬 Sara Argelato propone un punto per l'ordine del giorno di «Riunione di dicembre» "
        "(mer 16 dic 2026, 17:30):\n«Comunità energetica: a che punto siamo»"
    )

    # Refusals record nothing: a technician is not at this table; a mayor does not decide;
    # a stranger's forged press is refused; the coordinator's answer is taken once.
    before = await _items(bot)
    assert (await _alert(tino, announcement, "📝 Proponi un punto")).startswith(
        "Questa riunione è di un tavolo di cui non fai parte"
    )
    item_id = int((proposal.buttons[0][0][1] or "").rsplit(":", 1)[1])
    forged = await (await sara.press_forged(fake.last_sent(sara), f"agd:yes:{item_id}")).answered()
    assert forged.show_alert and (forged.text or "").startswith(
        "Solo chi coordina l'Unione mette in ordine"
    )
    mallory = fake.add_user("Mallory")
    fake.add_member(team.group, mallory)
    stranger = await (await mallory.press_forged(announcement, f"agd:ok:{item_id}")).answered()
    assert stranger.show_alert
    assert await _items(bot) == before

    press = await carla.press(proposal, "✅ Accetta")
    assert (await press.answered()).text == (
        "✅ Aggiunto all'ordine del giorno: «Comunità energetica: a che punto siamo»."
    )
    await bot.settle()
    # In its place, the panel: the item is the fifth; ordered (↑ twice) and confirmed there.
    assert (proposal.text or "").startswith("✅ Aggiunto all'ordine del giorno")
    assert "5. 💬 Comunità energetica: a che punto siamo" in (proposal.text or "")
    assert (fake.last_sent(sara).text or "").startswith(
        "✅ La tua proposta «Comunità energetica: a che punto siamo» è nell'ordine del giorno"
    )
    again = await (await carla.press_forged(proposal, f"agd:no:{item_id}")).answered()
    assert again.show_alert and (again.text or "").startswith("Questa proposta ha già")
    # The same item again is refused, and the dialogue ends.
    await (await sara.press(announcement, "📝 Proponi un punto")).answered()
    await sara.send("comunità  energetica: A CHE PUNTO SIAMO")
    await bot.settle()
    assert fake.last_sent(sara).text == (
        "Questo punto è già nell'ordine del giorno (o in attesa di risposta)."
    )
    assert len(await _items(bot)) == len(before)

    await (await carla.press(proposal, "5 ↑")).answered()
    await bot.settle()
    await (await carla.press(proposal, "4 ↑")).answered()
    await bot.settle()
    assert "3. 💬 Comunità energetica: a che punto siamo" in (proposal.text or "")
    # The draft's older message re-reads the database: its buttons act on the same agenda.
    await (await carla.press(draft, "✅ Conferma l'ordine del giorno")).answered()
    await bot.settle()
    assert "3. 💬 Comunità energetica: a che punto siamo" in (draft.text or "")
    assert "✅ Confermato: lo invio con la convocazione, il ven 11 dic 2026, 17:30." in (
        draft.text or ""
    )

    # The convocation, 5 days before: the agenda in the group and in the .ics.
    bot.clock.set(STARTS - timedelta(days=5, minutes=1))
    await bot.tick()
    assert _with(fake.sent_to(team.group), "📣 Convocazione") == []
    bot.clock.set(STARTS - timedelta(days=5))
    await bot.tick()
    convocation = _with(fake.sent_to(team.group), "📣 Convocazione")[-1]
    assert convocation.text is not None
    assert "3. 💬 Comunità energetica: a che punto siamo" in convocation.text
    assert convocation.button_texts == ["📝 Proponi un punto"]
    ics = fake.sent_to(team.group)[-1]
    assert ics.document is not None
    event = next(
        c for c in icalendar.Calendar.from_ical(ics.document.content).walk() if c.name == "VEVENT"
    )
    assert "3. Comunità energetica: a che punto siamo" in str(event["DESCRIPTION"])
    assert int(event["SEQUENCE"]) == 1
    await bot.tick()
    await bot.restart()
    await bot.tick()
    assert len(_with(fake.sent_to(team.group), "📣 Convocazione")) == 1
    # A member's own invitation (/calendario) carries the agenda too.
    await sara.send("/calendario")
    await bot.settle()
    listing = fake.last_sent(sara)
    await (await sara.press(listing, listing.buttons[0][0][1] or "")).answered()
    await bot.settle()
    mine = fake.last_sent(sara).document
    assert mine is not None
    assert "3. Comunità energetica" in mine.content.decode().replace("\r\n ", "")

    # An item added by the coordinator after the convocation: straight on the agenda.
    await (await carla.press(draft, "➕ Aggiungi un punto")).answered()
    await bot.settle()
    assert "Scrivimi in un messaggio il punto da aggiungere." in (fake.last_sent(carla).text or "")
    await carla.send("Varie ed eventuali")
    await bot.settle()
    panel = fake.last_sent(carla).text or ""
    assert "6. ✏️ Varie ed eventuali" in panel
    assert "le modifiche" not in panel and "parte con il promemoria del giorno prima" in panel

    # The day before: the reminder carries the changed agenda, once.
    bot.clock.set(STARTS - timedelta(hours=23))
    await bot.tick()
    reminder = _with(fake.sent_to(team.group), "⏰ Domani")[-1]
    assert "Ordine del giorno aggiornato" in (reminder.text or "")
    assert "6. ✏️ Varie ed eventuali" in (reminder.text or "")
    await bot.tick()
    assert len(_with(fake.sent_to(team.group), "⏰ Domani")) == 1
    fake.write_transcript(".transcripts/test_agenda_story.txt")
