"""Summaries end to end: after a round the political group gets its summary exactly once, the
mayors vote a question that flows to the technical group, an announcement reaches 120 members,
and the export agrees with the database. Data is seeded through the models (registration,
meetings and updates are other features); everything else happens as people do it."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.clock import FakeClock
from bot.config import normalize_database_url
from bot.services import summaries
from storage.models import (
    Action,
    ActionStatus,
    Decision,
    DecisionStatus,
    LinkedChat,
    MeetingSettings,
    Member,
    MemberMunicipality,
    MemberStatus,
    Municipality,
    Person,
    ProgressUpdate,
    Role,
    RoundStatus,
    Summary,
    SummaryKind,
    TableKind,
    Union,
    UpdateRound,
    UpdateSource,
)
from storage.repositories import summaries as repo
from tests.e2e.harness import BotUnderTest
from tests.fakes.telegram_server import FakeChat, FakeTelegram, FakeUser


@dataclass
class Team:
    union_id: int
    coordinator: FakeUser
    political: FakeChat
    technical: FakeChat
    users: dict[str, FakeUser] = field(default_factory=dict)  # "sindaco:0", "tecnico:1", …
    member_ids: dict[str, int] = field(default_factory=dict)
    comune_ids: list[int] = field(default_factory=list)
    action_ids: list[int] = field(default_factory=list)


PICTURE_CAPTIONS = [
    "Azioni per stato, Comune per Comune",
    "CO₂ evitata rispetto all'obiettivo del PAES",
]


async def seed(bot: BotUnderTest, *, comuni: int, actions_per_comune: int = 2) -> Team:
    fake = bot.fake
    now = bot.clock.now()
    coordinator = fake.add_user("Carla", "Coordinatrice")
    coordinator.has_started = True
    people: dict[str, FakeUser] = {}
    for i in range(comuni):
        for role in ("sindaco", "assessore", "tecnico"):
            user = fake.add_user(role.capitalize(), f"{i:02d}")
            user.has_started = True
            people[f"{role}:{i}"] = user
    political = fake.create_group(
        "Tavolo politico", coordinator, members=[u for k, u in people.items() if "tecnico" not in k]
    )
    technical = fake.create_group(
        "Tavolo tecnico", coordinator, members=[u for k, u in people.items() if "tecnico" in k]
    )
    political.bot_status = technical.bot_status = "member"
    async with bot.db.transaction() as session:
        union = Union(name="Unione Reno Galliera", timezone="Europe/Rome", created_at=now)
        session.add(union)
        await session.flush()
        # These stories are about summaries: no automatic monthly poll in the groups.
        session.add(MeetingSettings(union_id=union.id, auto_poll_enabled=False))
        team = Team(union.id, coordinator, political, technical, users=people)

        async def member(
            user: FakeUser, role: Role, comune: Municipality | None, coord: bool
        ) -> int:
            person = Person(
                telegram_user_id=user.id,
                display_name=user.full_name,
                reachable=True,
                created_at=now,
            )
            session.add(person)
            await session.flush()
            m = Member(
                union_id=union.id,
                person_id=person.id,
                role=role,
                status=MemberStatus.ACTIVE,
                is_coordinator=coord,
                requested_at=now,
                decided_at=now,
            )
            session.add(m)
            await session.flush()
            if comune is not None:
                session.add(MemberMunicipality(member_id=m.id, municipality_id=comune.id))
            return m.id

        team.member_ids["coordinator"] = await member(coordinator, Role.STAFF, None, True)
        for i in range(comuni):
            comune = Municipality(
                union_id=union.id,
                name=f"Comune {i:02d}",
                name_key=f"comune {i:02d}",
                created_at=now,
            )
            session.add(comune)
            await session.flush()
            team.comune_ids.append(comune.id)
            for role in (Role.SINDACO, Role.ASSESSORE, Role.TECNICO):
                key = f"{role.value}:{i}"
                team.member_ids[key] = await member(people[key], role, comune, False)
            for a in range(actions_per_comune):
                action = Action(
                    union_id=union.id,
                    code=f"C{i:02d}.{a}",
                    title=f"Azione {a} di Comune {i:02d}",
                    sector="Edifici",
                    municipality_id=comune.id,
                    responsible="Ufficio tecnico",
                    co2_avoided_t=Decimal("10"),
                    status=ActionStatus.ONGOING,
                    progress=20,
                    created_at=now - timedelta(days=90),
                    updated_at=now - timedelta(days=90),
                )
                session.add(action)
                await session.flush()
                team.action_ids.append(action.id)
        for chat, kind in ((political, TableKind.POLITICAL), (technical, TableKind.TECHNICAL)):
            session.add(
                LinkedChat(
                    union_id=union.id,
                    table_kind=kind,
                    chat_id=chat.id,
                    title=chat.title or "",
                    linked_at=now,
                )
            )
    return team


async def report_update(
    bot: BotUnderTest,
    team: Team,
    *,
    comune: int,
    action: int,
    status: ActionStatus,
    progress: int,
    round_id: int,
    note: str | None = None,
    question: str | None = None,
) -> None:
    """What the updates feature stores when a technician reports (its own e2e covers the dialogue)."""
    async with bot.db.transaction() as session:
        row = await session.get(Action, team.action_ids[action])
        assert row is not None
        session.add(
            ProgressUpdate(
                action_id=row.id,
                member_id=team.member_ids[f"tecnico:{comune}"],
                round_id=round_id,
                source=UpdateSource.PRIVATE,
                previous_status=row.status,
                status=status,
                previous_progress=row.progress,
                progress=progress,
                note=note,
                needs_decision=question is not None,
                decision_question=question,
                created_at=bot.clock.now(),
            )
        )
        row.status, row.progress = status, progress


async def open_round(bot: BotUnderTest, team: Team, *, period: str, hours: float) -> int:
    async with bot.db.transaction() as session:
        r = UpdateRound(
            union_id=team.union_id,
            period=period,
            opened_at=bot.clock.now(),
            deadline_at=bot.clock.now() + timedelta(hours=hours),
            status=RoundStatus.OPEN,
        )
        session.add(r)
        await session.flush()
        return r.id


async def test_summary_once_decision_loop_and_on_demand(any_bot: BotUnderTest) -> None:
    bot = any_bot
    fake = bot.fake
    team = await seed(bot, comuni=3)
    round_id = await open_round(bot, team, period="2026-12", hours=48)
    await report_update(
        bot,
        team,
        comune=0,
        action=0,
        status=ActionStatus.COMPLETED,
        progress=100,
        round_id=round_id,
        note="Collaudo fatto <ok>",
    )
    await report_update(
        bot,
        team,
        comune=1,
        action=2,
        status=ActionStatus.ONGOING,
        progress=60,
        round_id=round_id,
        question="Anticipare i fondi per il cappotto & infissi?",
    )
    await bot.advance(hours=47)
    assert fake.sent_to(team.political) == []  # not before the deadline
    await bot.advance(hours=2)
    posted = fake.sent_to(team.political)
    summary_text = posted[0].text or ""
    assert summary_text.startswith(
        "📊 Team energia · Unione Reno Galliera\nRiepilogo di dicembre 2026"
    )
    # What the mayors must do first, three lines of totals, one line per Comune (issue 16).
    assert summary_text.split("\n")[2:] == [
        "Riepilogo inviato in ritardo per un problema tecnico.",
        "",
        "🗳 Da decidere: votate con i pulsanti nei messaggi qui sotto",
        "1. Anticipare i fondi per il cappotto & infissi? (Comune 01, C01.0) — nessun voto finora",
        "",
        "📅 Prossima riunione non ancora fissata.",
        "",
        "In sintesi",
        "6 azioni: ✅ 1 completata · 🔄 5 in corso",
        "Finora: 2 azioni aggiornate, 1 completata, 1 tecnico non ha ancora aggiornato",
        "🌱 CO₂ evitata: 10,0 t/anno su 60,0 t/anno previste dal PAES (17%); "
        "altre 50,0 t/anno con le azioni in corso",
        "",
        "Comune 00 · 1/2 completate · 1 aggiornata · ✅ C00.0 completata",
        "Comune 01 · 2 azioni · 1 aggiornata",
        "Comune 02 · 2 azioni · 🔕 non ha ancora aggiornato: Tecnico 02",
        "",
        "ℹ️ Il dettaglio di ogni azione e le note sono nel foglio di calcolo "
        "(«📤 Foglio di calcolo» qui sotto).",
    ]
    assert posted[0].button_texts == ["📤 Foglio di calcolo"]
    # The question's vote message right under the text, the pictures after it.
    vote_msg = posted[1]
    vote_data = vote_msg.buttons[0][0][1]
    assert vote_data is not None and vote_data.startswith("dec:vote:")
    assert "Questione per il tavolo politico" in (vote_msg.text or "")
    assert [m.caption for m in posted[2:]] == PICTURE_CAPTIONS
    assert all(m.photo is not None and m.photo[:4] == b"\x89PNG" for m in posted[2:])
    assert len(posted) == 4

    # Duplicate ticks and restarts never post it again.
    await bot.tick()
    await bot.restart()
    await bot.advance(minutes=5)
    await bot.restart()
    await bot.tick()
    assert len(fake.sent_to(team.political)) == 4

    # The political table votes: one vote per Comune, the Sindaco's wins over the Assessore's.
    sindaco0, assessore0 = team.users["sindaco:0"], team.users["assessore:0"]
    press = await sindaco0.press(vote_msg, "✅ Approva")
    assert (await press.answered()).text == "Voto registrato: Approva."
    press = await assessore0.press(vote_msg, "❌ Respingi")
    assert (await press.answered()).text == "Il Sindaco ha già votato per il tuo Comune."
    fake.add_member(team.political, team.users["tecnico:0"])  # a technician in the wrong group
    press = await team.users["tecnico:0"].press(vote_msg, "❌ Respingi")
    assert "Votano il Sindaco" in ((await press.answered()).text or "")
    press = await team.users["assessore:1"].press(vote_msg, "⏸ Rinvia")
    assert (await press.answered()).text == "Voto registrato: Rinvia."
    press = await sindaco0.press(vote_msg, "🔒 Chiudi la votazione (chi coordina)")
    assert "Solo chi coordina l'Unione" in ((await press.answered()).text or "")
    await bot.settle()
    await bot.run_jobs()  # the coalesced edit, due in two seconds
    edited = fake.sent_to(team.political)[1]
    assert "✅ Comune 00: Approva (Sindaco 00)" in (edited.text or "")
    assert "⏸ Comune 01: Rinvia (Assessore 01)" in (edited.text or "")
    assert "▫️ Comune 02" in (edited.text or "")
    edits = [
        c
        for c in fake.calls_of("editMessageText")
        if c.params.get("message_id") == edited.message_id
    ]
    assert len(edits) == 1  # two votes, one edit

    press = await team.coordinator.press(edited, "🔒 Chiudi la votazione (chi coordina)")
    assert (await press.answered()).text == "Scegli l'esito."
    await bot.settle()
    closing = fake.sent_to(team.political)[1]
    press = await team.coordinator.press(closing, "✅ Approvata")
    assert (await press.answered()).text == "Esito registrato e inviato al tavolo tecnico."
    await bot.settle()
    to_technical = fake.last_sent(team.technical).text or ""
    assert "Decisione del tavolo politico" in to_technical
    assert "Esito: Approvata" in to_technical
    assert "Comune 00: Approva, Comune 01: Rinvia" in to_technical
    told = fake.last_sent(team.users["tecnico:1"]).text or ""
    assert "✅ Il tavolo politico ha approvato la questione che hai posto: «" in told
    assert "Esito: Approvata" in (fake.sent_to(team.political)[1].text or "")
    press = await team.users["sindaco:2"].press_forged(closing, vote_data)  # an old keyboard
    assert (await press.answered()).text == "La votazione è chiusa."

    # On demand: the same picture, and the baseline does not move.
    await sindaco0.send("/riepilogo", chat=team.political)
    await bot.settle()
    on_demand = fake.sent_to(team.political)[-3].text or ""  # then its two pictures
    assert "Riepilogo di dicembre 2026 (su richiesta)" in on_demand
    assert "📌 Decisioni da attuare" in on_demand
    async with bot.db.transaction() as session:
        summaries = list((await session.execute(select(Summary))).scalars())
        assert [(s.period, s.kind) for s in summaries] == [("2026-12", SummaryKind.SCHEDULED)]
        decision = (await session.execute(select(Decision))).scalar_one()
        assert decision.status == DecisionStatus.APPROVED
        assert decision.outcome_text == "Voti: Comune 00: Approva, Comune 01: Rinvia"

    # The spreadsheet button under the summary sends the file privately to whoever asks.
    press = await sindaco0.press(posted[0], "📤 Foglio di calcolo")
    assert (await press.answered()).text == "Preparo il file…"
    await bot.settle()
    sheet = fake.last_sent(sindaco0).document
    assert sheet is not None and (sheet.file_name or "").endswith(".xlsx")
    outsider = fake.add_user("Estraneo")
    fake.add_member(team.political, outsider)
    press = await outsider.press(posted[0], "📤 Foglio di calcolo")
    assert "Riservato ai membri" in ((await press.answered()).text or "")

    # Carried out: the coordinator marks it done and it leaves the summaries.
    done_on = next(m for m in fake.sent_to(team.technical) if "cappotto" in (m.text or ""))
    press = await team.users["tecnico:1"].press(done_on, "✔️ Segna come attuata")
    assert "Solo chi coordina l'Unione" in ((await press.answered()).text or "")
    press = await team.coordinator.press(done_on, "✔️ Segna come attuata")
    assert (await press.answered()).text == (
        "Segnata come attuata: non comparirà più nei riepiloghi."
    )
    await bot.settle()
    assert "Esito: Attuata" in (fake.sent_to(team.political)[1].text or "")
    # The technical group's announcement stays an announcement, now carried out: it is not
    # redrawn as the political table's voting card.
    announced = done_on  # edited in place
    assert (announced.text or "").startswith("📣 Decisione del tavolo politico")
    assert "Esito: Approvata" in (announced.text or "") and "✔️ Attuata" in (announced.text or "")
    assert "Questione per il tavolo politico" not in (announced.text or "")
    assert not announced.buttons
    await sindaco0.send("/riepilogo", chat=team.political)
    await bot.settle()
    assert "Nessuna questione aperta" in (fake.sent_to(team.political)[-3].text or "")

    # /decisione from the coordinator in the political group goes to the technical group.
    await team.coordinator.send(
        "/decisione Si parte con il bando per le scuole", chat=team.political
    )
    await bot.settle()
    assert "Si parte con il bando per le scuole" in (fake.last_sent(team.technical).text or "")
    assert "inviata al gruppo del tavolo tecnico" in (fake.last_sent(team.political).text or "")


async def test_the_text_goes_out_first_and_the_pictures_survive_a_stop(
    any_bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary's text is queued and sent before its pictures are drawn; if the process
    stops while drawing (here: drawing fails), the text is out, and the next tick, after a
    restart, draws and sends the pictures, once."""
    bot = any_bot
    fake = bot.fake
    team = await seed(bot, comuni=3)
    round_id = await open_round(bot, team, period="2026-12", hours=1)
    await report_update(
        bot,
        team,
        comune=0,
        action=0,
        status=ActionStatus.COMPLETED,
        progress=100,
        round_id=round_id,
    )

    async def stopped(*_args: object, **_kwargs: object) -> list[object]:
        raise RuntimeError("the process stopped while drawing")

    monkeypatch.setattr(summaries, "summary_pictures", stopped)
    bot.clock.advance(hours=2)
    await bot.tick()
    await bot.settle()
    posted = fake.sent_to(team.political)
    assert [m.photo is None for m in posted] == [True]  # the text alone
    assert (posted[0].text or "").startswith("📊 Team energia · Unione Reno Galliera")

    monkeypatch.undo()
    await bot.restart()
    await bot.advance(minutes=5)
    posted = fake.sent_to(team.political)
    assert [m.caption for m in posted[1:]] == PICTURE_CAPTIONS
    assert all(m.photo is not None and m.photo[:4] == b"\x89PNG" for m in posted[1:])
    await bot.advance(minutes=5)
    assert len(fake.sent_to(team.political)) == 3  # the text once, the pictures once


async def test_twenty_comuni_summary_splits_cleanly(bot: BotUnderTest) -> None:
    fake = bot.fake
    team = await seed(bot, comuni=20, actions_per_comune=30)
    round_id = await open_round(bot, team, period="2026-12", hours=1)
    for c in range(20):
        for a in range(0, 30, 2):
            await report_update(
                bot,
                team,
                comune=c,
                action=c * 30 + a,
                status=ActionStatus.ONGOING,
                progress=40 + a,
                round_id=round_id,
                note=f"Lavori avviati nel plesso {a}: consegna prevista entro marzo, ditta <Rossi & C.>",
            )
    bot.clock.advance(hours=2)
    started = time.perf_counter()
    await bot.tick()
    elapsed = time.perf_counter() - started
    posted = fake.sent_to(team.political)
    texts = [m for m in posted if m.text is not None]
    photos = [m for m in posted if m.photo is not None]
    assert len(photos) == 3 and all(len(p.photo or b"") < 1_000_000 for p in photos)
    # 300 changed actions, one line per Comune (issue 16): the spreadsheet has the rest.
    assert len(texts) == 1
    joined = texts[0].text or ""
    assert "Il dettaglio di ogni azione e le note sono nel foglio di calcolo" in joined
    for c in range(20):
        assert f"\nComune {c:02d} · 30 azioni · 15 aggiornate\n" in joined
    assert "Rossi" not in joined  # the notes are in the spreadsheet
    print(
        f"\n20 Comuni × 30 actions: {len(texts)} text messages + 3 pictures, tick {elapsed:.2f} s"
    )


async def test_announcement_to_120_with_7_unreachable(bot: BotUnderTest) -> None:
    fake = bot.fake
    team = await seed(bot, comuni=40, actions_per_comune=0)
    never_started = [team.users[f"tecnico:{i}"] for i in range(0, 35, 5)]
    for user in never_started:
        user.has_started = False
    coordinator = team.coordinator
    await coordinator.send("/annuncio Giovedì la riunione si tiene in <Sala> consiliare")
    await bot.settle()
    menu = fake.last_sent(coordinator)
    assert menu.button_texts[:1] == ["👥 Tutti"]
    everyone = menu.buttons[0][0][1]
    assert everyone is not None
    press = await coordinator.press(menu, "👥 Tutti")
    assert (await press.answered()).text == "In invio."
    await fake.wait_for(
        lambda: any("consegnato a" in (m.text or "") for m in fake.sent_to(coordinator)),
        timeout=60,
    )
    press = await coordinator.press_forged(menu, everyone)  # a second press sends nothing more
    assert (await press.answered()).text == "Questo avviso è già stato inviato."
    await bot.tick()
    await bot.restart()
    await bot.tick()
    received = {
        key: [m for m in fake.sent_to(user) if "Avviso dal coordinamento" in (m.text or "")]
        for key, user in team.users.items()
    }
    assert all(
        len(msgs) == 1 for key, msgs in received.items() if team.users[key] not in never_started
    )
    assert all(received[k] == [] for k, u in team.users.items() if u in never_started)
    assert "Giovedì la riunione si tiene in <Sala> consiliare" in received["sindaco:0"][0].text  # type: ignore[operator]
    reports = [m.text or "" for m in fake.sent_to(coordinator) if "consegnato a" in (m.text or "")]
    assert len(reports) == 1
    assert reports[0].startswith("📬 Avviso consegnato a 113 di 120.")
    listed = reports[0].split("Non raggiungibili: ")[1].split(".\n")[0].split(", ")
    assert sorted(listed) == sorted(u.full_name for u in never_started)


async def test_export_opens_and_agrees_with_the_database(bot: BotUnderTest) -> None:
    fake = bot.fake
    team = await seed(bot, comuni=2)
    round_id = await open_round(bot, team, period="2026-12", hours=1)
    await report_update(
        bot,
        team,
        comune=1,
        action=3,
        status=ActionStatus.POSTPONED,
        progress=35,
        round_id=round_id,
        note="Bando deserto",
    )
    sindaco = team.users["sindaco:0"]
    await team.users["tecnico:0"].send("/esporta")
    await bot.settle()
    assert "riservata a chi coordina l'Unione e ai Sindaci" in (
        fake.last_sent(team.users["tecnico:0"]).text or ""
    )
    await sindaco.send("/esporta")
    await bot.settle()
    menu = fake.last_sent(sindaco)
    press = await sindaco.press(menu, "📤 Excel")
    assert (await press.answered()).text == "Preparo il file…"
    await bot.settle()
    document = fake.last_sent(sindaco).document
    assert document is not None and (document.file_name or "").endswith(".xlsx")
    book = load_workbook(io.BytesIO(document.content))
    assert book.sheetnames == [
        "Azioni",
        "Storico aggiornamenti",
        "Note dal gruppo tecnico",
        "Riunioni",
        "Presenze per Comune",
    ]
    rows = list(book["Azioni"].iter_rows(values_only=True))
    async with bot.db.transaction() as session:
        data = await repo.export_data(session, team.union_id)
    assert data is not None
    assert len(rows) - 1 == len(data.actions)
    for row, (action, comune) in zip(rows[1:], data.actions, strict=True):
        assert row[0] == action.code and row[1] == action.title and row[3] == comune
        assert row[8] == action.progress
    postponed = next(r for r in rows[1:] if r[0] == "C01.1")
    assert postponed[7] == "Rinviata" and postponed[8] == 35
    history = list(book["Storico aggiornamenti"].iter_rows(values_only=True))
    assert history[1][1:7] == ("C01.1", "In corso", "Rinviata", 20, 35, "Bando deserto")
    press = await sindaco.press(menu, "📤 CSV")
    await press.answered()
    await bot.settle()
    csv_doc = fake.last_sent(sindaco).document
    assert csv_doc is not None and csv_doc.content.startswith(b"\xef\xbb\xbf")
    assert b"C01.1;" in csv_doc.content


async def test_documents_and_settings(bot: BotUnderTest) -> None:
    fake = bot.fake
    team = await seed(bot, comuni=1)
    carla = team.coordinator
    await carla.send("/documenti")
    await bot.settle()
    press = await carla.press(fake.last_sent(carla), "➕ Aggiungi un link")
    await press.answered()
    await bot.settle()
    await carla.send("Cartella PAES ftp://example.org/x")
    await bot.settle()
    assert "Non trovo un indirizzo valido" in (fake.last_sent(carla).text or "")
    await carla.send("Cartella PAES https://drive.example.org/paes?x=1&y=<2>")
    await bot.settle()
    assert "Non trovo un indirizzo valido" in (fake.last_sent(carla).text or "")
    await carla.send("Cartella PAES https://drive.example.org/paes?x=1&y=2")
    await bot.settle()
    listing = fake.last_sent(carla)
    assert "Aggiunto: Cartella PAES" in (listing.text or "")
    await team.users["sindaco:0"].send("/documenti", chat=team.political)
    await bot.settle()
    assert "• Cartella PAES" in (fake.last_sent(team.political).text or "")
    assert fake.last_sent(team.political).button_texts == []
    press = await carla.press(listing, "🗑 Cartella PAES")
    assert (await press.answered()).text == "Link tolto."

    await team.users["sindaco:0"].send("/impostazioni")
    await bot.settle()
    assert "Solo chi coordina l'Unione" in (fake.last_sent(team.users["sindaco:0"]).text or "")
    await carla.send("/impostazioni")
    await bot.settle()
    menu = fake.last_sent(carla)
    press = await carla.press(menu, "🖊 Data di approvazione del PAES")
    await press.answered()
    await bot.settle()
    press = await carla.press(fake.last_sent(carla), "✏️ Scrivi la data")
    await press.answered()
    await bot.settle()
    await carla.send("30/02/2024")
    await bot.settle()
    assert "Non è una data valida" in (fake.last_sent(carla).text or "")
    # Approved 2 years minus 59 days ago: the 60-day warning for the first monitoring report.
    approved = (bot.clock.now() - timedelta(days=2 * 365 - 59)).date()
    await carla.send(approved.strftime("%d/%m/%Y"))
    await bot.settle()
    assert "Salvato." in (fake.last_sent(carla).text or "")
    await bot.tick()
    await bot.tick()
    warnings = [m for m in fake.sent_to(team.political) if "Patto dei Sindaci" in (m.text or "")]
    assert len(warnings) == 1
    assert "relazione di monitoraggio biennale" in (warnings[0].text or "")

    await carla.send("/impostazioni")
    await bot.settle()
    press = await carla.press(fake.last_sent(carla), "📅 Riunioni")
    await press.answered()
    await bot.settle()
    view = fake.last_sent(carla)
    start_button = next(t for t in view.button_texts if t.startswith("Inizio: "))
    assert start_button == "Inizio: 17:00"
    row = next(r for r in view.buttons if any(t == start_button for t, _ in r))
    plus = row[2][1]
    assert plus is not None
    press = await carla.press(view, plus)
    assert (await press.answered()).text == "Salvato."
    await bot.settle()
    async with bot.db.transaction() as session:
        settings = await repo.meeting_settings(session, team.union_id)
        assert settings.slot_hour == 18


async def test_announcement_respects_flood_limits_with_the_rate_limiter(
    fake_telegram: FakeTelegram, clock: FakeClock, tmp_path: Path
) -> None:
    """With Telegram's limits enforced and PTB's AIORateLimiter on (as in production), 120
    private messages each arrive once; the few 429s that aiolimiter's initial burst can
    provoke against a strict sliding window are waited out, never answered by a blind resend."""
    fake_telegram.clock = clock
    fake_telegram.enforce_rate_limits = True
    harness = BotUnderTest(
        fake_telegram,
        clock,
        normalize_database_url(f"sqlite:///{tmp_path / 'bot.db'}"),
        rate_limiter=True,
    )
    await harness.start()
    try:
        fake = harness.fake
        team = await seed(harness, comuni=40, actions_per_comune=0)
        await team.coordinator.send("/annuncio Prova di consegna")
        await harness.settle()
        press = await team.coordinator.press(fake.last_sent(team.coordinator), "👥 Tutti")
        await press.answered()
        started = time.perf_counter()
        await fake.wait_for(
            lambda: any("consegnato a" in (m.text or "") for m in fake.sent_to(team.coordinator)),
            timeout=90,
        )
        elapsed = time.perf_counter() - started
        assert fake.count_429 <= 10
        for user in team.users.values():
            assert sum(1 for m in fake.sent_to(user) if "Prova di consegna" in (m.text or "")) == 1
        report = fake.last_sent(team.coordinator).text or ""
        assert report.startswith("📬 Avviso consegnato a 120 di 120.")
        print(
            f"\n120 announcements under the rate limiter: {elapsed:.1f} s, "
            f"{fake.count_429} answered 429 and retried"
        )
    finally:
        await harness.stop()


async def test_coordinator_of_two_unions_keeps_the_text_through_the_picker(
    bot: BotUnderTest,
) -> None:
    fake = bot.fake
    team = await seed(bot, comuni=1)
    now = bot.clock.now()
    async with bot.db.transaction() as session:
        other = Union(name="Unione Bassa Reggiana", timezone="Europe/Rome", created_at=now)
        session.add(other)
        await session.flush()
        person = (
            await session.execute(
                select(Person).where(Person.telegram_user_id == team.coordinator.id)
            )
        ).scalar_one()
        session.add(
            Member(
                union_id=other.id,
                person_id=person.id,
                role=Role.STAFF,
                status=MemberStatus.ACTIVE,
                is_coordinator=True,
                requested_at=now,
            )
        )
    carla = team.coordinator
    await carla.send("/annuncio Riunione spostata a venerdì")
    await bot.settle()
    picker = fake.last_sent(carla)
    assert "Fai parte di più Unioni" in (picker.text or "")
    await carla.send("testo a caso")
    await bot.settle()
    assert "Scegli prima l'Unione" in (fake.last_sent(carla).text or "")
    press = await carla.press(picker, "Unione Bassa Reggiana")
    await press.answered()
    await bot.settle()
    menu = fake.last_sent(carla).text or ""
    assert "Avviso · Unione Bassa Reggiana" in menu
    assert "Riunione spostata a venerdì" in menu


async def test_settings_hashtag_capture_and_update_rhythm(bot: BotUnderTest) -> None:
    fake = bot.fake
    team = await seed(bot, comuni=1)
    carla = team.coordinator
    await carla.send("/impostazioni", chat=team.political)
    await bot.settle()
    assert "in chat privata" in (fake.last_sent(team.political).text or "")
    await carla.send("/impostazioni")
    await bot.settle()
    press = await carla.press(fake.last_sent(carla), "#️⃣ #aggiornamento nel gruppo tecnico")
    await press.answered()
    await bot.settle()
    view = fake.last_sent(carla)
    assert "il bot è amministratore del gruppo" in (view.text or "")
    press = await carla.press(view, "⬜ Tavolo tecnico")
    assert (await press.answered()).text == "Salvato."
    await bot.settle()
    assert "✅ Tavolo tecnico" in fake.last_sent(carla).button_texts
    press = await carla.press(fake.last_sent(carla), "↩️ Indietro")
    await press.answered()
    await bot.settle()
    press = await carla.press(fake.last_sent(carla), "📝 Aggiornamenti")
    await press.answered()
    await bot.settle()
    view = fake.last_sent(carla)
    press = await carla.press(view, "✅ Aggiornamento mensile")
    assert (await press.answered()).text == "Salvato."
    await bot.settle()
    async with bot.db.transaction() as session:
        link = (
            await session.execute(
                select(LinkedChat).where(LinkedChat.table_kind == TableKind.TECHNICAL)
            )
        ).scalar_one()
        assert link.hashtag_capture is True
        assert (await repo.update_settings(session, team.union_id)).enabled is False
    # Someone else's forged press changes nothing.
    press = await team.users["sindaco:0"].press_forged(view, f"set:round:{team.union_id}:ue:toggle")
    assert "Solo chi coordina l'Unione" in ((await press.answered()).text or "")
