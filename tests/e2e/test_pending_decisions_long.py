"""/decisione without text lists long pending decisions without breaking Telegram's limit."""

from __future__ import annotations

from storage.models import Decision, DecisionStatus, Role
from tests.e2e.harness import BotUnderTest
from tests.updates_factories import make_member, make_union


async def test_long_pending_decisions_fit_in_messages(bot: BotUnderTest) -> None:
    fake = bot.fake
    carla = fake.add_user("Carla", "Coordinatrice")
    now = bot.clock.now()
    async with bot.db.transaction() as session:
        union, _ = await make_union(session, "Unione Reno Galliera", ["Argelato"], now=now)
        await make_member(
            session,
            union,
            telegram_user_id=carla.id,
            name="Carla",
            role=Role.STAFF,
            coordinator=True,
            now=now,
        )
        for n in range(30):
            session.add(
                Decision(
                    union_id=union.id,
                    question=f"Decisione {n}: " + "tanto testo & <dettagli> " * 80,
                    status=DecisionStatus.APPROVED,
                    created_at=now,
                )
            )
    await carla.send("/decisione")
    await bot.settle()
    sent = [m for m in fake.sent_to(carla) if m.from_bot]
    assert sent, fake.transcript()
    assert all(len(m.text or "") <= 4096 for m in sent)
    assert "Scrivi la decisione dopo il comando" in (sent[0].text or "")
    assert "e altre 10" in (sent[-1].text or "")
    assert len(sent[-1].buttons) == 20
    assert not [c for c in fake.calls if not c.ok]
