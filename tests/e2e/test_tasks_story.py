"""Tasks agreed at a meeting (compiti), end to end on SQLite and PostgreSQL: the coordinator
assigns one from the agenda's panel (the member from buttons, the text typed across a restart,
the date from buttons), the assignee is told in private and marks it done with one tap;
refusals record nothing. Open tasks on the next agenda: tests/e2e/test_agenda_story.py."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from storage.models import Action, ActionStatus, MeetingTask, Municipality, TaskStatus
from tests.e2e.harness import BotUnderTest
from tests.e2e.test_agenda_story import _fix_meeting, _with
from tests.e2e.test_meetings_story import _team


async def _tasks(bot: BotUnderTest) -> list[MeetingTask]:
    async with bot.db.transaction() as session:
        rows = await session.execute(select(MeetingTask).order_by(MeetingTask.id))
        return list(rows.scalars())


async def test_tasks_story(any_bot: BotUnderTest) -> None:
    bot = any_bot
    fake = bot.fake
    team = await _team(bot, cass_started=True)
    carla, sara, bruno = team.carla, team.users["sa"], team.users["sb"]
    await _fix_meeting(bot, team)  # one task of an earlier meeting is open already
    draft = _with(fake.sent_to(carla), "Ho preparato la bozza")[-1]
    # The update round opened with the meeting: at the next tick Sara is asked about her open
    # task, once.
    await bot.tick()
    asked = _with(fake.sent_to(sara), "📌 Aggiornamento di dicembre 2026")
    assert [m.text for m in asked] == [
        "📌 Aggiornamento di dicembre 2026: hai un compito aperto dalle riunioni.\n"
        "1. «Raccogliere le bollette 2025 della scuola» — entro mar 1 dic 2026 (scaduto)\n\n"
        "Se l'hai già fatto, tocca «✔️ Fatto»."
    ]
    await bot.tick()
    assert len(_with(fake.sent_to(sara), "📌 Aggiornamento")) == 1

    # A mayor cannot assign tasks (a forged press), and nothing is recorded.
    meeting_id = int((draft.buttons[-2][1][1] or "").rsplit(":", 1)[1])
    await sara.send("/calendario")
    await bot.settle()
    refused = await (
        await sara.press_forged(fake.last_sent(sara), f"tsk:new:{meeting_id}")
    ).answered()
    assert refused.show_alert and refused.text == "Solo chi coordina l'Unione assegna i compiti."

    # An action of Sara's Comune: a task of hers may be about it.
    async with bot.db.transaction() as session:
        argelato = (
            await session.execute(select(Municipality).where(Municipality.name == "Argelato"))
        ).scalar_one()
        action = Action(
            union_id=team.union_id,
            code="AR-1",
            title="Fotovoltaico sulla scuola",
            municipality_id=argelato.id,
            status=ActionStatus.ONGOING,
            progress=10,
            created_at=bot.clock.now(),
            updated_at=bot.clock.now(),
        )
        session.add(action)
        await session.flush()
        action_id = action.id

    # Whom: the members at the meeting's table (not the technician).
    await (await carla.press(draft, "📌 Assegna un compito")).answered()
    await bot.settle()
    who = draft  # each step replaces the pressed message
    assert "A chi lo assegni?" in (who.text or "")
    assert "Sara Argelato" in who.button_texts and "Tino Tecnico" not in who.button_texts
    await (await carla.press(who, "Sara Argelato")).answered()
    await bot.settle()
    assert "che cosa deve fare Sara Argelato" in (who.text or "")
    await bot.restart()  # the dialogue is in the database
    await carla.send("Chiedere il preventivo per il fotovoltaico della scuola")
    await bot.settle()
    when = fake.last_sent(carla)
    assert "Riguarda un'azione del PAES?" in (when.text or "")
    assert when.button_texts == ["AR-1 · Fotovoltaico sulla scuola", "Nessuna azione", "Annulla"]
    stale = await (
        await carla.press_forged(when, f"tsk:act:{meeting_id}:{action_id + 99}")
    ).answered()
    assert stale.show_alert  # an action that was not offered
    await (await carla.press(when, "AR-1 · Fotovoltaico sulla scuola")).answered()
    await bot.settle()
    assert when.button_texts == [
        "Entro una settimana (ven 11 dic 2026)",
        "Entro due settimane (ven 18 dic 2026)",
        "Entro un mese (dom 3 gen 2027)",
        "Entro due mesi (mar 2 feb 2027)",
        "Senza scadenza",
        "Annulla",
    ]
    forged = await (
        await carla.press_forged(when, f"tsk:due:{meeting_id}:5")
    ).answered()  # 5 days was never offered
    assert forged.show_alert and (forged.text or "").startswith("Questa preparazione è scaduta")
    assert len(await _tasks(bot)) == 1
    await (await carla.press(when, "Entro due settimane (ven 18 dic 2026)")).answered()
    await bot.settle()
    assert when.text == (
        "✅ Compito assegnato a Sara Argelato: «Chiedere il preventivo per il fotovoltaico "
        "della scuola» entro ven 18 dic 2026.\nGliel'ho scritto in privato."
    )
    # The agenda's panel this dialogue replaced is one tap away.
    assert when.button_texts == [
        "📌 Assegna un compito",
        "🗑 Annulla questo compito",
        "↩️ Torna all'ordine del giorno",
    ]
    task = (await _tasks(bot))[-1]
    assert (task.status, task.due_on, task.meeting_id, task.action_id) == (
        TaskStatus.OPEN,
        date(2026, 12, 18),
        meeting_id,
        action_id,
    )
    assert task.told_at is not None

    # The assignee is told in private, and only she marks it done, once.
    told = fake.last_sent(sara)
    assert told.text == (
        "📌 Hai un compito dalla riunione «Riunione di dicembre»:\n"
        "«Chiedere il preventivo per il fotovoltaico della scuola»\n"
        "Azione del PAES: AR-1 · Fotovoltaico sulla scuola.\n"
        "Entro ven 18 dic 2026.\nQuando l'hai fatto, tocca «✔️ Fatto»."
    )
    not_hers = await (await bruno.press_forged(told, f"tsk:done:{task.id}")).answered()
    assert not_hers.show_alert and (not_hers.text or "").startswith(
        "Questo compito è di un'altra persona"
    )
    await (await sara.press(told, "✔️ Fatto")).answered()
    await bot.settle()
    assert told.text == (
        "✔️ Fatto: «Chiedere il preventivo per il fotovoltaico della scuola». Grazie!\n\n"
        "Ancora aperti:\n"
        "1. «Raccogliere le bollette 2025 della scuola» — entro mar 1 dic 2026 (scaduto)"
    )
    assert told.button_texts == ["✔️ Fatto"]
    task = (await _tasks(bot))[-1]
    assert task.status == TaskStatus.DONE and task.closed_at is not None
    again = await (await sara.press_forged(told, f"tsk:done:{task.id}")).answered()
    assert again.show_alert and again.text == "Questo compito è già chiuso."

    # A task done is not cancelled afterwards.
    late = await (await carla.press(when, "🗑 Annulla questo compito")).answered()
    assert late.show_alert and late.text == "Questo compito è già chiuso."
    # «Annulla» ends a dialogue and records nothing.
    await (await carla.press(when, "📌 Assegna un compito")).answered()
    await bot.settle()
    await (await carla.press(when, "Annulla")).answered()
    await bot.settle()
    assert when.text == "Va bene, nessun compito registrato."
    assert len(await _tasks(bot)) == 2
    # …and leads back to the agenda's panel, for its coordinator only.
    assert when.button_texts == ["↩️ Torna all'ordine del giorno"]
    not_hers = await (await sara.press_forged(when, f"agd:show:{meeting_id}")).answered()
    assert not_hers.show_alert
    await (await carla.press(when, "↩️ Torna all'ordine del giorno")).answered()
    await bot.settle()
    assert (when.text or "").startswith("📋 Ordine del giorno · Riunione di dicembre")
    assert {"➕ Aggiungi un punto", "📌 Assegna un compito"} <= set(when.button_texts)

    # A task assigned by mistake is cancelled with one tap; its assignee is told, and her
    # «✔️ Fatto» on it says so.
    await (await carla.press(when, "📌 Assegna un compito")).answered()
    await bot.settle()
    await (await carla.press(when, "Sara Argelato")).answered()
    await bot.settle()
    await carla.send("Preparare la delibera sbagliata")
    await bot.settle()
    wrong = fake.last_sent(carla)
    await (await carla.press(wrong, "Nessuna azione")).answered()
    await bot.settle()
    await (await carla.press(wrong, "Senza scadenza")).answered()
    await bot.settle()
    mistaken = (await _tasks(bot))[-1]
    told_wrong = fake.last_sent(sara)
    assert "Preparare la delibera sbagliata" in (told_wrong.text or "")
    not_coord = await (await sara.press_forged(wrong, f"tsk:drop:{mistaken.id}")).answered()
    assert not_coord.show_alert and (not_coord.text or "").startswith("Solo chi coordina")
    await (await carla.press(wrong, "🗑 Annulla questo compito")).answered()
    await bot.settle()
    assert wrong.text == (
        "🗑 Annullato il compito di Sara Argelato: «Preparare la delibera sbagliata».\n"
        "Gliel'ho scritto in privato."
    )
    assert wrong.button_texts == ["📌 Assegna un compito"]
    assert fake.last_sent(sara).text == (
        "🗑 Il compito «Preparare la delibera sbagliata» della riunione «Riunione di dicembre» "
        "è stato annullato: non serve più farlo."
    )
    # Her message about it is struck through, its «✔️ Fatto» gone; a press on a copy of it
    # from before the edit says it is cancelled.
    assert (told_wrong.text or "").startswith("📌 Hai un compito dalla riunione")
    assert (told_wrong.text or "").endswith("🗑 Annullato: non serve più farlo.")
    assert told_wrong.button_texts == []
    gone = await (await sara.press_forged(told_wrong, f"tsk:done:{mistaken.id}")).answered()
    assert gone.show_alert and (gone.text or "").startswith("Questo compito è stato annullato")
    assert (await _tasks(bot))[-1].status == TaskStatus.CANCELLED

    # After the round's deadline, the summary in the political group lists the overdue task.
    bot.clock.set(datetime(2026, 12, 14, 17, 0, tzinfo=UTC))
    await bot.tick()
    await bot.tick()
    summary = "\n".join(m.text or "" for m in fake.sent_to(team.group))
    assert (
        "⏰ Compiti scaduti\nSara Argelato: «Raccogliere le bollette 2025 della scuola», "
        in summary
    )
    assert "entro mar 1 dic 2026" in summary
    assert "preventivo" not in summary.split("Compiti scaduti")[1]  # done, not listed
    fake.write_transcript(".transcripts/test_tasks_story.txt")
