"""«📝 Proponi un punto» for a member the bot may not write to yet (never started it, or
blocked it): the press opens the private chat with a link, t.me/<bot>?start=ap-<meeting>,
whose «Avvia» opens the proposal's dialogue — checked as the button is — instead of a popup
that sends them off to find the chat (docs/GLOSSARY.md: «in privato», with a button that opens
it). On SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AgendaItem, AgendaStatus, Meeting
from tests.e2e.harness import BotUnderTest
from tests.e2e.test_agenda_story import _fix_meeting, _with
from tests.e2e.test_meetings_story import _team


async def test_a_member_the_bot_cannot_write_to_proposes_through_the_link(
    any_bot: BotUnderTest,
) -> None:
    bot, fake = any_bot, any_bot.fake
    team = await _team(bot)  # Cora never started the bot
    cora, tino = team.users["ac"], team.users["tec"]
    await _fix_meeting(bot, team)
    async with bot.db.transaction() as session:
        meeting_id = (await session.execute(select(Meeting.id))).scalar_one()
    announcement = _with(fake.sent_to(team.group), "📣")[-1]

    answer = await (await cora.press(announcement, "📝 Proponi un punto")).answered()
    assert answer.url == f"https://t.me/{fake.bot.username}?start=ap-{meeting_id}"
    assert not answer.show_alert

    await cora.send(f"/start ap-{meeting_id}")
    await bot.settle()
    assert "Scrivimi in un messaggio il punto che proponi" in (fake.last_sent(cora).text or "")
    await bot.restart()  # the dialogue is in the database
    await cora.send("Bando per le colonnine di ricarica")
    await bot.settle()
    assert fake.last_sent(cora).text == "Proposta inviata a chi coordina: ti dirò se la aggiunge."
    assert "«Bando per le colonnine di ricarica»" in (fake.last_sent(team.carla).text or "")

    # The link checks who opens it as the button does: the technician is not at this table.
    await tino.send(f"/start ap-{meeting_id}")
    await bot.settle()
    assert (fake.last_sent(tino).text or "").startswith(
        "Questa riunione è di un tavolo di cui non fai parte"
    )
    async with bot.db.transaction() as session:
        items = (
            await session.execute(
                select(AgendaItem.text).where(AgendaItem.status == AgendaStatus.PROPOSED)
            )
        ).all()
    assert items == [("Bando per le colonnine di ricarica",)]
    fake.write_transcript(".transcripts/test_agenda_link.txt")
