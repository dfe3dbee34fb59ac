"""PAES actions and the monthly update round, end to end, as the people of a Union live it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from storage.models import (
    Action,
    ActionStatus,
    ProgressUpdate,
    Role,
    RoundResponse,
    TableKind,
    UpdateAttachment,
    UpdateNote,
    UpdateRound,
    UpdateSource,
)
from tests.e2e.harness import BotUnderTest
from tests.fakes.fake_world import FakeMessage, FakeUser
from tests.updates_factories import link_group, make_meeting, make_member, make_union

ROME = ZoneInfo("Europe/Rome")
COMUNI = ["Sant'Ilario d'Enza", "Montecchio Emilia", "Bibbiano"]

PLAN_CSV = (
    "Piano d'azione per l'energia sostenibile — Unione Val d'Enza\n"
    "\n"
    "Codice;Titolo;Settore;Comune;Responsabile;Data inizio;Data fine;"
    "Risparmio energetico (MWh/a);Produzione da rinnovabili (MWh/a);Riduzione CO2 (t/a);Costo (€)\n"
    "SI-1;Fotovoltaico sulla scuola media;Edifici pubblici;Sant'Ilario d'Enza;Ufficio tecnico;01/03/2026;31/12/2027;;45,5;21,3;€ 120.000,00\n"
    "SI-2;Relamping LED illuminazione pubblica;Illuminazione;sant’ilario d’enza;Ufficio tecnico;2026;2027;310,2;;148,9;1.250.000\n"
    "SI-3;Cappotto termico palestra;Edifici pubblici;SANT'ILARIO D'ENZA;LL.PP.;01/09/2026;30/06/2028;85;;17;380.000,50\n"
    "SI-4;Sportello energia per i cittadini;Informazione;Sant Ilario d Enza;;;;;;;\n"
    "ME-1;Caldaie a condensazione municipio;Edifici pubblici;Montecchio Emilia;UT;15/01/2026;15/12/2026;40;;8,1;95.000\n"
    "ME-2;Pista ciclabile stazione;Mobilità;montecchio emilia;LL.PP.;2026-04-01;2028-12-31;;;12;640000\n"
    "ME-3;Comunità energetica rinnovabile;Produzione locale;Montecchio Emilia;UT;2027;2029;;300;140;\n"
    "ME-4;Auto elettriche di servizio;Mobilità;Montecchio Emilia;;;;12,5;;3,4;60.000\n"
    "BI-1;Solare termico piscina;Produzione locale;Bibbiano;UT;01/05/2026;30/09/2026;;60;12;70.000\n"
    "BI-2;Illuminazione LED scuole;Edifici pubblici;Bibbiano;UT;;;20;;9;\n"
    "BI-3;Piano del verde urbano;Assorbimento;Bibbiano;Ambiente;;;;;5;15.000\n"
    "BI-4;Diagnosi energetiche edifici;Edifici pubblici;Bibbiano;UT;;;;;;25.000\n"
    "UN-1;Ufficio energia dell'Unione;Governance;Unione;Unione;01/01/2026;31/12/2030;;;;200.000\n"
    "UN-2;Acquisto congiunto energia verde;Acquisti;unione;Unione;2026;2026;;;250;\n"
    ";;;;;;;;;;\n"
    ";;;;;;;;;;\n"
).encode("cp1252")

BAD_CSV = (
    "codice,titolo,comune,fine\n"
    "SI-1,Fotovoltaico sulla scuola media,Sant'Ilario d'Enza,31/12/2027\n"
    "SI-9,Nuova azione,Bibbiano,31/12/2027\n"
    "SI-10,Azione in un Comune che non c'è,Reggio Emilia,31/12/2027\n"
    "SI-11,Altra azione,Bibbiano,01/01/2028\n"
    "SI-12,Altra ancora,Bibbiano,01/01/2028\n"
    "SI-13,Data impossibile,Bibbiano,31/02/2026\n"
).encode()


def texts(bot: BotUnderTest, user: FakeUser) -> list[str]:
    return [m.text or m.caption or "" for m in bot.fake.sent_to(user)]


async def press(bot: BotUnderTest, user: FakeUser, message: FakeMessage, button: str) -> str | None:
    p = await user.press(message, button)
    answer = await p.answered()
    await bot.settle()
    return answer.text


def find_button(message: FakeMessage, prefix: str) -> str:
    for text in message.button_texts:
        if text.startswith(prefix):
            return text
    raise AssertionError(f"no button starting with {prefix!r} in {message.button_texts}")


async def answer_on(
    bot: BotUnderTest,
    user: FakeUser,
    message: FakeMessage,
    code: str,
    status: str,
    percent: str | None = None,
) -> FakeMessage:
    """On the round's list: the action, its state (saved at once), maybe its percentage (the
    row marks the value saved with «●»); back on the list, which is returned."""
    await press(bot, user, message, find_button(message, code))
    assert await press(bot, user, message, find_button(message, status)) == "Salvato"
    if percent is not None:
        label = f"● {percent}" if f"● {percent}" in message.button_texts else percent
        assert await press(bot, user, message, label) == percent
    return message


async def test_actions_and_monthly_round(any_bot: BotUnderTest) -> None:
    bot = any_bot
    fake, clock = bot.fake, bot.clock
    now = clock.now()
    carla = fake.add_user("Carla", "Coordinatrice")
    tina = fake.add_user("Tina", "Tecnica")
    marco = fake.add_user("Marco", "Ferri")
    bruno = fake.add_user("Bruno", "Galli")
    nino = fake.add_user("Nino", "Silente")  # never starts the bot
    sara = fake.add_user("Sara", "Sindaca")
    group = fake.create_group(
        "Tavolo tecnico Val d'Enza", carla, members=[tina, marco, bruno, nino]
    )
    await fake.add_bot_to_group(group, by=carla)
    async with bot.db.transaction() as s:
        union, comuni = await make_union(s, "Unione Val d'Enza", COMUNI, now=now)
        si, me, bi = (comuni[c] for c in COMUNI)
        await make_member(
            s,
            union,
            telegram_user_id=carla.id,
            name="Carla",
            role=Role.STAFF,
            coordinator=True,
            now=now,
        )
        await make_member(
            s, union, telegram_user_id=tina.id, name="Tina", role=Role.TECNICO, comuni=[si], now=now
        )
        await make_member(
            s,
            union,
            telegram_user_id=marco.id,
            name="Marco",
            role=Role.TECNICO,
            comuni=[me],
            now=now,
        )
        await make_member(
            s,
            union,
            telegram_user_id=bruno.id,
            name="Bruno",
            role=Role.TECNICO,
            comuni=[bi],
            now=now,
        )
        await make_member(
            s, union, telegram_user_id=nino.id, name="Nino", role=Role.TECNICO, comuni=[me], now=now
        )
        await make_member(
            s, union, telegram_user_id=sara.id, name="Sara", role=Role.SINDACO, comuni=[si], now=now
        )
        await link_group(s, union, chat_id=group.id, kind=TableKind.TECHNICAL, now=now)
        union_id = union.id
    for user in (carla, tina, marco, bruno, sara):
        await user.send("/start")
    await bot.settle()

    # --- import: a real-world CSV (Windows-1252, semicolons, title block, Italian numbers) ---
    await carla.send_document("piano_azioni.csv", PLAN_CSV, mime_type="text/csv")
    await bot.settle()
    preview = fake.last_sent(carla)
    assert "14 azioni (14 nuove)." in (preview.text or "")
    assert await press(bot, carla, preview, "✅ Conferma") == "Importate."
    async with bot.db.transaction() as s:
        actions = {a.code: a for a in (await s.execute(select(Action))).scalars()}
    assert len(actions) == 14
    assert actions["SI-2"].municipality_id == si.id and actions["UN-1"].municipality_id is None
    assert actions["SI-2"].energy_saved_mwh == Decimal("310.200")
    assert actions["SI-2"].cost_eur == Decimal("1250000.00")
    assert actions["SI-3"].cost_eur == Decimal("380000.50")
    assert actions["ME-2"].start_on.isoformat() == "2026-04-01"  # type: ignore[union-attr]
    assert actions["SI-2"].end_on.isoformat() == "2027-12-31"  # type: ignore[union-attr]

    # --- a file with errors imports nothing and names the rows ---
    await carla.send_document("correzioni.csv", BAD_CSV, mime_type="text/csv")
    await bot.settle()
    report = fake.last_sent(carla).text or ""
    assert "non ho importato nulla" in report
    assert "Riga 4, colonna «comune»: Comune sconosciuto «Reggio Emilia»" in report
    assert "Riga 7, colonna «fine»: data non valida «31/02/2026»" in report
    async with bot.db.transaction() as s:
        assert (await s.execute(select(func.count()).select_from(Action))).scalar_one() == 14

    # --- the month's meeting is fixed: the round opens, announced and sent to the technicians ---
    async with bot.db.transaction() as s:
        meeting_at = datetime(2026, 12, 16, 17, 0, tzinfo=ROME)
        from storage.models import Union as UnionModel

        u = await s.get(UnionModel, union_id)
        assert u is not None
        await make_meeting(s, u, starts_at=meeting_at, now=clock.now())
    await bot.tick()
    await bot.tick()  # a second tick never makes a second round or second messages
    async with bot.db.transaction() as s:
        rounds = list((await s.execute(select(UpdateRound))).scalars())
    assert len(rounds) == 1 and rounds[0].period == "2026-12"
    assert rounds[0].deadline_at == datetime(2026, 12, 14, 17, 0, tzinfo=ROME).astimezone(UTC)
    announcement = fake.last_sent(group)
    assert "Aggiornamento di dicembre 2026" in (announcement.text or "")
    for user in (tina, marco, bruno):
        invites = [t for t in texts(bot, user) if "Aggiornamento di dicembre 2026" in t]
        assert len(invites) == 1, user.first_name
    assert not fake.sent_to(nino)  # 403: never started
    assert not any("Aggiornamento di dicembre" in t for t in texts(bot, sara))
    tina_invite = next(
        m for m in fake.sent_to(tina) if "Aggiornamento di dicembre" in (m.text or "")
    )
    assert "SI-1" in (tina_invite.text or "") and "UN-2" in (tina_invite.text or "")
    assert "ME-1" not in (tina_invite.text or "")
    await bot.tick()
    told = [
        t
        for t in texts(bot, carla)
        if "non riesco a scrivere a questa persona del tavolo tecnico" in t
    ]
    assert len(told) == 1 and "Nino" in told[0] and "Montecchio Emilia" in told[0]

    # --- Tina: the first action with a photo and a question for the political table ---
    # The invitation is the list: Tina taps the action that moved, then its state.
    await press(bot, tina, tina_invite, "SI-1")
    assert "SI-1" in (tina_invite.text or "") and "Com'è adesso?" in (tina_invite.text or "")
    assert await press(bot, tina, tina_invite, "🔄 In corso") == "Salvato"
    assert await press(bot, tina, tina_invite, "50%") == "50%"
    await tina.send_photo(b"\x89PNG fake photo of the roof", caption=None)
    await bot.settle()
    assert "Allegato aggiunto" in (fake.last_sent(tina).text or "")
    await tina.send("Pannelli montati sul lato sud, manca l'allaccio.")
    await bot.settle()
    extras = fake.last_sent(tina)
    assert "Nota aggiunta a SI-1" in (extras.text or "")
    await press(bot, tina, tina_invite, "⚖️ Serve una decisione del tavolo politico")
    await tina.send("Approviamo la variante per l'allaccio in media tensione?")
    await bot.settle()
    added = fake.last_sent(tina).text or ""
    assert added.startswith("⚖️ Questione per il tavolo politico aggiunta a SI-1")
    # The rest: five more actions (three own, two intercommunal), in a few taps each.
    await answer_on(bot, tina, tina_invite, "SI-2", "✅ Completata")
    await answer_on(bot, tina, tina_invite, "SI-3", "🔄 In corso", "25%")
    await answer_on(bot, tina, tina_invite, "SI-4", "⚪ Non avviata")
    await answer_on(bot, tina, tina_invite, "UN-1", "🔄 In corso", "75%")
    last = await answer_on(bot, tina, tina_invite, "UN-2", "⏸ Rinviata", "0%")
    assert "Hai aggiornato tutte le azioni" in (last.text or "")
    async with bot.db.transaction() as s:
        si1 = (await s.execute(select(Action).where(Action.code == "SI-1"))).scalar_one()
        assert (si1.status, si1.progress) == (ActionStatus.ONGOING, 50)
        upd = (
            await s.execute(select(ProgressUpdate).where(ProgressUpdate.action_id == si1.id))
        ).scalar_one()
        assert upd.needs_decision and "media tensione" in (upd.decision_question or "")
        assert upd.note == "Pannelli montati sul lato sud, manca l'allaccio."
        assert upd.previous_status == ActionStatus.NOT_STARTED and upd.round_id == rounds[0].id
        assert (
            await s.execute(select(func.count()).select_from(UpdateAttachment))
        ).scalar_one() == 1

    # --- Bruno: nothing new this month, one tap ---
    bruno_invite = next(
        m for m in fake.sent_to(bruno) if "Aggiornamento di dicembre" in (m.text or "")
    )
    assert (
        await press(bot, bruno, bruno_invite, "👌 Nessuna novità questo mese")
        == "Registrato: nessuna novità."
    )

    # --- Marco: starts, the bot is stopped mid-way, a new Application resumes ---
    marco_invite = next(
        m for m in fake.sent_to(marco) if "Aggiornamento di dicembre" in (m.text or "")
    )
    await press(bot, marco, marco_invite, "ME-1")
    assert await press(bot, marco, marco_invite, "🔄 In corso") == "Salvato"
    # The intercommunal ones were already answered by Tina: ticked on Marco's list.
    assert "✔️ UN-1" in marco_invite.button_texts and "✔️ UN-2" in marco_invite.button_texts
    await bot.restart()
    assert await press(bot, marco, marco_invite, "75%") == "75%"
    assert "💾 Salvato: ME-1 → 🔄 In corso, 75%" in (marco_invite.text or "")
    await press(bot, marco, marco_invite, "🏁 Ho finito")
    assert "Restano da aggiornare: ME-2, ME-3, ME-4" in (fake.last_sent(marco).text or "")

    # --- reminder after three days: only the ones missing ---
    before = {u.first_name: len(fake.sent_to(u)) for u in (tina, marco, bruno)}
    clock.set(datetime(2026, 12, 4, 10, 0, tzinfo=ROME))
    await bot.tick()
    await bot.tick()
    reminded = {u.first_name: texts(bot, u)[before[u.first_name] :] for u in (tina, marco, bruno)}
    assert reminded["Tina"] == [] and reminded["Bruno"] == []
    assert len(reminded["Marco"]) == 1 and reminded["Marco"][0].startswith("⏰ Promemoria")

    # --- /aggiornamento stato for the coordinator ---
    await carla.send("/aggiornamento stato")
    await bot.settle()
    status = fake.last_sent(carla).text or ""
    answered_part, rest = status.split("⏳ Non ancora")
    assert (
        "Tina" in answered_part and "Bruno" in answered_part and "nessuna novità" in answered_part
    )
    pending_part, unreachable_part = rest.split("🚫 Non raggiungibili")
    assert "Marco" in pending_part and "3 di 6 azioni" in pending_part
    assert "Nino" in unreachable_part

    # --- Marco answers days later, from /aggiornamento ---
    clock.set(datetime(2026, 12, 9, 18, 0, tzinfo=ROME))
    await marco.send("/aggiornamento")
    await bot.settle()
    listing = fake.last_sent(marco)
    assert "ME-2" in (listing.text or "") and "✔️ ME-1" in listing.button_texts
    await answer_on(bot, marco, listing, "ME-2", "🔄 In corso", "25%")
    await answer_on(bot, marco, listing, "ME-3", "⚪ Non avviata")
    last = await answer_on(bot, marco, listing, "ME-4", "✅ Completata")
    assert "Hai aggiornato tutte le azioni" in (last.text or "")

    # --- the day before the deadline: only Nino is missing (and unreachable) ---
    before = {u.first_name: len(fake.sent_to(u)) for u in (tina, marco, bruno)}
    clock.set(datetime(2026, 12, 13, 18, 0, tzinfo=ROME))
    await bot.tick()
    assert all(len(fake.sent_to(u)) == before[u.first_name] for u in (tina, marco, bruno))

    # --- a reply to the announcement in the technical group is a note for the Comune ---
    await tina.send(
        "Il cantiere della palestra parte a gennaio.", chat=group, reply_to=announcement
    )
    await bot.settle()
    assert "Nota registrata per Sant'Ilario d'Enza" in (fake.last_sent(group).text or "")
    async with bot.db.transaction() as s:
        note = (await s.execute(select(UpdateNote))).scalar_one()
        assert note.source == UpdateSource.GROUP_REPLY and note.municipality_id == si.id
        assert note.round_id == rounds[0].id
        assert (await s.execute(select(func.count()).select_from(RoundResponse))).scalar_one() == 1

    # --- the Sindaca reads her Comune's history ---
    await sara.send("/azioni")
    await bot.settle()
    listing = fake.last_sent(sara)
    assert "SI-1" in (listing.text or "") and "➕ Nuova azione" not in listing.button_texts
    await press(bot, sara, listing, "SI-1")
    await press(bot, sara, fake.last_sent(sara), "📜 Storico")
    history = fake.last_sent(sara).text or ""
    assert "Tina" in history and "In corso 50%" in history and "📎 1 allegato" in history
    assert "media tensione" in history

    # --- the deadline passes: the round closes ---
    clock.set(datetime(2026, 12, 14, 17, 1, tzinfo=ROME))
    await bot.tick()
    async with bot.db.transaction() as s:
        assert (await s.get(UpdateRound, rounds[0].id)).status.value == "closed"  # type: ignore[union-attr]

    # --- export to Excel and import it back: the same actions ---
    await carla.send("/azioni")
    await bot.settle()
    await press(bot, carla, fake.last_sent(carla), "📤 Excel")
    exported = fake.last_sent(carla)
    assert exported.document is not None and exported.document.file_name == "azioni_paes.xlsx"
    async with bot.db.transaction() as s:
        snapshot = {
            a.code: (
                a.title,
                a.municipality_id,
                a.start_on,
                a.end_on,
                a.energy_saved_mwh,
                a.cost_eur,
                a.status,
                a.progress,
            )
            for a in (await s.execute(select(Action))).scalars()
        }
    await carla.send_document("azioni_paes.xlsx", exported.document.content)
    await bot.settle()
    preview = fake.last_sent(carla)
    assert "14 azioni (14 invariate)." in (preview.text or "")
    await press(bot, carla, preview, "✅ Conferma")
    assert "✅ Nessuna modifica" in (fake.last_sent(carla).text or "")
    async with bot.db.transaction() as s:
        after = {
            a.code: (
                a.title,
                a.municipality_id,
                a.start_on,
                a.end_on,
                a.energy_saved_mwh,
                a.cost_eur,
                a.status,
                a.progress,
            )
            for a in (await s.execute(select(Action))).scalars()
        }
        history_rows = (
            await s.execute(select(func.count()).select_from(ProgressUpdate))
        ).scalar_one()
    assert after == snapshot
    assert history_rows == 6 + 4  # Tina's six, Marco's four: re-import keeps every update
