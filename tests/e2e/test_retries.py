"""Issue 14, item 4: a person's retry of the same command moments later is not a second
decision, note or announcement (bot/services/repeats.py). The bot says it is already recorded
and points at the first; the same text after the window, or another text, is new."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from storage.models import Announcement, Decision, MeetingSettings, Role, TableKind, UpdateNote
from tests.e2e.harness import BotUnderTest
from tests.factories import add_member, link_group, make_union
from tests.fakes.fake_world import FakeChat, FakeUser


@dataclass
class Team:
    carla: FakeUser  # coordinator
    ugo: FakeUser  # technician of two Comuni
    sara: FakeUser  # Sindaca
    technical: FakeChat
    political: FakeChat


async def _team(bot: BotUnderTest) -> Team:
    fake = bot.fake
    now = bot.clock.now()
    carla = fake.add_user("Carla", "Coordinatrice")
    ugo = fake.add_user("Ugo", "Bassi")
    sara = fake.add_user("Sara", "Sindaca")
    fake.privacy_mode = False  # #aggiornamento reads ordinary group messages
    technical = fake.create_group("Tavolo tecnico", carla, members=[ugo])
    political = fake.create_group("Tavolo politico", carla, members=[sara])
    await fake.add_bot_to_group(technical, by=carla)
    await fake.add_bot_to_group(political, by=carla)
    async with bot.db.transaction() as s:
        world = await make_union(
            s, name="Unione Colline", comuni=["Canossa", "Vezzano sul Crostolo"], now=now
        )
        s.add(MeetingSettings(union_id=world.union.id, auto_poll_enabled=False))
        canossa, vezzano = world.comuni
        await add_member(
            s, world, role=Role.STAFF, name="Carla", coordinator=True,
            telegram_user_id=carla.id, now=now,
        )  # fmt: skip
        await add_member(
            s, world, role=Role.TECNICO, name="Ugo Bassi", comuni=[canossa, vezzano],
            telegram_user_id=ugo.id, now=now,
        )  # fmt: skip
        await add_member(
            s, world, role=Role.SINDACO, name="Sara", comuni=[vezzano],
            telegram_user_id=sara.id, now=now,
        )  # fmt: skip
        await link_group(
            s, world, table=TableKind.TECHNICAL, chat_id=technical.id, now=now,
            hashtag_capture=True,
        )  # fmt: skip
        await link_group(s, world, table=TableKind.POLITICAL, chat_id=political.id, now=now)
    for user in (carla, ugo, sara):
        user.has_started = True
    await bot.settle()
    return Team(carla, ugo, sara, technical, political)


async def _count(bot: BotUnderTest, model: type) -> int:
    async with bot.db.transaction() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_a_decision_sent_twice_is_recorded_once(bot: BotUnderTest) -> None:
    fake = bot.fake
    team = await _team(bot)
    carla = team.carla
    await carla.send("/decisione Si parte con il bando per le scuole")
    await bot.settle()
    assert fake.last_sent(carla).text == (
        "Decisione registrata e inviata al gruppo del tavolo tecnico."
    )
    bot.clock.advance(seconds=20)
    # The same words, typed again with other spacing and capitals: a retry.
    await carla.send("/decisione  si parte con il BANDO per le scuole ")
    await bot.settle()
    assert fake.last_sent(carla).text == (
        "Questa decisione è già registrata (mar 1 dic, 09:00): non la registro una seconda volta."
    )
    assert await _count(bot, Decision) == 1
    decided = [m for m in fake.sent_to(team.technical) if "Decisione" in (m.text or "")]
    assert len(decided) == 1  # the technical table reads it once

    # Another decision is another decision.
    await carla.send("/decisione Si rinvia la gara per la pubblica illuminazione")
    await bot.settle()
    assert await _count(bot, Decision) == 2
    # The same sentence after the window (10 minutes) is taken as meant.
    bot.clock.advance(minutes=11)
    await carla.send("/decisione Si parte con il bando per le scuole")
    await bot.settle()
    assert fake.last_sent(carla).text == (
        "Decisione registrata e inviata al gruppo del tavolo tecnico."
    )
    assert await _count(bot, Decision) == 3


async def test_a_note_sent_twice_is_counted_once(bot: BotUnderTest) -> None:
    fake = bot.fake
    team = await _team(bot)
    note = "#aggiornamento caldaie a condensazione consegnate"
    await team.ugo.send(note, chat=team.technical)
    await bot.settle()
    assert (fake.last_sent(team.technical).text or "").startswith("📝 Nota registrata per Canossa")
    assert await _count(bot, UpdateNote) == 2  # one per Comune of his
    bot.clock.advance(minutes=2)
    await team.ugo.send(note + " ", chat=team.technical)
    await bot.settle()
    assert fake.last_sent(team.technical).text == (
        "📝 Questa nota è già registrata (mar 1 dic, 09:00): non la conto una seconda volta."
    )
    assert await _count(bot, UpdateNote) == 2
    await team.ugo.send("#aggiornamento e anche il fotovoltaico", chat=team.technical)
    await bot.settle()
    assert await _count(bot, UpdateNote) == 4


async def test_an_announcement_sent_twice_goes_out_once(bot: BotUnderTest) -> None:
    fake = bot.fake
    team = await _team(bot)
    carla = team.carla
    await carla.send("/annuncio Giovedì la riunione si tiene in Sala consiliare")
    await bot.settle()
    first_menu = fake.last_sent(carla)
    assert "A chi lo mando?" in (first_menu.text or "")
    # She did not see the menu arrive and sends it again: the same draft, not a second one.
    await carla.send("/annuncio Giovedì la riunione si tiene in Sala consiliare")
    await bot.settle()
    second_menu = fake.last_sent(carla)
    assert second_menu is not first_menu and "A chi lo mando?" in (second_menu.text or "")
    assert second_menu.buttons == first_menu.buttons  # the same announcement's buttons
    assert await _count(bot, Announcement) == 1

    press = await carla.press(second_menu, "👥 Tutti")
    assert (await press.answered()).text == "In invio."
    await bot.settle()
    assert [m.text for m in fake.sent_to(team.sara)][-1].endswith(  # type: ignore[union-attr]
        "Giovedì la riunione si tiene in Sala consiliare"
    )
    # Pressing the first menu's button changes nothing.
    press = await carla.press(first_menu, "👥 Tutti")
    assert (await press.answered()).text == "Questo avviso è già stato inviato."
    # And sending the command once more does not send it again.
    bot.clock.advance(minutes=1)
    await carla.send("/annuncio Giovedì la riunione si tiene in Sala consiliare")
    await bot.settle()
    assert fake.last_sent(carla).text == (
        "Questo avviso per tutto il team l'hai già mandato (mar 1 dic, 09:00): non lo mando "
        "una seconda volta. Con /annuncio stato vedi a chi è arrivato."
    )
    assert await _count(bot, Announcement) == 1
    received = [m for m in fake.sent_to(team.sara) if "Sala consiliare" in (m.text or "")]
    assert len(received) == 1
