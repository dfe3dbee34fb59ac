"""The minutes, end to end (issue 19), on SQLite and PostgreSQL: the meeting ends, the tick
drafts its minutes to the coordinator in private; she corrects who was present, the items'
outcomes and the notes — with a restart in the middle —, approves; the .odt and the .pdf go to the
political group once, are read back and their first page rendered for a reviewer; /verbali
sends them again to a member, while another Union's coordinator sees nothing.

The meeting's agenda, check-ins, guests and tasks are made with the models directly (the agenda
and attendance parts write them through the bot)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pypdfium2
from odf import opendocument, table, teletype, text
from pypdf import PdfReader
from sqlalchemy import func, select

from storage.models import (
    AgendaItem,
    AgendaSource,
    AgendaStatus,
    Attendance,
    AttendanceMode,
    Decision,
    DecisionStatus,
    MeetingGuest,
    MeetingTask,
    Minutes,
    MinutesStatus,
    PollTable,
    Role,
    TableKind,
    TaskStatus,
)
from tests.e2e.harness import BotUnderTest
from tests.factories import make_meeting
from tests.fakes.fake_world import FakeChat, FakeMessage, FakeUser
from tests.meetings_factories import add_member, link_group, make_union

OUT = Path(__file__).resolve().parents[2] / ".transcripts" / "minutes"


@dataclass
class Story:
    group: FakeChat
    carla: FakeUser  # coordinator
    sara: FakeUser  # Sindaca of Argelato, checked in online
    bruno: FakeUser  # Sindaco of Bentivoglio, forgot to check in
    aldo: FakeUser  # Assessore of Argelato, absent
    olga: FakeUser  # another Union's coordinator
    meeting_id: int
    item_ids: list[int]


async def _story(bot: BotUnderTest) -> Story:
    fake = bot.fake
    carla = fake.add_user("Carla", "Coordinatrice")
    sara = fake.add_user("Sara", "Sindaca")
    bruno = fake.add_user("Bruno", "Sindaco")
    aldo = fake.add_user("Aldo", "Assessore")
    olga = fake.add_user("Olga", "Altrove")
    for user in (carla, sara, bruno, aldo, olga):
        user.has_started = True
    group = fake.create_group("Tavolo politico Reno", carla, members=[sara, bruno, aldo])
    fake.set_bot_admin(group, can_pin=False)
    now = bot.clock.now()
    async with bot.db.transaction() as session:
        team = await make_union(
            session, name="Unione Reno Galliera", comuni=["Argelato", "Bentivoglio"], now=now
        )
        await add_member(
            session,
            team,
            key="Carla Coordinatrice",
            role=Role.STAFF,
            coordinator=True,
            telegram_user_id=carla.id,
            now=now,
        )
        members = {}
        for key, user, role, comune in (
            ("Sara Sindaca", sara, Role.SINDACO, 0),
            ("Bruno Sindaco", bruno, Role.SINDACO, 1),
            ("Aldo Assessore", aldo, Role.ASSESSORE, 0),
        ):
            members[key] = await add_member(
                session,
                team,
                key=key,
                role=role,
                comuni=[comune],
                telegram_user_id=user.id,
                now=now,
            )
        await link_group(
            session, team, table=TableKind.POLITICAL, chat_id=group.id, now=now, title=group.title
        )
        other = await make_union(session, name="Unione Bassa", comuni=["Altrove"], now=now)
        await add_member(
            session,
            other,
            key="Olga Altrove",
            role=Role.STAFF,
            coordinator=True,
            telegram_user_id=olga.id,
            now=now,
        )
        meeting = await make_meeting(
            session,
            team,
            starts_at=now + timedelta(hours=8),
            table=PollTable.POLITICAL,
            title="Riunione di dicembre",
            now=now,
        )
        meeting.place = "Sala consiliare di Argelato"
        items = []
        for position, words, status in (
            (1, "Bando per il fotovoltaico sulle scuole", AgendaStatus.ACCEPTED),
            (2, "Illuminazione pubblica a LED", AgendaStatus.ACCEPTED),
            (3, "Una proposta non accolta", AgendaStatus.DECLINED),
        ):
            item = AgendaItem(
                meeting_id=meeting.id,
                position=position,
                source=AgendaSource.COORDINATOR,
                text=words,
                status=status,
                created_at=now,
            )
            session.add(item)
            items.append(item)
        # A question waiting in the register since a technician's update: on the agenda.
        question = Decision(
            union_id=team.union.id,
            question="Aderire al Patto dei Sindaci 2030?",
            status=DecisionStatus.OPEN,
            created_at=now - timedelta(days=20),
        )
        session.add(question)
        await session.flush()
        asked = AgendaItem(
            meeting_id=meeting.id,
            position=4,
            source=AgendaSource.QUESTION,
            text=question.question,
            status=AgendaStatus.ACCEPTED,
            decision_id=question.id,
            created_at=now,
        )
        session.add(asked)
        items.append(asked)
        session.add(
            Attendance(
                meeting_id=meeting.id,
                member_id=members["Sara Sindaca"].id,
                mode=AttendanceMode.ONLINE,
                recorded_by_member_id=members["Sara Sindaca"].id,
                recorded_at=now,
            )
        )
        session.add(
            MeetingGuest(
                meeting_id=meeting.id,
                name="Elena Galli",
                organisation="Agenzia per l’energia",
                mode=AttendanceMode.IN_PERSON,
                created_at=now,
            )
        )
        session.add(
            MeetingTask(
                union_id=team.union.id,
                meeting_id=meeting.id,
                assignee_member_id=members["Bruno Sindaco"].id,
                text="Chiedere il preventivo per i LED",
                due_on=(now + timedelta(days=30)).date(),
                status=TaskStatus.OPEN,
                created_at=now,
            )
        )
        await session.flush()
        meeting_id, item_ids = meeting.id, [i.id for i in items]
    return Story(group, carla, sara, bruno, aldo, olga, meeting_id, item_ids)


async def _press(bot: BotUnderTest, user: FakeUser, message: FakeMessage, button: str) -> str:
    press = await user.press(message, button)
    answer = await press.answered()
    await bot.settle()
    return answer.text or ""


def _button(message: FakeMessage, starts: str) -> str:
    return next(t for t in message.button_texts if t.startswith(starts))


def _odt(data: bytes) -> tuple[str, dict[str, list[list[str]]]]:
    doc = opendocument.load(io.BytesIO(data))
    paragraphs = (*doc.getElementsByType(text.H), *doc.getElementsByType(text.P))
    body = "\n".join(teletype.extractText(p) for p in paragraphs)
    tables = {}
    for t in doc.getElementsByType(table.Table):
        tables[t.getAttribute("name")] = [
            [
                "\n".join(teletype.extractText(p) for p in cell.getElementsByType(text.P))
                for cell in row.getElementsByType(table.TableCell)
            ]
            for row in t.getElementsByType(table.TableRow)
        ]
    return body, tables


def _backend(bot: BotUnderTest) -> str:
    return "sqlite" if bot.db.is_sqlite else "postgres"


async def _count(bot: BotUnderTest, model: type, *where: object) -> int:
    async with bot.db.transaction() as session:
        found = await session.execute(select(func.count()).select_from(model).where(*where))  # type: ignore[arg-type]
        return int(found.scalar_one())


async def test_minutes_drafted_corrected_approved_posted_and_filed(any_bot: BotUnderTest) -> None:
    bot = any_bot
    story = await _story(bot)
    carla = story.carla

    # Before the end of the meeting nothing; after it, the draft in private.
    await bot.advance(hours=9)
    assert not [m for m in bot.fake.sent_to(carla) if "Bozza di verbale" in (m.text or "")]
    await bot.advance(hours=2)
    draft = bot.fake.last_sent(carla)
    assert "Bozza di verbale" in (draft.text or "")
    assert "Sara Sindaca (Sindaco, online)" in (draft.text or "")
    assert "Una proposta non accolta" not in (draft.text or "")
    # She ran the meeting without checking in: the draft tells her before she approves it.
    assert "Tu risulti assente: se c'eri, segnati presente in «👥 Presenze»." in (draft.text or "")
    await bot.tick()  # the next tick drafts nothing more
    assert len([m for m in bot.fake.sent_to(carla) if "Bozza di verbale" in (m.text or "")]) == 1

    # The coordinator opens the draft again from /verbali (its message may be long gone).
    await carla.send("/verbali")
    await bot.settle()
    listing = bot.fake.last_sent(carla)
    assert "Non ci sono ancora verbali approvati per Unione Reno Galliera" in (listing.text or "")
    await _press(bot, carla, listing, _button(listing, "✏️ Bozza · mar 1 dic 2026"))
    draft = bot.fake.last_sent(carla)  # the list, now the draft: corrected from here on
    assert "Bozza di verbale" in (draft.text or "")

    # Presence: Bruno came but did not check in.
    await _press(bot, carla, draft, "👥 Presenze")
    screen = bot.fake.last_sent(carla)
    assert "Presenti: 1 su 4." in (screen.text or "")
    assert await _press(bot, carla, screen, _button(screen, "▫️ Bruno Sindaco")) == ""
    screen = bot.fake.last_sent(carla)
    assert "Presenti: 2 su 4." in (screen.text or "")
    assert any(t.startswith("✅ Bruno Sindaco") for t in screen.button_texts)
    # The roster's own cycle, so the two screens agree: in presenza → online → assente → …
    for tapped, now, present in (("✅", "💻", 2), ("💻", "▫️", 1), ("▫️", "✅", 2)):
        await _press(bot, carla, screen, _button(screen, f"{tapped} Bruno Sindaco"))
        screen = bot.fake.last_sent(carla)
        assert f"Presenti: {present} su 4." in (screen.text or "")
        assert any(t.startswith(f"{now} Bruno Sindaco") for t in screen.button_texts)

    await bot.restart()  # a restart in the middle of the corrections

    await _press(bot, carla, screen, "⬅️ Indietro")
    main = bot.fake.last_sent(carla)
    await _press(bot, carla, main, "📋 Esiti dei punti")
    items = bot.fake.last_sent(carla)
    await _press(bot, carla, items, _button(items, "▫️ 1."))  # → Decisa
    items = bot.fake.last_sent(carla)
    await _press(bot, carla, items, _button(items, "▫️ 2."))  # → Decisa
    items = bot.fake.last_sent(carla)
    await _press(bot, carla, items, _button(items, "✅ 2."))  # → Rinviata
    items = bot.fake.last_sent(carla)
    assert "Bando per il fotovoltaico sulle scuole — <i>Decisa</i>" in (items.raw_text or "")
    assert "Illuminazione pubblica a LED — <i>Rinviata</i>" in (items.raw_text or "")

    # What was decided, in her words: the register records them, not the item's title.
    assert [t for t in items.button_texts if t.startswith("✏️")] == ["✏️ 1", "✏️ 2"]
    await _press(bot, carla, items, "✏️ 1")
    assert (bot.fake.last_sent(carla).text or "").startswith(
        "Scrivimi ora che cosa si è deciso sul punto 1, «Bando per il fotovoltaico sulle scuole»."
    )
    await bot.restart()  # the dialogue is stored
    await carla.send("x" * 1001)
    await bot.settle()
    assert (bot.fake.last_sent(carla).text or "").startswith("Il testo è troppo lungo")
    # A photo is not the words: asked again, nothing cleared.
    await carla.send_photo(b"\xff\xd8 foto")
    await bot.settle()
    assert (bot.fake.last_sent(carla).text or "").startswith("Scrivimi il testo in un messaggio")
    await carla.send("Approvato il bando: 120.000 € per tre scuole, uscita a febbraio.")
    await bot.settle()
    items = bot.fake.last_sent(carla)
    assert "✏️ Approvato il bando: 120.000 € per tre scuole" in (items.text or "")
    await _press(bot, carla, items, "✏️ 2")
    assert "l'esito del punto 2, «Illuminazione pubblica a LED»" in (
        bot.fake.last_sent(carla).text or ""
    )
    await carla.send("Rinviata a gennaio: manca il preventivo.")
    await bot.settle()
    items = bot.fake.last_sent(carla)
    assert "✏️ Rinviata a gennaio: manca il preventivo." in (items.text or "")

    # The question waiting for the political table: approved or rejected, not «Decisa».
    assert "3. 🗳 Aderire al Patto dei Sindaci 2030? — <i>da indicare</i>" in (items.raw_text or "")
    assert "Quando approvi il verbale registro l'esito" in (items.text or "")
    await _press(bot, carla, items, _button(items, "▫️ 3."))  # → Approvata
    items = bot.fake.last_sent(carla)
    assert "Patto dei Sindaci 2030? — <i>Approvata</i>" in (items.raw_text or "")
    await _press(bot, carla, items, _button(items, "✅ 3."))  # → Respinta
    items = bot.fake.last_sent(carla)
    assert "Patto dei Sindaci 2030? — <i>Respinta</i>" in (items.raw_text or "")
    assert _button(items, "❌ 3.")

    # The notes, typed.
    await _press(bot, carla, items, "⬅️ Indietro")
    await _press(bot, carla, bot.fake.last_sent(carla), "📝 Note")
    assert "Scrivimi ora le note del verbale" in (bot.fake.last_sent(carla).text or "")
    await bot.restart()  # the dialogue is stored: what she types next is still the notes
    await carla.send("La prossima riunione sarà a Bentivoglio — sala «Verdi».")
    await bot.settle()
    main = bot.fake.last_sent(carla)
    assert "sala «Verdi»" in (main.text or "")

    # Who may not: a member who does not coordinate, another Union's coordinator, a group.
    forged = await story.sara.press_forged(
        bot.fake.last_sent(story.sara) if bot.fake.sent_to(story.sara) else main,
        f"min:ok:{story.meeting_id}",
    )
    assert (await forged.answered()).text.startswith("Solo chi coordina l'Unione")
    forged = await story.olga.press_forged(main, f"min:v:{story.meeting_id}:m")
    assert (await forged.answered()).text.startswith("Questo verbale non c'è più")
    await bot.settle()
    assert await _count(bot, Minutes, Minutes.status == MinutesStatus.DRAFT) == 1

    # Approval: numbered, frozen, posted once.
    await _press(bot, carla, main, "✅ Approva")
    question = bot.fake.last_sent(carla)
    assert "non si può più correggere" in (question.text or "")
    # What the register will say, before it is said.
    assert (
        "Le decisioni, come le riporta il verbale:\n"
        "• 1. Approvato il bando: 120.000 € per tre scuole, uscita a febbraio.\n"
        "• 3. Respinta: Aderire al Patto dei Sindaci 2030?\n\n"
        "🗳 Segno nel registro l'esito della questione del punto 3 e lo comunico al tavolo "
        "tecnico e a chi l'ha posta."
    ) in (question.text or "")
    await _press(bot, carla, question, "✅ Sì, approva e pubblica")
    # The approval's answer, then the closed question's announcement (below).
    assert any("Verbale n. 1/2026 approvato" in (m.text or "") for m in bot.fake.sent_to(carla))
    documents = [m for m in bot.fake.sent_to(story.group) if m.document is not None]
    assert sorted(m.document.file_name or "" for m in documents if m.document) == [
        "verbale-2026-1.odt",
        "verbale-2026-1.pdf",
    ]
    assert all(
        (m.caption or "").startswith("Verbale n. 1/2026 — Tavolo politico") for m in documents
    )
    odt = next(
        m.document.content
        for m in documents
        if m.document and m.document.file_name.endswith(".odt")
    )  # type: ignore[union-attr]
    pdf = next(
        m.document.content
        for m in documents
        if m.document and m.document.file_name.endswith(".pdf")
    )  # type: ignore[union-attr]
    body, tables = _odt(odt)
    assert "Verbale n. 1/2026" in body
    assert "La prossima riunione sarà a Bentivoglio — sala «Verdi»." in body
    assert tables["Presenze"][1:] == [
        ["Argelato", "Sara Sindaca (Sindaco, online)", "Aldo Assessore (Assessore)"],
        ["Bentivoglio", "Bruno Sindaco (Sindaco)", "—"],
        ["Personale dell'Unione", "—", "Carla Coordinatrice (Personale dell'Unione)"],
    ]
    assert tables["Decisioni"] == [
        ["Punto", "Decisione"],
        ["1", "Approvato il bando: 120.000 € per tre scuole, uscita a febbraio."],
        ["3", "Respinta: Aderire al Patto dei Sindaci 2030?"],
    ]
    # Beside an outcome its words, unless the «Decisioni» table says them already.
    assert [row[2] for row in tables["OrdineDelGiorno"][1:]] == [
        "Decisa",
        "Rinviata\nRinviata a gennaio: manca il preventivo.",
        "Respinta",
    ]
    assert tables["Ospiti"][1] == ["Elena Galli", "Agenzia per l’energia", "in presenza"]
    assert tables["Compiti"][1][:2] == [
        "Bruno Sindaco (Sindaco)",
        "Chiedere il preventivo per i LED",
    ]
    extracted = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )
    assert "Bando per il fotovoltaico sulle scuole" in extracted
    assert "Agenzia per l’energia" in extracted
    OUT.mkdir(parents=True, exist_ok=True)
    rendered = pypdfium2.PdfDocument(pdf)
    try:
        rendered[0].render(scale=1.5).to_pil().save(OUT / f"story-{_backend(bot)}-page1.png")
    finally:
        rendered.close()
    # The decision is in the register; the declined proposal is not in the minutes.
    assert (
        await _count(
            bot,
            Decision,
            Decision.question == "Bando per il fotovoltaico sulle scuole",
            Decision.outcome_text
            == "Approvato il bando: 120.000 € per tre scuole, uscita a febbraio.",
        )
        == 1
    )
    # The question is closed as the meeting decided: no longer waiting for the mayors, and
    # the technical table (no group linked: the coordinator) is told.
    assert await _count(bot, Decision, Decision.status == DecisionStatus.REJECTED) == 1
    told = [m.text or "" for m in bot.fake.sent_to(carla)]
    assert any("Aderire al Patto dei Sindaci 2030?" in t and "Esito: Respinta" in t for t in told)
    await bot.restart()
    await bot.tick()
    assert len([m for m in bot.fake.sent_to(story.group) if m.document is not None]) == 2

    # Approved: the draft's buttons say so.
    late = await carla.press_forged(main, f"min:n:{story.meeting_id}")  # an older copy's button
    assert (await late.answered()).text.startswith("Questo verbale è già stato approvato")

    # /verbali: a member gets the files again, in private.
    await story.aldo.send("/verbali")
    await bot.settle()
    listing = bot.fake.last_sent(story.aldo)
    assert "Verbali approvati — Unione Reno Galliera" in (listing.text or "")
    assert not [t for t in listing.button_texts if t.startswith("✏️")]  # drafts: coordinators
    await _press(bot, story.aldo, listing, listing.button_texts[0])
    got = [m for m in bot.fake.sent_to(story.aldo) if m.document is not None]
    assert sorted(m.document.file_name or "" for m in got if m.document) == [
        "verbale-2026-1.odt",
        "verbale-2026-1.pdf",
    ]
    # Another Union's coordinator: her own (empty) list; the button forged: nothing.
    await story.olga.send("/verbali")
    await bot.settle()
    assert "Non ci sono ancora verbali approvati per Unione Bassa" in (
        bot.fake.last_sent(story.olga).text or ""
    )
    forged = await story.olga.press_forged(listing, f"min:f:{story.meeting_id}")
    assert (await forged.answered()).text.startswith("Questo verbale non c'è più")
    await bot.settle()
    assert not [m for m in bot.fake.sent_to(story.olga) if m.document is not None]
    bot.fake.write_transcript(f".transcripts/minutes/test_minutes_story_{_backend(bot)}.txt")
