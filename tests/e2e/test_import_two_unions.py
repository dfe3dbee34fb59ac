"""A coordinator of two Unions sends a file, picks the Union, and gets the preview."""

from __future__ import annotations

from storage.models import Member, MemberStatus, Role
from tests.e2e.harness import BotUnderTest
from tests.updates_factories import make_member, make_union

CSV = (
    b"codice;titolo;settore;comune\n"
    b"A1;Illuminazione pubblica a LED;Illuminazione;Argelato\n"
    b"U1;Sportello energia;Informazione;Unione\n"
)


async def test_import_after_choosing_the_union(bot: BotUnderTest) -> None:
    fake = bot.fake
    carla = fake.add_user("Carla", "Coordinatrice")
    now = bot.clock.now()
    async with bot.db.transaction() as session:
        first, _ = await make_union(session, "Unione Reno Galliera", ["Argelato"], now=now)
        second, _ = await make_union(session, "Unione Terred'Acqua", ["Anzola"], now=now)
        member = await make_member(
            session,
            first,
            telegram_user_id=carla.id,
            name="Carla",
            role=Role.STAFF,
            coordinator=True,
            now=now,
        )
        session.add(
            Member(
                union_id=second.id,
                person_id=member.person_id,
                role=Role.STAFF,
                status=MemberStatus.ACTIVE,
                is_coordinator=True,
                requested_at=now,
                decided_at=now,
            )
        )
    await carla.send_document("azioni.csv", CSV, mime_type="text/csv")
    await bot.settle()
    picker = fake.last_sent(carla)
    assert "Per quale Unione" in (picker.text or "")
    press = await carla.press(picker, "Unione Reno Galliera")
    await press.answered()
    await bot.settle()
    preview = fake.last_sent(carla)
    assert "azioni.csv" in (preview.text or "") and "2 azioni" in (preview.text or "")
    assert "Conferma" in " ".join(preview.button_texts)
