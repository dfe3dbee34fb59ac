"""A big month for a big Union, read on a phone.

Twenty Comuni with thirty actions each; in December nearly every action moved, two per Comune
were completed, half the technicians also wrote in the technical group, and one question waits
for the political table. The mayors get the summary in at most four messages plus the chart and
the vote: per Comune the completed actions first, then the largest moves, «… e altre K azioni
aggiornate», the group's latest note, and a pointer to the spreadsheet, which has everything.
Read `.transcripts/test_a_big_month_fits_on_a_phone.txt` as a Sindaco would.
"""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import update

from storage.models import ActionStatus, LinkedChat, TableKind
from tests.e2e.harness import BotUnderTest
from tests.e2e.test_summaries_story import open_round, report_update, seed

COMUNI, PER_COMUNE = 20, 30


async def test_a_big_month_fits_on_a_phone(bot: BotUnderTest) -> None:
    fake = bot.fake
    fake.privacy_mode = False  # the technicians' #aggiornamento reaches the bot
    team = await seed(bot, comuni=COMUNI, actions_per_comune=PER_COMUNE)
    async with bot.db.transaction() as session:
        await session.execute(
            update(LinkedChat)
            .where(LinkedChat.table_kind == TableKind.TECHNICAL)
            .values(hashtag_capture=True)
        )
    round_id = await open_round(bot, team, period="2026-12", hours=6)
    for c in range(COMUNI):
        for a in range(PER_COMUNE - 2):  # all but two actions moved
            action = c * PER_COMUNE + a
            if a < 2:
                await report_update(
                    bot,
                    team,
                    comune=c,
                    action=action,
                    status=ActionStatus.COMPLETED,
                    progress=100,
                    round_id=round_id,
                    note=f"Collaudo dell'azione {a} firmato <ok>",
                )
            else:
                await report_update(
                    bot,
                    team,
                    comune=c,
                    action=action,
                    status=ActionStatus.ONGOING,
                    progress=20 + a * 2,
                    round_id=round_id,
                    note="Lavori proseguiti come da cronoprogramma.",
                )
    await report_update(
        bot,
        team,
        comune=3,
        action=3 * PER_COMUNE + 29,
        status=ActionStatus.POSTPONED,
        progress=20,
        round_id=round_id,
        question="Rinviare il bando per l'illuminazione a LED al 2027?",
    )
    for c in range(0, COMUNI, 2):
        await team.users[f"tecnico:{c}"].send(
            f"#aggiornamento sopralluogo in Comune {c:02d} fatto con la ditta <Rossi & C.>",
            chat=team.technical,
        )
    await bot.settle()

    # Before the deadline a Sindaco asks in private: the same short form.
    sindaco = team.users["sindaco:7"]
    await sindaco.send("/riepilogo")
    await bot.settle()
    mine = [m for m in fake.sent_to(sindaco) if (m.text or "").startswith("📊")]
    assert len(mine) == 1
    private = [m for m in fake.sent_to(sindaco)[fake.sent_to(sindaco).index(mine[0]) :] if m.text]
    assert 1 < len(private) <= 4
    assert "… e altre" in "\n".join(m.text or "" for m in private)

    bot.clock.advance(hours=6, minutes=1)  # the round's deadline has just passed
    await bot.tick()
    posted = fake.sent_to(team.political)
    photos = [m for m in posted if m.photo is not None]
    votes = [m for m in posted if "Questione per il tavolo politico" in (m.text or "")]
    summary = [m for m in posted if m.text is not None and m not in votes]
    assert len(photos) == 1 and len(votes) == 1
    # The summary itself: at most four messages on the phone, then the chart, then the vote.
    assert 1 < len(summary) <= 4
    assert posted.index(photos[0]) == len(summary) and posted.index(votes[0]) == len(summary) + 1
    texts = [m.text or "" for m in summary]
    assert texts[0].startswith(
        "📊 Team energia · Unione Reno Galliera\nRiepilogo di dicembre 2026\nPrimo riepilogo"
    )
    assert (
        "ℹ️ Per ogni Comune le novità principali: il dettaglio completo è nel foglio di calcolo "
        "(pulsante «📤 Foglio di calcolo» in fondo al riepilogo, o /esporta)."
    ) in texts[0]
    assert "✅ Completate 40 · 🔄 In corso 559 · ⏸ Rinviate 1" in texts[0]
    joined = "\n".join(texts)
    for c in range(COMUNI):
        heading = f"Comune {c:02d} · 30 azioni"
        (holder,) = ["\n" + t for t in texts if heading in t]  # a Comune is never split
        section = holder.split("\n" + heading)[1].split("\n\n")[0]
        lines = section.split("\n")
        listed = [line for line in lines if line.startswith("• ")]
        # The two completed actions come first, then the largest moves.
        assert listed[0].startswith(f"• C{c:02d}.0 Azione 0 di Comune {c:02d}: In corso → ✅")
        assert listed[1].startswith(f"• C{c:02d}.1 Azione 1 di Comune {c:02d}: In corso → ✅")
        if c == 3:  # the action the mayors must decide on comes right after the completed
            assert listed[2] == (
                "• C03.29 Azione 29 di Comune 03: In corso → ⏸ Rinviata, 🗳 da decidere"
            )
        moved = 28 + (c == 3)
        assert f"… e altre {moved - len(listed)} azioni aggiornate" in section
        if c % 2 == 0:
            assert (
                f"💬 «sopralluogo in Comune {c:02d} fatto con la ditta <Rossi & C.>» — Tecnico {c:02d}"
                in section
            )
        else:
            assert "💬" not in section
    assert "1. Rinviare il bando per l'illuminazione a LED al 2027? (Comune 03, C03.29)" in joined
    assert summary[-1].button_texts == ["📤 Foglio di calcolo"]

    # The spreadsheet has every change the summary left out, and every note.
    press = await sindaco.press(summary[-1], "📤 Foglio di calcolo")
    assert (await press.answered()).text == "Preparo il file…"
    await bot.settle()
    document = fake.last_sent(sindaco).document
    assert document is not None
    book = load_workbook(io.BytesIO(document.content))
    history = list(book["Storico aggiornamenti"].iter_rows(values_only=True))[1:]
    assert len(history) == COMUNI * (PER_COMUNE - 2) + 1
    assert {r[1] for r in history if str(r[1]).startswith("C07.")} == {
        f"C07.{a}" for a in range(PER_COMUNE - 2)
    }
    notes = list(book["Note dal gruppo tecnico"].iter_rows(values_only=True))[1:]
    # Sent together, the notes are handled concurrently: their order among equals is free.
    assert sorted(r[1] for r in notes) == [f"Comune {c:02d}" for c in range(0, COMUNI, 2)]
