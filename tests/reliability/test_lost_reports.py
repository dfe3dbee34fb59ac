"""Issue 14, item 7: an announcement and its failure report both lost in silence.

After HTTP 500s and a hang, every copy of an announcement ended `uncertain`, and so did the
delivery report to the coordinator: nobody received anything and nobody was told. A report may
be sent again (bot/delivery.py, REPORT_PREFIXES): it is offered again by the tick, at once when
the coordinator writes to the bot, readable any time with /annuncio stato, and counted in the
health file until it arrives.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from bot import delivery
from storage.models import MeetingSettings, OutboxStatus
from tests.e2e.harness import BotUnderTest
from tests.fakes.telegram_server import FakeTelegram
from tests.reliability.conftest import BotFactory
from tests.reliability.world import World, outbox_rows, seed_union

TEXT = "Giovedì la riunione si tiene in Sala consiliare"
REPORT = "📬 Avviso consegnato a 0 di 3."


def _health(tmp_path: Path) -> dict[str, object]:
    state: dict[str, object] = json.loads((tmp_path / "health.json").read_text("utf-8"))
    return state


def _reports(fake: FakeTelegram, world: World) -> list[str]:
    return [m.text or "" for m in fake.sent_to(world.coordinator) if REPORT in (m.text or "")]


async def _everything_lost(bot: BotUnderTest) -> World:
    """An announcement to three people: Telegram answers 500 four times, then hangs past the
    read timeout on every send — the three copies and the report to the coordinator."""
    fake = bot.fake
    world = await seed_union(bot.db, fake, bot.clock.now(), members=3)
    async with bot.db.transaction() as session:  # no monthly poll's messages in between
        session.add(MeetingSettings(union_id=world.union_id, auto_poll_enabled=False))
    carla = world.coordinator
    await carla.send(f"/annuncio {TEXT}")
    await bot.settle()
    menu = fake.last_sent(carla)
    fake.fail_next("sendMessage", 500, "Internal Server Error", count=4)
    fake.stall_next("sendMessage", seconds=1.5, deliver=False, count=4)
    press = await carla.press(menu, "👥 Tutti")
    assert (await press.answered()).text == "In invio."
    await bot.settle()
    for _ in range(6):
        await bot.advance(minutes=1)
    copies = await outbox_rows(bot.db, "ann:")
    assert [r.status for r in copies] == [OutboxStatus.UNCERTAIN] * 3
    (report,) = await outbox_rows(bot.db, delivery.ANNOUNCEMENT_REPORT_PREFIX)
    assert report.status in (OutboxStatus.UNCERTAIN, OutboxStatus.PENDING)
    assert report.attempts == 1 and "uncertain" in (report.error or "")
    for member in world.members:
        assert not [m for m in fake.sent_to(member) if TEXT in (m.text or "")]
    assert _reports(fake, world) == []  # so far, lost in silence
    return world


async def test_an_uncertain_report_is_offered_again_until_it_arrives(
    make_bot: BotFactory, tmp_path: Path
) -> None:
    bot = await make_bot(read_timeout=0.5)
    world = await _everything_lost(bot)
    await bot.tick()
    assert _health(tmp_path)["reports_owed"] == 1
    (report,) = await outbox_rows(bot.db, delivery.ANNOUNCEMENT_REPORT_PREFIX)
    assert report.status == OutboxStatus.PENDING and report.not_before is not None

    # Not before its wait: Telegram is not hammered.
    await bot.advance(minutes=1)
    assert _reports(bot.fake, world) == []
    await bot.advance(delivery.REPORT_RETRY_MIN)
    (text,) = _reports(bot.fake, world)
    assert (
        "Non so se è arrivato a: Tecnico0 Comunale, Tecnico1 Comunale, Tecnico2 Comunale. "
        "Non lo rimando, per non mandarlo due volte: controlla con loro."
    ) in text
    await bot.tick()
    assert _health(tmp_path)["reports_owed"] == 0
    # Sent: never again, and the announcement itself was never resent.
    for _ in range(3):
        await bot.advance(hours=1)
    assert len(_reports(bot.fake, world)) == 1
    copies = await outbox_rows(bot.db, "ann:")
    assert [r.status for r in copies] == [OutboxStatus.UNCERTAIN] * 3
    member_ids = {m.id for m in world.members}
    delivered = [
        c
        for c in bot.fake.calls_of("sendMessage")
        if c.ok and c.params.get("chat_id") in member_ids
    ]
    assert delivered == []  # and no copy of the announcement was ever sent again


async def test_the_coordinator_who_writes_gets_the_report_and_annuncio_stato(
    make_bot: BotFactory, tmp_path: Path
) -> None:
    bot = await make_bot(read_timeout=0.5)
    fake = bot.fake
    world = await _everything_lost(bot)
    await bot.tick()
    assert _health(tmp_path)["reports_owed"] == 1
    carla = world.coordinator
    start = len(fake.sent_to(carla))
    await carla.send("/annuncio stato")
    await bot.settle()
    got = [m.text or "" for m in fake.sent_to(carla)[start:]]
    status = next(t for t in got if "Gli ultimi avvisi" in t)
    assert f"per tutto il team: «{TEXT}»" in status
    assert "✅ consegnato a 0 di 3" in status
    assert (
        "❔ non so se è arrivato a: "
        "Tecnico0 Comunale, Tecnico1 Comunale, Tecnico2 Comunale"
        " (controlla con loro prima di rimandarlo)"
    ) in status
    # She wrote to the bot: the report owed to her went at once, not in 5 minutes.
    assert len(_reports(fake, world)) == 1
    await bot.tick()
    assert _health(tmp_path)["reports_owed"] == 0
    await bot.advance(delivery.REPORT_RETRY_MIN + timedelta(minutes=1))
    assert len(_reports(fake, world)) == 1


async def test_annuncio_stato_is_for_the_coordinator_and_lists_the_last_ones(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot()
    fake = bot.fake
    world = await seed_union(bot.db, fake, bot.clock.now(), members=2)
    carla = world.coordinator
    await carla.send("/annuncio stato")
    await bot.settle()
    assert fake.last_sent(carla).text == "Non hai ancora mandato avvisi."
    await carla.send("/annuncio Consegnate le caldaie <nuove> & collaudate")
    await bot.settle()
    await (await carla.press(fake.last_sent(carla), "🛠 Tavolo tecnico")).answered()
    await bot.settle()
    bot.clock.advance(minutes=1)
    await carla.send("/annuncio Bozza mai mandata")
    await bot.settle()
    await carla.send("/annuncio stato")
    await bot.settle()
    status = fake.last_sent(carla).text or ""
    assert "per il tavolo tecnico: «Consegnate le caldaie <nuove> & collaudate»" in status
    assert "✅ consegnato a 2 di 2" in status
    assert "Bozza" not in status  # a draft is no announcement yet
    member = world.members[0]
    await member.send("/annuncio stato")
    await bot.settle()
    assert fake.last_sent(member).text == "Solo chi coordina l'Unione manda avvisi a tutto il team."


async def test_annuncio_stato_with_many_unreachable_people_fits_telegram(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot()
    fake = bot.fake
    # Sixty people who never pressed Start: every copy is refused (403), every name listed.
    world = await seed_union(bot.db, fake, bot.clock.now(), members=60, started=False)
    carla = world.coordinator
    for n in range(4):
        await carla.send(f"/annuncio Avviso numero {n}")
        await bot.settle()
        await (await carla.press(fake.last_sent(carla), "👥 Tutti")).answered()
        await bot.settle()
        bot.clock.advance(minutes=1)
    start = len(fake.sent_to(carla))
    await carla.send("/annuncio stato")
    await bot.settle()
    parts = [m.text or "" for m in fake.sent_to(carla)[start:]]
    assert len(parts) >= 2 and all(len(p) <= 4096 for p in parts)
    whole = "\n".join(parts)
    for n in range(4):
        assert f"«Avviso numero {n}»" in whole
    assert whole.count("Tecnico59 Comunale") == 4
