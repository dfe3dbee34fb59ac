"""A thematic workshop of the technical table, end to end through the real bot (issue 19): the
coordinator makes a meeting a workshop from its roster in private (reached days ahead from
/calendario), writes the theme in a dialogue that survives a restart, sends its materials
(documents kept by file id, across a restart); the roster and the group's attendance list show
them, a member of the technical table gets them in private with one button, «🗑» takes one off,
and it can be an ordinary meeting again; a meeting of the political table cannot be one.
"""

from __future__ import annotations

from datetime import timedelta

from bot.views.attendance import ATT_AREA, WORKSHOP
from storage.models import MeetingKind, MeetingRecord, PollTable, TableKind, Union
from tests.e2e.harness import BotUnderTest
from tests.e2e.test_meetings_story import _team
from tests.factories import link_group, make_meeting


async def _record(bot: BotUnderTest, meeting_id: int) -> tuple[MeetingKind, str | None] | None:
    async with bot.db.transaction() as session:
        row = await session.get(MeetingRecord, meeting_id)
        return None if row is None else (MeetingKind(row.kind), row.theme)


async def test_workshop_story(any_bot: BotUnderTest) -> None:
    bot, fake = any_bot, any_bot.fake
    team = await _team(bot, cass_started=True)
    carla, tino = team.carla, team.users["tec"]
    technical = fake.create_group("Tavolo tecnico Reno", carla, members=[tino])
    fake.set_bot_admin(technical)
    now = bot.clock.now()
    starts = now + timedelta(days=3)
    async with bot.db.transaction() as session:
        union = await session.get(Union, team.union_id)
        assert union is not None
        await link_group(
            session,
            union,
            table=TableKind.TECHNICAL,
            chat_id=technical.id,
            now=now,
            title=technical.title,
        )
        meeting = await make_meeting(
            session, union, starts_at=starts, now=now, table=PollTable.TECHNICAL, title="Workshop"
        )
        political = await make_meeting(
            session,
            union,
            starts_at=starts + timedelta(days=1),
            now=now,
            table=PollTable.POLITICAL,
            title="Riunione politica",
        )
        meeting_id, political_id = meeting.id, political.id

    # A meeting of the political table: no workshop button, and a forged press is refused.
    await carla.send(f"/start pr-{political_id}")
    await bot.settle()
    roster = fake.last_sent(carla)
    assert not [t for t in roster.button_texts if t.startswith("🎓")]
    alert = await (
        await carla.press_forged(roster, f"{ATT_AREA}:{WORKSHOP}:{political_id}")
    ).answered()
    assert alert.show_alert and (alert.text or "").startswith(
        "I workshop tematici sono del tavolo tecnico"
    )

    # Days ahead, /calendario in private gives the coordinator (only) each meeting's roster.
    await team.users["sa"].send("/calendario")
    await bot.settle()
    assert not [t for t in fake.last_sent(team.users["sa"]).button_texts if t.startswith("⚙️")]
    await carla.send("/calendario")
    await bot.settle()
    calendar = fake.last_sent(carla)
    manage = [t for t in calendar.button_texts if t.startswith("⚙️ Presenze e workshop — ")]
    assert len(manage) == 2
    await (await carla.press(calendar, manage[0])).answered()
    await bot.settle()
    roster = fake.last_sent(carla)
    assert (roster.text or "").startswith("📋 Presenze — Workshop")

    # The technical table's meeting becomes a workshop: the theme, a restart in between.
    await (await carla.press(roster, "🎓 Rendi workshop tematico")).answered()
    await bot.settle()
    assert (fake.last_sent(carla).text or "").startswith(
        "🎓 «Workshop» come workshop tematico del tavolo tecnico."
    )
    await carla.send("  ")
    await bot.settle()
    assert "Riscrivilo" in (fake.last_sent(carla).text or "")
    await bot.restart()
    await carla.send("Comunità energetiche rinnovabili")
    await bot.settle()
    shown = fake.last_sent(carla)
    text = shown.text or ""
    assert text.startswith("Fatto: è un workshop tematico su «Comunità energetiche rinnovabili».")
    assert "🎓 Workshop tematico: Comunità energetiche rinnovabili" in text
    assert ["🎓 Cambia il tema", "↩️ Non è un workshop"] in [
        [t for t, _d in row] for row in shown.buttons
    ]
    assert await _record(bot, meeting_id) == (
        MeetingKind.WORKSHOP,
        "Comunità energetiche rinnovabili",
    )

    # The materials: documents sent in the dialogue (a restart in between), then «✅ Fine».
    await (await carla.press(shown, "📎 Aggiungi materiali")).answered()
    await bot.settle()
    assert (fake.last_sent(carla).text or "").startswith("📎 Materiali del workshop «Workshop».")
    await carla.send("ecco le slide")
    await bot.settle()
    assert (fake.last_sent(carla).text or "").startswith("Qui aspetto i documenti del workshop")
    await carla.send_document("cer.pdf", b"%PDF-1.4 cer", "application/pdf")
    await bot.settle()
    assert (fake.last_sent(carla).text or "").startswith(
        "📎 Conservato: cer.pdf (1 documento in tutto)."
    )
    await bot.restart()
    await carla.send_document("slide.pptx", b"PK slide")
    await bot.settle()
    saved = fake.last_sent(carla)
    assert (saved.text or "").startswith("📎 Conservato: slide.pptx (2 documenti in tutto).")
    await (await carla.press(saved, "✅ Fine")).answered()
    await bot.settle()
    shown = fake.last_sent(carla)
    assert "📎 Materiali (2): cer.pdf, slide.pptx" in (shown.text or "")
    assert "🗑 cer.pdf" in shown.button_texts

    # Someone not at the technical table gets nothing.
    await team.users["sa"].send(f"/start pm-{meeting_id}")
    await bot.settle()
    assert (fake.last_sent(team.users["sa"]).text or "").startswith(
        "Questa riunione è del tavolo tecnico"
    )

    # Half an hour before, the technical group's list names the theme and offers the materials.
    await bot.tick()
    bot.clock.set(starts - timedelta(minutes=30))
    await bot.tick()
    await bot.tick()
    await bot.settle()
    (roll,) = [m for m in fake.sent_to(technical) if (m.text or "").startswith("📋 Presenze")]
    assert "🎓 Workshop tematico: Comunità energetiche rinnovabili" in (roll.text or "")
    assert "📎 Materiali (2): cer.pdf, slide.pptx" in (roll.text or "")
    tino.has_started = True
    toast = await (await tino.press(roll, "📎 Ricevi i materiali")).answered()
    assert toast.text == "Ti ho mandato i materiali in privato."
    await bot.settle()
    received = [m for m in fake.sent_to(tino) if m.document is not None]
    assert [(m.document.file_name, m.caption) for m in received if m.document] == [
        ("cer.pdf", "cer.pdf"),
        ("slide.pptx", "slide.pptx"),
    ]
    assert received[0].document and received[0].document.content == b"%PDF-1.4 cer"

    # «🗑» takes a document off; the list follows.
    toast = await (await carla.press(shown, "🗑 cer.pdf")).answered()
    assert toast.text == "Documento tolto dai materiali."
    await bot.settle()
    await bot.run_jobs()
    await bot.settle()
    assert "📎 Materiali (1): slide.pptx" in (roll.text or "")

    # An ordinary meeting again: the roster and the group's list follow.
    toast = await (await carla.press(shown, "↩️ Non è un workshop")).answered()
    assert toast.text == "Fatto: è di nuovo una riunione ordinaria."
    await bot.settle()
    await bot.run_jobs()
    await bot.settle()
    assert "🎓" not in (roll.text or "")
    assert "🎓 Rendi workshop tematico" in shown.button_texts
    assert await _record(bot, meeting_id) == (MeetingKind.MEETING, None)
    # Its materials are no longer given out, even from an older button.
    before = len([m for m in fake.sent_to(tino) if m.document is not None])
    refused = await (await tino.press_forged(roll, f"att:get:{meeting_id}")).answered()
    assert refused.text == "Per questo workshop non ci sono ancora materiali."
    await bot.settle()
    assert len([m for m in fake.sent_to(tino) if m.document is not None]) == before
    fake.write_transcript(".transcripts/test_workshop_story.txt")
