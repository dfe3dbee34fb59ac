"""A big month for a big Union, read on a phone.

Twenty Comuni with thirty actions each; in December nearly every action moved, two per Comune
were completed, half the technicians also wrote in the technical group, and one question waits
for the political table. The mayors get the summary in at most two messages (issue 16): first
the question to vote, with its vote message right under the text, then three lines of totals,
then one line per Comune; the pictures last; the spreadsheet has everything. A Sindaco asking
in private finds their own Comune first. Read
`.transcripts/test_a_big_month_fits_on_a_phone.txt` as a Sindaco would.
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
    assert len(private) == 1
    rows = (private[0].text or "").split("\n")
    assert "🗳 Da decidere: vota con i pulsanti nei messaggi qui sotto" in rows  # «tu»
    comuni_rows = [r for r in rows if "Comune " in r and " · " in r]
    # Their own Comune first, marked; then the others in order.
    assert (
        comuni_rows[0]
        == "📍 Comune 07 · 2/30 completate · 28 aggiornate · ✅ C07.0, C07.1 completate"
    )
    assert [r.split(" · ")[0] for r in comuni_rows[1:]] == [
        f"Comune {c:02d}" for c in range(COMUNI) if c != 7
    ]

    bot.clock.advance(hours=6, minutes=1)  # the round's deadline has just passed
    await bot.tick()
    posted = fake.sent_to(team.political)
    photos = [m for m in posted if m.photo is not None]
    votes = [m for m in posted if "Questione per il tavolo politico" in (m.text or "")]
    summary = [m for m in posted if m.text is not None and m not in votes]
    assert len(photos) == 3 and len(votes) == 1  # 2 pictures of 10 Comuni, the CO₂
    # The summary itself: at most two messages, the vote right under it, the pictures last.
    assert len(summary) <= 2
    assert posted.index(votes[0]) == len(summary)
    assert posted[len(summary) + 1 :] == photos
    texts = [m.text or "" for m in summary]
    joined = "\n".join(texts)
    assert texts[0].startswith(
        "📊 Team energia · Unione Reno Galliera\nRiepilogo di dicembre 2026\n\n"
        "🗳 Da decidere: votate con i pulsanti nei messaggi qui sotto\n"
        "1. Rinviare il bando per l'illuminazione a LED al 2027? (Comune 03, C03.29) "
        "— nessun voto finora\n\n📅 Prossima riunione"
    )
    assert "In sintesi\n600 azioni: ✅ 40 completate · 🔄 559 in corso · ⏸ 1 rinviata\n" in joined
    assert "Finora: 561 azioni aggiornate, 40 completate\n🌱 CO₂ evitata: " in joined
    for c in range(COMUNI):
        (line,) = [r for r in joined.split("\n") if r.startswith(f"Comune {c:02d} · ")]
        moved = 28 + (c == 3)
        expected = (
            f"Comune {c:02d} · 2/30 completate · {moved} aggiornate · "
            f"✅ C{c:02d}.0, C{c:02d}.1 completate"
        )
        if c % 2 == 0:
            expected += " · 💬 1 nota"
        assert line == expected
    assert "Rinviate 0" not in joined and " 0 " not in joined
    assert summary[-1].text is not None and "foglio di calcolo" in summary[-1].text
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
