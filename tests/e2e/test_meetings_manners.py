"""Telegram manners of the meetings (issue 17), end to end through the real bot.

- A mayor knows what they answered without scrolling: every vote's toast says all of their
  answers, and «👤 Le mie risposte» (one tap) brings their private copy of the poll, whose
  buttons mark their choice; a tap there changes it. What a vote costs in Bot API calls is
  counted here.
- The coordinator's controls are not under the poll: «⚙️ Gestisci» opens them in private; when
  the bot may not write first, the button opens the chat through a link (t.me/<bot>?start=…)
  and «Avvia» brings the panel (or one's answers).
- A 20-Comuni Union with 8 dates: the grid fits one message.
- The bot asks Telegram whether it may pin, and tells the coordinator once per group which right
  to give.
- /calendario is the calendar's name in the menus; /riunioni still answers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.context import services_of
from bot.services.meetings import enqueue_poll_posts
from storage.models import Meeting, PollMessage, PollTable, Role, TableKind
from storage.repositories import meetings as repo
from tests.e2e.harness import BotUnderTest
from tests.e2e.test_meetings_story import (
    _create_poll_with_wizard,
    _panel,
    _poll_id,
    _slot_data,
    _team,
    grid,
)
from tests.factories import add_member, link_group, make_union
from tests.fakes.fake_world import FakeMessage, FakeUser


def _calls_since(bot: BotUnderTest, mark: int, user: FakeUser, group_id: int) -> list[str]:
    """The Bot API calls made since `mark`, as «method → where» (the toast has no chat)."""
    out = []
    for call in bot.fake.calls[mark:]:
        if call.method == "getUpdates":
            continue
        chat = call.params.get("chat_id")
        where = "group" if chat == group_id else "private" if chat == user.id else str(chat)
        out.append(call.method if chat is None else f"{call.method} → {where}")
    return sorted(out)


async def test_a_mayor_knows_their_answers_without_scrolling(any_bot: BotUnderTest) -> None:
    bot = any_bot
    fake = bot.fake
    team = await _team(bot, cass_started=True)
    group = team.group
    sara = team.users["sa"]
    poll_msg = await _create_poll_with_wizard(bot, team)
    dec10, dec16, dec17 = _slot_data(poll_msg)
    await bot.run_jobs()

    # A vote in the group: one tap; the toast says what was recorded and all her answers.
    # It costs the toast and the group's coalesced edit (as before: she has no copy yet).
    mark = len(fake.calls)
    toast = await (await sara.press(poll_msg, f"vote:y:{dec10}")).answered()
    assert toast.text == (
        "Registrato: ✅ Sì per gio 10 dic, 17:00.\n"
        "Le tue risposte: ✅ gio 10 dic. Ancora da rispondere: mer 16 dic, gio 17 dic."
    )
    assert not toast.show_alert
    await bot.settle()
    await bot.run_jobs()
    assert _calls_since(bot, mark, sara, group.id) == [
        "answerCallbackQuery",
        "editMessageText → group",
    ]

    # «👤 Le mie risposte»: one tap, and her own answers are in her private chat, marked.
    taps = len(fake.presses_by(sara))
    press = await sara.press(poll_msg, "👤 Le mie risposte")
    assert (await press.answered()).text == (
        "Ti ho scritto in privato: lì vedi e cambi le tue risposte."
    )
    await bot.settle()
    assert len(fake.presses_by(sara)) - taps == 1
    copy = fake.last_sent(sara)
    assert (copy.text or "").startswith(
        "👤 Le tue risposte al sondaggio «Riunione di dicembre» (tavolo politico). "
        "Puoi cambiarle fino a dom 6 dic, 09:00."
    )
    assert "gio 10 dic, 17:00 — ✅ Sì" in (copy.text or "")
    assert "mer 16 dic, 17:30 — non hai ancora risposto" in (copy.text or "")
    assert copy.buttons[:2] == [
        [("📅 gio 10 dic, 17:00", f"mtg:answers:{dec10}")],
        [
            ("✅ Sì ✓", f"vote:y:{dec10}"),
            ("❔ Se necessario", f"vote:m:{dec10}"),
            ("❌ No", f"vote:n:{dec10}"),
        ],
    ]

    # One tap in the copy changes her answer: the copy shows it at once (a direct edit of her
    # own chat), the group's grid follows with its coalesced edit.
    mark = len(fake.calls)
    toast = await (await sara.press(copy, f"vote:m:{dec10}")).answered()
    assert (toast.text or "").startswith("Registrato: ❔ Se necessario per gio 10 dic, 17:00.")
    await bot.settle()
    assert ("❔ Se necessario ✓", f"vote:m:{dec10}") in copy.buttons[1]
    assert "gio 10 dic, 17:00 — ❔ Se necessario" in (copy.text or "")
    await bot.run_jobs()
    assert _calls_since(bot, mark, sara, group.id) == [
        "answerCallbackQuery",
        "editMessageText → group",
        "editMessageText → private",
    ]
    assert grid(poll_msg)["gio 10 dic, 17:00 — 1 Comune su 3"][0] == "❔ Argelato"

    # Back in the group: her copy follows her votes there too (one coalesced edit of it for a
    # burst of three presses), and nobody else's copy moves.
    cora = team.users["ac"]
    await (await cora.press(poll_msg, "👤 Le mie risposte")).answered()
    await bot.settle()
    coras = fake.last_sent(cora)
    cora_text = coras.text
    mark = len(fake.calls)
    for slot in (dec16, dec17, dec10):
        await (await sara.press(poll_msg, f"vote:y:{slot}")).answered()
    await bot.settle()
    await bot.run_jobs()
    calls = _calls_since(bot, mark, sara, group.id)
    assert calls.count("answerCallbackQuery") == 3
    assert 1 <= calls.count("editMessageText → group") <= 2
    assert calls.count("editMessageText → private") == 1
    assert len(calls) == 3 + calls.count("editMessageText → group") + 1
    for slot in (dec10, dec16, dec17):
        assert any(
            text == "✅ Sì ✓" and data == f"vote:y:{slot}"
            for row in copy.buttons
            for text, data in row
        )
    assert coras.text == cora_text
    async with bot.db.transaction() as session:
        copies = list(
            (
                await session.execute(select(PollMessage).where(PollMessage.member_id.is_not(None)))
            ).scalars()
        )
    assert sorted(c.chat_id for c in copies) == sorted([sara.id, cora.id])
    assert all(c.dirty_since is None for c in copies)
    fake.write_transcript(".transcripts/test_a_mayor_knows_their_answers.txt")


async def test_when_the_bot_may_not_write_first_the_buttons_open_the_chat(
    bot: BotUnderTest,
) -> None:
    fake = bot.fake
    team = await _team(bot)  # Cora never started the bot
    carla, cora = team.carla, team.users["ac"]
    poll_msg = await _create_poll_with_wizard(bot, team)
    poll_id = _poll_id(poll_msg)

    # Cora's «👤 Le mie risposte»: the bot cannot write to her, so the press opens the chat
    # with the bot through a link; «Avvia» (/start pv-<poll>) brings her answers.
    answer = await (await cora.press(poll_msg, "👤 Le mie risposte")).answered()
    assert answer.url == f"https://t.me/{fake.bot.username}?start=pv-{poll_id}"
    await cora.send(f"/start pv-{poll_id}")
    await bot.settle()
    copy = fake.last_sent(cora)
    assert (copy.text or "").startswith("👤 Le tue risposte al sondaggio «Riunione di dicembre»")
    await (await cora.press(copy, "✅ Sì")).answered()
    await bot.settle()
    assert "✅ Sì ✓" in copy.button_texts

    # The coordinator blocked the bot: «⚙️ Gestisci» opens the chat, «Avvia» brings the panel.
    await fake.user_blocks(carla)
    await bot.settle()
    answer = await (await carla.press(poll_msg, "⚙️ Gestisci")).answered()
    assert answer.url == f"https://t.me/{fake.bot.username}?start=mg-{poll_id}"
    await carla.send(f"/start mg-{poll_id}")
    await bot.settle()
    panel = fake.last_sent(carla)
    assert (panel.text or "").startswith("⚙️ Riunione di dicembre (tavolo politico)")
    assert panel.button_texts == [
        "👥 Chi manca?",
        "➕ Aggiungi data",
        "⏳ Proroga",
        "🔒 Chiudi ora",
        "🗑 Annulla sondaggio",
    ]
    # The same link for a mayor shows who manages the poll, and no controls.
    await team.users["sb"].send(f"/start mg-{poll_id}")
    await bot.settle()
    refused = fake.last_sent(team.users["sb"])
    assert refused.buttons == [] and "chiedi a: carla" in (refused.text or "")
    fake.write_transcript(".transcripts/test_meeting_links.txt")


async def test_twenty_comuni_and_eight_dates_in_the_group(bot: BotUnderTest) -> None:
    """A large Union's poll through the bot: Telegram (the fake enforces 4096 characters)
    takes the grid as posted and as edited after a burst of votes."""
    fake = bot.fake
    names = [f"Comune di San Giovanni in Persiceto {n:02d}" for n in range(20)]
    coordinator = fake.add_user("Carla", "Coordinatrice")
    coordinator.has_started = True
    mayors = [fake.add_user(f"Sindaco{n:02d}", "Bench") for n in range(20)]
    group = fake.create_group("Tavolo politico", coordinator, members=mayors)
    group.bot_status = "member"
    now = bot.clock.now()
    async with bot.db.transaction() as session:
        world = await make_union(session, name="Unione Grande", comuni=names, now=now)
        await add_member(
            session,
            world,
            role=Role.STAFF,
            name="Carla",
            coordinator=True,
            telegram_user_id=coordinator.id,
            now=now,
        )
        for n, user in enumerate(mayors):
            await add_member(
                session,
                world,
                role=Role.SINDACO,
                name=f"Sindaco {n}",
                comuni=[world.comuni[n]],
                telegram_user_id=user.id,
                now=now,
            )
        await link_group(session, world, table=TableKind.POLITICAL, chat_id=group.id, now=now)
        starts = [datetime(2026, 12, 9 + d, 16, tzinfo=UTC) for d in range(8)]
        poll = await repo.create_poll(
            session,
            union_id=world.union.id,
            table=PollTable.POLITICAL,
            title="Riunione di dicembre, con un titolo lungo " + "x" * 150,
            agenda="Ordine del giorno lungo. " * 30,
            place="Sala consiliare del Municipio, piano primo, ingresso da via Roma",
            deadline_at=datetime(2026, 12, 6, 8, tzinfo=UTC),
            slots=[(s, s + timedelta(hours=2)) for s in starts],
            created_by_member_id=None,
            now=now,
        )
        assert poll is not None
        await enqueue_poll_posts(
            session,
            poll=poll,
            now=now,
            language=services_of(bot.application).settings.default_language,
        )
    await bot.tick()
    (message,) = [m for m in fake.sent_to(group) if (m.text or "").startswith("🗓")]
    slots = _slot_data(message)
    assert len(slots) == 8
    for n, user in enumerate(mayors):
        for i, slot in enumerate(slots):
            code = "ymn"[(n + i) % 3]
            await (await user.press(message, f"vote:{code}:{slot}")).answered()
    await bot.settle()
    await bot.run_jobs()
    edits = [c for c in fake.calls_of("editMessageText") if c.params.get("chat_id") == group.id]
    assert edits and all(c.ok for c in edits)
    text = message.text or ""
    assert "Hanno risposto 20 persone su 21." in text
    assert len(text) <= 4096
    headings = list(grid(message))
    assert len(headings) == 8
    assert headings[0] == "mer 9 dic, 17:00 — 14 Comuni su 20"
    assert "altri" in text  # long names: the lists are cut, «+N altri»
    fake.write_transcript(".transcripts/test_twenty_comuni_grid.txt")


async def test_the_pin_right_is_asked_once_per_group(bot: BotUnderTest) -> None:
    """The bot may not pin in the group: it does not try, and the coordinator is told once
    which right to give — not at the next meeting. Given the right, the next one is pinned."""
    fake = bot.fake
    team = await _team(bot, cass_started=True)
    fake.set_bot_admin(team.group, admin=False)

    async def close_one() -> FakeMessage:
        poll_msg = await _create_poll_with_wizard(bot, team)
        await (
            await team.users["sa"].press(poll_msg, f"vote:y:{_slot_data(poll_msg)[0]}")
        ).answered()
        panel = await _panel(bot, team.carla, poll_msg)
        await (await team.carla.press(panel, "🔒 Chiudi ora")).answered()
        await bot.settle()
        await (await team.carla.press(fake.last_sent(team.carla), "Sì, chiudi")).answered()
        await bot.settle()
        return [m for m in fake.sent_to(team.group) if (m.text or "").startswith("📣")][-1]

    first = await close_one()
    second = await close_one()
    await bot.tick()
    assert not first.pinned and not second.pinned
    assert fake.calls_of("pinChatMessage") == []
    told = [m.text for m in fake.sent_to(team.carla) if "non posso fissare" in (m.text or "")]
    assert told == [
        "Ho annunciato la riunione nel gruppo «Tavolo politico Reno», ma non posso fissare "
        "l'annuncio in alto. Se vuoi che lo faccia, nel gruppo rendimi amministratore con il "
        "permesso «Fissa messaggi». Te lo dico solo questa volta."
    ]
    fake.set_bot_admin(team.group, can_pin=True)
    third = await close_one()
    assert third.pinned
    assert len([m for m in fake.sent_to(team.carla) if "non posso fissare" in (m.text or "")]) == 1
    async with bot.db.transaction() as session:
        assert len(list((await session.execute(select(Meeting))).scalars())) == 3


async def test_the_calendar_is_called_calendario(bot: BotUnderTest) -> None:
    fake = bot.fake
    # In private each member's own menu lists it (tests/e2e/test_people_manners.py).
    for scope in ("all_chat_administrators", "all_group_chats"):
        names = [name for name, _description in fake.commands(scope)]
        assert "calendario" in names and "riunioni" not in names, (scope, names)
    team = await _team(bot)
    await team.users["sb"].send("/riunioni", chat=team.group)
    await bot.settle()
    assert (fake.last_sent(team.group).text or "").startswith("📅 Calendario delle riunioni")
