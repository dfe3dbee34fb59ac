"""Issue 19's whole story, on SQLite and PostgreSQL, with the bot restarted between every step:
the poll → the date fixed → the agenda drafted, a mayor's item proposed and accepted → the
convocation and the day-before reminder → check-ins in the group and the coordinator's correction
→ a task agreed at the meeting → the minutes drafted, corrected (presence, outcomes, notes),
approved, posted and read back → the task asked about in the next month's round and shown
overdue in the summary.

The six stories of the parts (agenda, tasks, minutes, attendance, workshop, continuity) each
start from rows made in the database; this one makes every row through the bot, as people would,
so that the parts meet: the check-ins and the roster's correction are the minutes' present and
absent, the accepted proposal is an item with an outcome, the task agreed is in the minutes and in
the next round. Only the team and the Union's setting «no automatic monthly poll» are made
directly (registration has its own story).
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pypdfium2
from pypdf import PdfReader
from sqlalchemy import select

from storage.models import (
    AgendaItem,
    AgendaStatus,
    Attendance,
    AttendanceMode,
    Decision,
    Meeting,
    MeetingSettings,
    MeetingTask,
    Member,
    Minutes,
    MinutesStatus,
    Person,
    TaskStatus,
)
from tests.e2e.harness import BotUnderTest
from tests.e2e.test_agenda_story import _with
from tests.e2e.test_meetings_story import _create_poll_with_wizard, _slot_data, _team, _vote
from tests.e2e.test_minutes_story import OUT, _backend, _odt
from tests.fakes.fake_world import FakeMessage, FakeUser

STARTS = datetime(2026, 12, 16, 16, 30, tzinfo=UTC)  # mer 16 dic, 17:30 in Rome


async def _step(bot: BotUnderTest, chapter: str) -> None:
    """A restart between every two steps (the state is in the database), and the chapter in
    the transcript for whoever reads it."""
    await bot.restart()
    bot.fake.note(f"\n===== {chapter} =====")


async def _tap(bot: BotUnderTest, user: FakeUser, message: FakeMessage, button: str) -> str:
    answer = await (await user.press(message, button)).answered()
    await bot.settle()
    return answer.text or ""


async def _type(bot: BotUnderTest, user: FakeUser, words: str) -> FakeMessage:
    """A private message typed by `user`; the bot's last answer to them."""
    await user.send(words)
    await bot.settle()
    return bot.fake.last_sent(user)


def _button(message: FakeMessage, starts: str) -> str:
    return next(t for t in message.button_texts if t.startswith(starts))


async def _attendance(bot: BotUnderTest) -> dict[str, AttendanceMode]:
    async with bot.db.transaction() as session:
        rows = await session.execute(
            select(Person.display_name, Attendance.mode)
            .join(Member, Member.id == Attendance.member_id)
            .join(Person, Person.id == Member.person_id)
        )
        return {name: AttendanceMode(mode) for name, mode in rows.all()}


async def test_meeting_itself_story(any_bot: BotUnderTest) -> None:
    bot, fake = any_bot, any_bot.fake
    team = await _team(bot, cass_started=True)
    carla, u, group = team.carla, team.users, team.group
    sara, aldo, bruno, ciro, cora = (u[k] for k in ("sa", "aa", "sb", "sc", "ac"))
    async with bot.db.transaction() as session:  # the monthly poll would add a second meeting
        session.add(MeetingSettings(union_id=team.union_id, auto_poll_enabled=False))

    # ---- the poll, from the coordinator's wizard (itself restarted in the middle)
    fake.note("===== Il sondaggio =====")
    poll = await _create_poll_with_wizard(bot, team)
    dec10, dec16, dec17 = _slot_data(poll)

    await _step(bot, "Le risposte")
    for user in (sara, bruno, ciro):
        assert (await _vote(bot, user, poll, dec16, "y")).startswith("Registrato: ✅ Sì")
    await _vote(bot, aldo, poll, dec10, "y")
    await _vote(bot, cora, poll, dec17, "n")
    await bot.settle()

    # ---- the deadline passes: the date is fixed, the agenda drafted to the coordinator
    await _step(bot, "La data fissata, la bozza dell'ordine del giorno")
    bot.clock.set(datetime(2026, 12, 6, 8, 1, tzinfo=UTC))
    await bot.tick()
    async with bot.db.transaction() as session:
        meeting = (await session.execute(select(Meeting))).scalar_one()
    assert meeting.starts_at == STARTS
    meeting_id = meeting.id
    announcement = _with(fake.sent_to(group), "📣")[-1]
    draft = _with(fake.sent_to(carla), "Ho preparato la bozza")[-1]
    assert "1. ✏️ PAES: stato delle azioni" in (draft.text or "")
    assert "2. ✏️ Bando illuminazione" in (draft.text or "")

    # ---- a mayor proposes an item from the group; the coordinator accepts it with one tap
    await _step(bot, "Una proposta per l'ordine del giorno")
    assert (await _tap(bot, sara, announcement, "📝 Proponi un punto")).startswith(
        "Ti ho scritto in privato"
    )
    await _step(bot, "La proposta scritta")
    await _type(bot, sara, "Comunità energetica: a che punto siamo")
    proposal = fake.last_sent(carla)
    assert "Sara Argelato propone un punto" in (proposal.text or "")
    await _step(bot, "La proposta accettata, l'ordine del giorno confermato")
    assert (await _tap(bot, carla, proposal, "✅ Accetta")).startswith(
        "✅ Aggiunto all'ordine del giorno"
    )
    assert "3. 💬 Comunità energetica: a che punto siamo" in (proposal.text or "")
    assert (fake.last_sent(sara).text or "").startswith("✅ La tua proposta")
    await _tap(bot, carla, draft, "✅ Conferma l'ordine del giorno")
    assert "✅ Confermato: lo invio con la convocazione" in (draft.text or "")

    # ---- the convocation, 5 days before; the day-before reminder
    await _step(bot, "La convocazione")
    bot.clock.set(STARTS - timedelta(days=5))
    await bot.tick()
    convocation = _with(fake.sent_to(group), "📣 Convocazione")[-1]
    assert "3. 💬 Comunità energetica: a che punto siamo" in (convocation.text or "")
    await _step(bot, "Il riepilogo di dicembre")
    bot.clock.set(STARTS - timedelta(days=2))  # the round's deadline, 2 days before
    await bot.tick()
    assert len(_with(fake.sent_to(group), "📊 Team energia")) == 1
    await _step(bot, "Il giorno prima")
    bot.clock.set(STARTS - timedelta(hours=23))
    await bot.tick()
    reminders = _with(fake.sent_to(group), "⏰ Domani")
    assert len(reminders) == 1
    assert "Ordine del giorno aggiornato" not in (reminders[0].text or "")  # unchanged since

    # ---- check-ins in the group from half an hour before; the coordinator's correction
    await _step(bot, "Le presenze")
    bot.clock.set(STARTS - timedelta(hours=1))
    await bot.tick()
    bot.clock.set(STARTS - timedelta(minutes=30))
    await bot.tick()
    roll = _with(fake.sent_to(group), "📋 Presenze")[-1]
    assert (await _tap(bot, sara, roll, "✅ Sono presente")).startswith("Registrato")
    assert (await _tap(bot, cora, roll, "💻 Sono online")).startswith("Registrato")
    assert (await _tap(bot, bruno, roll, "✅ Sono presente")).startswith("Registrato")
    await _step(bot, "La correzione di chi coordina")
    bot.clock.set(STARTS + timedelta(minutes=20))
    assert (await _tap(bot, carla, roll, "⚙️ Gestisci presenze")).startswith(
        "Ti ho scritto in privato"
    )
    roster = fake.last_sent(carla)
    # Aldo came without checking in; Bruno had to leave before the start.
    assert await _tap(bot, carla, roster, _button(roster, "▫️ Aldo Argelato")) == (
        "Aldo Argelato: in presenza."
    )
    await _tap(bot, carla, roster, _button(roster, "✅ Bruno Bentivoglio"))
    await _tap(bot, carla, roster, _button(roster, "💻 Bruno Bentivoglio"))
    assert await _attendance(bot) == {
        "Sara Argelato": AttendanceMode.IN_PERSON,
        "Aldo Argelato": AttendanceMode.IN_PERSON,
        "Cora Castello": AttendanceMode.ONLINE,
    }
    await bot.run_jobs()
    assert "Non ancora rappresentati: Bentivoglio" in (roll.text or "")

    # ---- a task agreed at the meeting, from the agenda's panel
    await _step(bot, "Un compito deciso in riunione")
    bot.clock.set(STARTS + timedelta(hours=1))
    await _tap(bot, carla, draft, "📌 Assegna un compito")
    await _tap(bot, carla, draft, "Sara Argelato")
    await _step(bot, "Il compito scritto")
    when = await _type(bot, carla, "Chiedere il preventivo per i pannelli della scuola")
    await _tap(bot, carla, when, _button(when, "Entro una settimana"))
    assert (when.text or "").startswith("✅ Compito assegnato a Sara Argelato")
    assert "📌 Hai un compito dalla riunione «Riunione di dicembre»" in (
        fake.last_sent(sara).text or ""
    )

    # ---- the meeting ends: the minutes' draft to the coordinator
    await _step(bot, "La bozza di verbale")
    bot.clock.set(STARTS + timedelta(hours=2, minutes=1))
    await bot.tick()
    drafts = _with(fake.sent_to(carla), "Bozza di verbale")
    assert len(drafts) == 1
    minutes = drafts[0]
    text = minutes.text or ""
    # The check-ins and the roster's correction are the minutes' present and absent.
    assert (
        "• Argelato — Presenti: Sara Argelato (Sindaco), Aldo Argelato (Assessore) · Assenti: —"
        in text
    )
    assert "• Bentivoglio — Presenti: — · Assenti: Bruno Bentivoglio (Sindaco)" in text
    assert "Presenti: Cora Castello (Assessore, online)" in text
    assert "• 3 — Punto: Comunità energetica: a che punto siamo · Esito: da indicare" in text
    assert "Chiedere il preventivo per i pannelli della scuola · Entro: mer 23 dic 2026" in text

    # ---- the minutes corrected: Bice came late; the same rows as the roster's
    await _step(bot, "Il verbale corretto: le presenze")
    await _tap(bot, carla, minutes, "👥 Presenze")
    assert "Presenti: 3 su 7." in (minutes.text or "")
    await _tap(bot, carla, minutes, _button(minutes, "▫️ Bice Bentivoglio"))
    assert "Presenti: 4 su 7." in (minutes.text or "")
    assert (await _attendance(bot))["Bice Bentivoglio"] == AttendanceMode.IN_PERSON
    await bot.run_jobs()
    # The group's list follows (it did not: the minutes' toggle owed it no edit).
    assert "✅ In presenza (3): Aldo Argelato, Sara Argelato, Bice Bentivoglio" in (roll.text or "")
    assert "Comuni rappresentati: 3 su 3" in (roll.text or "")

    await _step(bot, "Il verbale corretto: gli esiti e le note")
    await _tap(bot, carla, minutes, "⬅️ Indietro")
    await _tap(bot, carla, minutes, "📋 Esiti dei punti")
    await _tap(bot, carla, minutes, _button(minutes, "▫️ 3."))  # → Decisa
    await _tap(bot, carla, minutes, _button(minutes, "▫️ 2."))  # → Decisa
    await _tap(bot, carla, minutes, _button(minutes, "✅ 2."))  # → Rinviata
    await _tap(bot, carla, minutes, _button(minutes, "▫️ 1."))
    await _tap(bot, carla, minutes, _button(minutes, "✅ 1."))
    await _tap(bot, carla, minutes, _button(minutes, "⏭ 1."))  # → Per informazione
    await _tap(bot, carla, minutes, "⬅️ Indietro")
    await _tap(bot, carla, minutes, "📝 Note")
    await _step(bot, "Le note scritte")
    main = await _type(bot, carla, "Si riparte a gennaio con il bando.")
    assert "Si riparte a gennaio con il bando." in (main.text or "")

    # ---- approved, posted to the group once, read back
    await _step(bot, "Il verbale approvato")
    await _tap(bot, carla, main, "✅ Approva")
    await _tap(bot, carla, fake.last_sent(carla), "✅ Sì, approva e pubblica")
    assert "Verbale n. 1/2026 approvato" in (fake.last_sent(carla).text or "")
    await _step(bot, "Dopo l'approvazione")
    await bot.tick()
    files = {
        m.document.file_name: m.document.content
        for m in fake.sent_to(group)
        if m.document is not None and m.document.file_name.startswith("verbale")
    }
    assert sorted(files) == ["verbale-2026-1.odt", "verbale-2026-1.pdf"]
    body, tables = _odt(files["verbale-2026-1.odt"])
    assert "Si riparte a gennaio con il bando." in body
    assert tables["Presenze"][1:] == [
        ["Argelato", "Sara Argelato (Sindaco)\nAldo Argelato (Assessore)", "—"],
        ["Bentivoglio", "Bice Bentivoglio (Assessore)", "Bruno Bentivoglio (Sindaco)"],
        ["Castello", "Cora Castello (Assessore, online)", "Ciro Castello (Sindaco)"],
        ["Personale dell'Unione", "—", "carla (Personale dell'Unione)"],
    ]
    assert tables["OrdineDelGiorno"][1:] == [
        ["1", "PAES: stato delle azioni", "Per informazione"],
        ["2", "Bando illuminazione", "Rinviata"],
        ["3", "Comunità energetica: a che punto siamo", "Decisa"],
    ]
    assert tables["Decisioni"] == [
        ["Punto", "Decisione"],
        ["3", "Comunità energetica: a che punto siamo"],
    ]
    assert tables["Compiti"][1][:2] == [
        "Sara Argelato (Sindaco)",
        "Chiedere il preventivo per i pannelli della scuola",
    ]
    pdf = " ".join(
        " ".join(page.extract_text().split())
        for page in PdfReader(io.BytesIO(files["verbale-2026-1.pdf"])).pages
    )
    assert "Comunità energetica: a che punto siamo" in pdf
    assert "Cora Castello (Assessore, online)" in pdf
    OUT.mkdir(parents=True, exist_ok=True)
    rendered = pypdfium2.PdfDocument(files["verbale-2026-1.pdf"])
    try:
        rendered[0].render(scale=1.5).to_pil().save(OUT / f"whole-story-{_backend(bot)}-page1.png")
    finally:
        rendered.close()
    async with bot.db.transaction() as session:  # filed, and the decision in the register
        filed = (await session.execute(select(Minutes))).scalar_one()
        decisions = list((await session.execute(select(Decision))).scalars())
        items = list((await session.execute(select(AgendaItem))).scalars())
    assert filed.status == MinutesStatus.APPROVED
    assert [d.outcome_text for d in decisions] == ["Comunità energetica: a che punto siamo"]
    proposed = next(i for i in items if i.text.startswith("Comunità"))
    assert proposed.status == AgendaStatus.ACCEPTED and proposed.decision_id == decisions[0].id
    # The approved minutes are the record: the roster (an older message) corrects no more, so
    # the attendance (/team, the summary's Comuni missing) cannot disagree with them.
    refused = await (await carla.press(roster, _button(roster, "✅ Sara Argelato"))).answered()
    assert refused.show_alert and (refused.text or "").startswith(
        "Il verbale di questa riunione è già approvato"
    )
    assert (await _attendance(bot))["Sara Argelato"] == AttendanceMode.IN_PERSON

    # In the group, each of the meeting's messages once, in this order.
    heads = [
        (m.text or "").splitlines()[0].split(":")[0].split(",")[0]
        for m in fake.sent_to(group)
        if (m.text or "").startswith(("📣", "⏰", "📋"))
    ]
    assert heads == [
        "📣 Riunione di dicembre",
        "📣 Convocazione",
        "⏰ Domani",
        "⏰ Tra un'ora",
        "📋 Presenze — Riunione di dicembre",
    ]

    # ---- the next month's round asks about the task, overdue; the summary lists it
    await _step(bot, "Il giro di aggiornamento di gennaio")
    bot.clock.set(datetime(2027, 1, 20, 9, 0, tzinfo=UTC))  # the fallback day, 10:00 in Rome
    await bot.tick()
    await bot.tick()
    asked = _with(fake.sent_to(sara), "📌 Aggiornamento di gennaio 2027")
    assert [m.text for m in asked] == [
        "📌 Aggiornamento di gennaio 2027: hai un compito aperto dalle riunioni.\n"
        "1. «Chiedere il preventivo per i pannelli della scuola» — entro mer 23 dic 2026 "
        "(scaduto)\n\nSe l'hai già fatto, tocca «✔️ Fatto»."
    ]
    await _step(bot, "Il riepilogo dopo la scadenza")
    deadline = datetime(2027, 1, 25, 9, 1, tzinfo=UTC)
    bot.clock.set(deadline)
    await bot.tick()
    await bot.tick()
    since = int(deadline.timestamp())
    summary = "\n".join(m.text or "" for m in fake.sent_to(group) if m.date >= since)
    assert (
        "⏰ Compiti scaduti\nSara Argelato: «Chiedere il preventivo per i pannelli della scuola»"
        in summary
    )
    async with bot.db.transaction() as session:
        task = (await session.execute(select(MeetingTask))).scalar_one()
    assert (task.status, task.due_on, task.meeting_id) == (
        TaskStatus.OPEN,
        date(2026, 12, 23),
        meeting_id,
    )
    fake.write_transcript(f".transcripts/test_meeting_itself_story_{_backend(bot)}.txt")
