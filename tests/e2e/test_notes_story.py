"""What a technician writes in the technical group reaches the mayors.

Tina answers the round's announcement in the technical group; Ugo, technician of two Comuni,
writes #aggiornamento. The coordinator sees both notes in /aggiornamento stato, the mayors read
them in the month's summary under each Comune (short, escaped, clipped with «…»), the whole text
is in the spreadsheet; a mayor opening an action from /azioni reads its Comune's latest notes
on the card, and the CSV export brings them whole in a second file. After Tina's /cancellami
her notes stay under «ex membro».
Read `.transcripts/test_group_notes_reach_the_mayors.txt` as a mayor on a phone would.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import select

from storage.models import (
    Action,
    ActionStatus,
    MeetingSettings,
    Role,
    TableKind,
    UpdateNote,
)
from tests.e2e.harness import BotUnderTest
from tests.fakes.fake_world import FakeMessage, FakeUser
from tests.updates_factories import link_group, make_meeting, make_member, make_union

ROME = ZoneInfo("Europe/Rome")
LONG_NOTE = (
    "Il cantiere della palestra <Rodari> parte a gennaio & la ditta Rossi conferma i tempi; "
    "restano da firmare il verbale di consegna dei lavori, il piano di sicurezza e la variante "
    "per l'impianto fotovoltaico sul tetto, che il Comune deve approvare in giunta entro fine "
    "mese perché il contributo regionale scade il 31 gennaio e senza la variante si perde."
)


async def _press(bot: BotUnderTest, user: FakeUser, message: FakeMessage, button: str) -> str:
    press = await user.press(message, button)
    answer = await press.answered()
    await bot.settle()
    return answer.text or ""


async def _open_card(bot: BotUnderTest, user: FakeUser, code: str) -> str:
    """/azioni in private, then the action's button: the card as the member reads it."""
    await user.send("/azioni")
    await bot.settle()
    press = await user.press(bot.fake.last_sent(user), code)
    await press.answered()
    await bot.settle()
    return bot.fake.last_sent(user).text or ""


def _csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel in Italian opens it as is
    return list(csv.reader(io.StringIO(content[3:].decode("utf-8"), newline=""), delimiter=";"))


async def test_group_notes_reach_the_mayors(bot: BotUnderTest) -> None:
    fake, clock = bot.fake, bot.clock
    now = clock.now()
    carla = fake.add_user("Carla", "Coordinatrice")
    tina = fake.add_user("Tina", "Tecnica")
    ugo = fake.add_user("Ugo", "Bassi")
    sara = fake.add_user("Sara", "Sindaca")
    paolo = fake.add_user("Paolo", "Sindaco")
    fake.privacy_mode = False  # #aggiornamento needs the bot to read the group
    technical = fake.create_group("Tavolo tecnico Colline", carla, members=[tina, ugo])
    political = fake.create_group("Tavolo politico Colline", carla, members=[sara, paolo])
    await fake.add_bot_to_group(technical, by=carla)
    await fake.add_bot_to_group(political, by=carla)
    async with bot.db.transaction() as s:
        union, comuni = await make_union(
            s, "Unione Colline Matildiche", ["Canossa", "Vezzano sul Crostolo"], now=now
        )
        canossa, vezzano = comuni["Canossa"], comuni["Vezzano sul Crostolo"]
        s.add(MeetingSettings(union_id=union.id, auto_poll_enabled=False))
        for user, name, role, its_comuni in (
            (carla, "Carla", Role.STAFF, ()),
            (tina, "Tina Tecnica", Role.TECNICO, (canossa,)),
            (ugo, "Ugo Bassi", Role.TECNICO, (canossa, vezzano)),
            (sara, "Sara", Role.SINDACO, (vezzano,)),
            (paolo, "Paolo", Role.SINDACO, (canossa,)),
        ):
            await make_member(
                s,
                union,
                telegram_user_id=user.id,
                name=name,
                role=role,
                comuni=its_comuni,
                coordinator=user is carla,
                now=now,
            )
        await link_group(
            s, union, chat_id=technical.id, kind=TableKind.TECHNICAL, now=now, hashtag_capture=True
        )
        await link_group(s, union, chat_id=political.id, kind=TableKind.POLITICAL, now=now)
        for code, comune in (("CA-1", canossa), ("VE-1", vezzano)):
            s.add(
                Action(
                    union_id=union.id,
                    code=code,
                    title=f"Riqualificazione palestra {comune.name}",
                    municipality_id=comune.id,
                    status=ActionStatus.ONGOING,
                    progress=30,
                    created_at=now,
                    updated_at=now,
                )
            )
        await make_meeting(s, union, starts_at=datetime(2026, 12, 10, 17, 0, tzinfo=ROME), now=now)
    for user in (carla, tina, ugo, sara, paolo):
        await user.send("/start")
    await bot.settle()

    # --- the round opens: the technical group gets the announcement ---
    await bot.tick()
    announcement = fake.last_sent(technical)
    assert "Aggiornamento di dicembre 2026" in (announcement.text or "")

    # --- Tina answers in the group; Ugo writes #aggiornamento for his two Comuni ---
    await tina.send(LONG_NOTE, chat=technical, reply_to=announcement)
    await bot.settle()
    assert fake.last_sent(technical).text == (
        "📝 Nota registrata per Canossa: i Sindaci la leggeranno nel prossimo riepilogo. Grazie!"
    )
    clock.advance(hours=3)
    await ugo.send("#aggiornamento caldaie <a condensazione> consegnate", chat=technical)
    await bot.settle()
    assert fake.last_sent(technical).text == (
        "📝 Nota registrata per Canossa, Vezzano sul Crostolo: i Sindaci la leggeranno nel prossimo "
        "riepilogo. Grazie!"
    )

    # --- the coordinator follows the round: the notes are there, Ugo's once ---
    await carla.send("/aggiornamento stato")
    await bot.settle()
    status = fake.last_sent(carla).text or ""
    # A note counts as having reported, as in the mayors' summary.
    answered_part = status.split("✅ Hanno risposto (2):")[1].split("⏳ Non ancora (0):")[0]
    assert "• Tina Tecnica (Canossa) — nota nel gruppo tecnico" in answered_part
    assert "• Ugo Bassi (Canossa, Vezzano sul Crostolo) — nota nel gruppo tecnico" in answered_part
    notes_part = status.split("💬 2 note dal gruppo tecnico:")[1]
    assert "• Canossa: «Il cantiere della palestra <Rodari> parte a gennaio & la ditta" in (
        notes_part
    )
    assert "» — Tina Tecnica, mar 1 dic" in notes_part
    assert (
        "• Canossa, Vezzano sul Crostolo: «caldaie <a condensazione> consegnate» — Ugo Bassi"
        in notes_part
    )

    # --- a mayor opens an action: its card ends with the latest notes of its Comune ---
    card = await _open_card(bot, paolo, "CA-1")
    assert card.startswith("CA-1 — Riqualificazione palestra Canossa\nComune: Canossa\n")
    tina_row, ugo_row = card.split("\n\n💬 Ultime note dal gruppo tecnico per Canossa:\n")[1].split(
        "\n"
    )
    assert tina_row.startswith("• «Il cantiere della palestra <Rodari> parte a gennaio & la ditta")
    assert tina_row.endswith("…» — Tina Tecnica, mar 1 dic")  # clipped, with the marker
    assert len(tina_row.split("«")[1].split("»")[0]) <= 200
    assert ugo_row == "• «caldaie <a condensazione> consegnate» — Ugo Bassi, mar 1 dic"
    card = await _open_card(bot, sara, "VE-1")
    assert card.endswith(
        "\n\n💬 Ultime note dal gruppo tecnico per Vezzano sul Crostolo:\n"
        "• «caldaie <a condensazione> consegnate» — Ugo Bassi, mar 1 dic"
    )
    assert "Tina" not in card

    # --- the deadline passes: the mayors read the notes under each Comune ---
    clock.set(datetime(2026, 12, 8, 17, 5, tzinfo=ROME))
    await bot.tick()
    posted = fake.sent_to(political)
    summary = next(m.text or "" for m in posted if (m.text or "").startswith("📊"))
    # One line per Comune (issue 16): the notes are counted where they belong, their text is
    # in the spreadsheet below.
    rows = summary.split("\n")
    assert "Canossa · 1 azione · 💬 2 note" in rows
    assert "Vezzano sul Crostolo · 1 azione · 💬 1 nota" in rows
    assert "Tina" not in summary
    # Both wrote in the group during the round: nobody is listed as silent.
    assert "non ha ancora aggiornato" not in summary and "non hanno" not in summary
    assert "Il dettaglio di ogni azione e le note sono nel foglio di calcolo" in summary

    # --- the spreadsheet under the summary has every note, whole ---
    spreadsheet_holder = next(m for m in posted if "📤 Foglio di calcolo" in m.button_texts)
    assert await _press(bot, sara, spreadsheet_holder, "📤 Foglio di calcolo") == "Preparo il file…"
    document = fake.last_sent(sara).document
    assert document is not None
    rows = list(
        load_workbook(io.BytesIO(document.content))["Note dal gruppo tecnico"].iter_rows(
            values_only=True
        )
    )
    assert rows[0] == ("Data", "Comune", "Aggiornamento mensile", "Autore", "Origine", "Nota")
    assert rows[1][1:] == (
        "Canossa",
        "2026-12",
        "Tina Tecnica",
        "Risposta all'avviso dell'aggiornamento mensile",
        LONG_NOTE,
    )
    assert {r[1] for r in rows[2:]} == {"Canossa", "Vezzano sul Crostolo"}
    assert all(r[4] == "Messaggio con #aggiornamento" for r in rows[2:])

    # --- Tina leaves: her notes stay, under «ex membro» ---
    await tina.send("/cancellami")
    await bot.settle()
    assert await _press(bot, tina, fake.last_sent(tina), "del:confirm") == "Dati cancellati."
    await paolo.send("/riepilogo", chat=political)
    await bot.settle()
    on_demand = "\n".join(
        m.text or "" for m in fake.sent_to(political)[len(posted) :] if m.text is not None
    )
    assert "(su richiesta)" in on_demand
    async with bot.db.transaction() as s:
        notes = list((await s.execute(select(UpdateNote))).scalars())
    assert len(notes) == 3 and all("Tina" not in n.text for n in notes)
    # The scheduled summary is the baseline now: the on-demand one has no new note, and never
    # Tina's name; the coordinator's status reads «ex membro».
    assert "Tina" not in on_demand
    await carla.send("/aggiornamento stato")
    await bot.settle()
    status = fake.last_sent(carla).text or ""
    assert "» — ex membro, mar 1 dic" in status and "Tina" not in status
    card = await _open_card(bot, paolo, "CA-1")
    assert "\n• «Il cantiere della palestra <Rodari>" in card
    assert "…» — ex membro, mar 1 dic\n" in card and "Tina" not in card

    # --- the CSV export: the actions as before, the notes whole in a second file ---
    await paolo.send("/esporta")
    await bot.settle()
    before = len(fake.sent_to(paolo))
    assert await _press(bot, paolo, fake.last_sent(paolo), "📤 CSV") == "Preparo il file…"
    actions_file, notes_file = fake.sent_to(paolo)[before:]
    assert actions_file.document is not None and notes_file.document is not None
    assert actions_file.document.file_name == (
        "team-energia-unione-colline-matildiche-2026-12-08.csv"
    )
    assert actions_file.caption == "Azioni (colonne del monitoraggio del Patto dei Sindaci)."
    actions_rows = _csv_rows(actions_file.document.content)
    assert actions_rows[0][:4] == ["ID azione", "Titolo", "Settore", "Comune"]
    assert len(actions_rows[0]) == 13 and [r[0] for r in actions_rows[1:]] == ["CA-1", "VE-1"]
    assert notes_file.document.file_name == (
        "team-energia-unione-colline-matildiche-note-gruppo-tecnico-2026-12-08.csv"
    )
    assert (notes_file.caption or "").startswith(
        "Note dal gruppo tecnico con il testo completo, una per riga"
    )
    notes_rows = _csv_rows(notes_file.document.content)
    assert notes_rows[0] == ["Data", "Comune", "Aggiornamento mensile", "Autore", "Origine", "Nota"]
    assert notes_rows[1] == [
        "01/12/2026 09:00",
        "Canossa",
        "2026-12",
        "ex membro",
        "Risposta all'avviso dell'aggiornamento mensile",
        LONG_NOTE,  # whole
    ]
    assert [(r[1], r[3], r[5]) for r in notes_rows[2:]] == [
        ("Canossa", "Ugo Bassi", "#aggiornamento caldaie <a condensazione> consegnate"),
        (
            "Vezzano sul Crostolo",
            "Ugo Bassi",
            "#aggiornamento caldaie <a condensazione> consegnate",
        ),
    ]
