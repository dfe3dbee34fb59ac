"""A month of meetings, end to end: /riunione, the poll in the group, votes, reminders, the close
on the rule's slot, the .ics, restarts in the middle, the automatic monthly poll.

The team is built directly in the database (registration builds it through the bot).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.config import normalize_database_url
from storage.models import Answer, Meeting, MeetingPoll, PollStatus, Role, TableKind, Vote
from tests.e2e.harness import BotUnderTest
from tests.fakes.fake_world import FakeChat, FakeMessage, FakeUser
from tests.fakes.telegram_server import FakeTelegram
from tests.meetings_factories import add_member, link_group, make_union

ROME = ZoneInfo("Europe/Rome")


@dataclass
class Team:
    group: FakeChat
    carla: FakeUser  # coordinator (Union staff)
    users: dict[str, FakeUser]
    union_id: int


async def _team(bot: BotUnderTest, *, cass_started: bool = False) -> Team:
    """Three Comuni, each with a Sindaco and an Assessore at the political table; one
    technician (not at that table); Carla coordinates. All in the political group."""
    fake = bot.fake
    carla = fake.add_user("Carla", "Coordinatrice")
    names = {
        "sa": ("Sara", "Argelato", Role.SINDACO, 0),
        "aa": ("Aldo", "Argelato", Role.ASSESSORE, 0),
        "sb": ("Bruno", "Bentivoglio", Role.SINDACO, 1),
        "ab": ("Bice", "Bentivoglio", Role.ASSESSORE, 1),
        "sc": ("Ciro", "Castello", Role.SINDACO, 2),
        "ac": ("Cora", "Castello", Role.ASSESSORE, 2),
        "tec": ("Tino", "Tecnico", Role.TECNICO, 0),
    }
    users = {key: fake.add_user(first, last) for key, (first, last, _r, _c) in names.items()}
    for key, user in users.items():
        user.has_started = key != "ac" or cass_started
    carla.has_started = True
    group = fake.create_group("Tavolo politico Reno", carla, members=users.values())
    fake.set_bot_admin(group, can_pin=True)
    now = bot.clock.now()
    async with bot.db.transaction() as session:
        team = await make_union(
            session,
            name="Unione Reno Galliera",
            comuni=["Argelato", "Bentivoglio", "Castello"],
            now=now,
        )
        await add_member(
            session,
            team,
            key="carla",
            role=Role.STAFF,
            coordinator=True,
            telegram_user_id=carla.id,
            now=now,
        )
        for key, (first, last, role, comune) in names.items():
            await add_member(
                session,
                team,
                key=f"{first} {last}",
                role=role,
                comuni=[comune],
                telegram_user_id=users[key].id,
                now=now,
            )
        await link_group(
            session, team, table=TableKind.POLITICAL, chat_id=group.id, now=now, title=group.title
        )
        union_id = team.union.id
    return Team(group=group, carla=carla, users=users, union_id=union_id)


def _slot_data(poll_message: FakeMessage) -> list[int]:
    """Slot ids from the vote rows of the poll keyboard."""
    ids = []
    for row in poll_message.buttons:
        data = row[0][1] or ""
        if data.startswith("mtg:answers:"):
            ids.append(int(data.rsplit(":", 1)[1]))
    return ids


async def _vote(
    bot: BotUnderTest, user: FakeUser, message: FakeMessage, slot_id: int, code: str
) -> str:
    press = await user.press(message, f"vote:{code}:{slot_id}")
    answer = await press.answered()
    return answer.text or ""


async def _count(bot: BotUnderTest, model: type, *where: object) -> int:
    async with bot.db.transaction() as session:
        return int(
            (
                await session.execute(select(func.count()).select_from(model).where(*where))
            ).scalar_one()
        )  # type: ignore[arg-type]


def _poll_id(poll_message: FakeMessage) -> int:
    return next(
        int(data.rsplit(":", 1)[1])
        for row in poll_message.buttons
        for _text, data in row
        if (data or "").startswith("mtg:manage:")
    )


def _poll_message(bot: BotUnderTest, group: FakeChat) -> FakeMessage:
    return [m for m in bot.fake.sent_to(group) if m.text and m.text.startswith("🗓")][-1]


async def _create_poll_with_wizard(bot: BotUnderTest, team: Team) -> FakeMessage:
    fake = bot.fake
    carla = team.carla
    await carla.send("/riunione")
    await bot.settle()
    menu = fake.last_sent(carla)
    assert "Per quale tavolo" in (menu.text or "")
    await (await carla.press(menu, "Tavolo politico")).answered()
    await bot.settle()
    assert "titolo" in (fake.last_sent(carla).text or "")
    await carla.send("Riunione di dicembre")
    await bot.settle()
    await (await carla.press(fake.last_sent(carla), "Lo dirò dopo")).answered()
    await bot.settle()
    await carla.send("1. PAES: stato delle azioni\n2. Bando illuminazione")
    await bot.settle()
    dates = fake.last_sent(carla)
    assert "Scegli da 2 a 8 date" in (dates.text or "")
    labels = dates.button_texts
    assert "mar 8 dic, 17:00" not in labels  # the Immacolata is skipped
    await (await carla.press(dates, "gio 10 dic, 17:00")).answered()
    await (await carla.press(dates, "gio 17 dic, 17:00")).answered()
    await bot.settle()
    # A typed date whose weekday is wrong is explained, not guessed: both dates join the
    # buttons, and a tap picks the one meant.
    await carla.send("martedì 16 dicembre ore 17:30")
    await bot.settle()
    mismatch = fake.last_sent(carla)
    assert (mismatch.text or "").startswith(
        "Il 16 dic 2026 è mercoledì, non martedì: tocca qui sotto la data giusta."
    )
    assert {"mar 15 dic, 17:30", "mer 16 dic, 17:30"} <= set(mismatch.button_texts)
    assert "Avanti (2 date scelte)" in mismatch.button_texts  # neither chosen by itself
    await (await carla.press(mismatch, "mer 16 dic, 17:30")).answered()
    await bot.settle()
    assert "✔️ mer 16 dic, 17:30" in fake.last_sent(carla).button_texts
    await carla.send("banana")
    await bot.settle()
    assert "Non ho capito «banana»" in (fake.last_sent(carla).text or "")
    # A restart in the middle of the wizard loses nothing: the state is in the database.
    await bot.restart()
    await (await carla.press(fake.last_sent(carla), "Avanti (3 date scelte)")).answered()
    await bot.settle()
    deadline_menu = fake.last_sent(carla)
    assert "Entro quando rispondere" in (deadline_menu.text or "")
    await (await carla.press(deadline_menu, "dom 6 dic, 09:00")).answered()
    await bot.settle()
    summary = fake.last_sent(carla)
    assert "gio 10 dic 2026, 17:00" in (summary.text or "")
    assert "mer 16 dic 2026, 17:30" in (summary.text or "")
    press = await carla.press(summary, "Pubblica nel gruppo")
    assert (await press.answered()).text == "Pubblicato."
    await bot.settle()
    assert "Sondaggio pubblicato in: Tavolo politico Reno" in (fake.last_sent(carla).text or "")
    return _poll_message(bot, team.group)


def grid(message: FakeMessage) -> dict[str, list[str]]:
    """The poll's grid as a phone shows it: each date's heading (without the bold) → the lines
    under it (✅ Comuni, ❔ Comuni, «Mancano: …»)."""
    blocks: dict[str, list[str]] = {}
    for block in (message.text or "").split("\n\n")[1:-1]:
        heading, *lines = block.splitlines()
        blocks[heading] = lines
    return blocks


async def _alert(user: FakeUser, message: FakeMessage, button: str) -> str:
    """Press a button whose answer must be a popup that stays (nothing recorded)."""
    answer = await (await user.press(message, button)).answered()
    assert answer.show_alert, answer
    return answer.text or ""


async def test_meeting_poll_story(any_bot: BotUnderTest) -> None:
    bot = any_bot
    fake = bot.fake
    team = await _team(bot, cass_started=True)
    u = team.users
    poll_msg = await _create_poll_with_wizard(bot, team)
    text = poll_msg.text or ""
    assert "Riunione di dicembre" in text and "Rispondete entro dom 6 dic, 09:00" in text
    # The group sees the dates and two buttons; the coordinator's controls are not there.
    assert poll_msg.buttons[-1] == [
        ("👤 Le mie risposte", f"mtg:mine:{_poll_id(poll_msg)}"),
        ("⚙️ Gestisci", f"mtg:manage:{_poll_id(poll_msg)}"),
    ]
    for control in ("Chi manca?", "Aggiungi data", "Proroga", "Chiudi ora", "Annulla sondaggio"):
        assert not any(control in label for label in poll_msg.button_texts), control
    slots = _slot_data(poll_msg)
    assert len(slots) == 3
    dec10, dec16, dec17 = slots
    assert grid(poll_msg)["gio 10 dic, 17:00 — nessun Comune per ora"] == []

    # Dec 10: four people, but only two Comuni. Dec 16: three people, all three Comuni.
    # Each toast says what was recorded and all of the voter's answers so far.
    assert await _vote(bot, u["sa"], poll_msg, dec10, "y") == (
        "Registrato: ✅ Sì per gio 10 dic, 17:00.\n"
        "Le tue risposte: ✅ gio 10 dic. Ancora da rispondere: mer 16 dic, gio 17 dic."
    )
    await _vote(bot, u["aa"], poll_msg, dec10, "y")
    await _vote(bot, u["sb"], poll_msg, dec10, "y")
    await _vote(bot, u["ab"], poll_msg, dec10, "y")
    await _vote(bot, u["sa"], poll_msg, dec16, "n")
    await _vote(bot, u["sa"], poll_msg, dec16, "y")  # changes her mind
    await _vote(bot, u["sb"], poll_msg, dec16, "n")
    assert await _vote(bot, u["sb"], poll_msg, dec16, "m") == (
        "Registrato: ❔ Se necessario per mer 16 dic, 17:30.\n"
        "Le tue risposte: ✅ gio 10 dic · ❔ mer 16 dic. Ancora da rispondere: gio 17 dic."
    )
    await _vote(bot, u["sc"], poll_msg, dec16, "y")
    await _vote(bot, u["sc"], poll_msg, dec17, "n")
    await bot.settle()

    # Someone not at the political table, and someone not in the team at all: refused in a
    # popup that stays, saying what to do; nothing stored.
    votes_before = await _count(bot, Vote)
    press = await u["tec"].press(poll_msg, f"vote:y:{dec10}")
    refused = await press.answered()
    assert refused.show_alert
    assert refused.text == (
        "Questo sondaggio è per il tavolo politico: la tua risposta non è stata registrata. "
        "Se ne fai parte, chiedi a chi coordina l'Unione di correggere il tuo ruolo."
    )
    mallory = fake.add_user("Mallory")
    fake.add_member(team.group, mallory)
    refused_text = await _alert(mallory, poll_msg, f"vote:y:{dec10}")
    assert "non è stata registrata" in refused_text and "link d'invito" in refused_text
    forged = await (await mallory.press_forged(poll_msg, f"vote:y:{dec10 + 1000}")).answered()
    assert forged.show_alert and (forged.text or "").startswith(
        "Questo pulsante non è più valido: usa i pulsanti del sondaggio più recente"
    )
    assert await _count(bot, Vote) == votes_before == 8

    # The coalesced edit shows the grid: Comuni by name under each date.
    await bot.run_jobs()
    assert grid(poll_msg) == {
        "gio 10 dic, 17:00 — 2 Comuni su 3": ["✅ Argelato, Bentivoglio", "Manca: Castello"],
        "mer 16 dic, 17:30 — 3 Comuni su 3": ["✅ Argelato, Castello", "❔ Bentivoglio"],
        "gio 17 dic, 17:00 — nessun Comune per ora": [],
    }
    assert "Hanno risposto 5 persone su 7." in (poll_msg.text or "")  # Carla sits at both tables

    # «⚙️ Gestisci»: the panel goes to the coordinator in private; «Chi manca?» is there.
    press = await team.carla.press(poll_msg, "⚙️ Gestisci")
    assert (
        await press.answered()
    ).text == "Ti ho scritto in privato: lì trovi i pulsanti per gestire il sondaggio."
    await bot.settle()
    panel = fake.last_sent(team.carla)
    assert "Se lo chiudi ora: mer 16 dic, 17:30 (3 Comuni su 3)." in (panel.text or "")
    await (await team.carla.press(panel, "👥 Chi manca?")).answered()
    await bot.settle()
    missing = fake.last_sent(team.carla).text or ""
    assert "Castello (il Comune ha già risposto con un'altra persona): Cora Castello" in missing
    assert "Personale dell'Unione: carla" in missing
    # A mayor pressing it is told, in a popup that stays, who manages the poll.
    not_allowed = await _alert(u["sa"], poll_msg, "⚙️ Gestisci")
    assert not_allowed == (
        "Solo chi coordina l'Unione o chi ha proposto il sondaggio può gestirlo. Per chiudere, "
        "prorogare o aggiungere una data chiedi a: carla."
    )

    # A restart in the middle changes nothing.
    await bot.restart()
    assert await _count(bot, Vote) == 8
    assert "Ha" in (poll_msg.text or "")

    # 24 hours before the deadline: exactly the non-voters get a private reminder, which is
    # their own copy of the poll.
    before = {key: len(fake.sent_to(user)) for key, user in u.items()}
    carla_before = len(fake.sent_to(team.carla))
    deadline = datetime(2026, 12, 6, 8, tzinfo=UTC)
    bot.clock.set(deadline - timedelta(hours=24))
    await bot.tick()
    got = {key for key, user in u.items() if len(fake.sent_to(user)) > before[key]}
    assert got == {"ac"}  # Cora only: Tino is not at this table, Carla is told below
    reminder = fake.last_sent(u["ac"])
    assert "Non hai ancora risposto" in (reminder.text or "")
    assert "gio 17 dic, 17:00 — non hai ancora risposto" in (reminder.text or "")
    carla_msgs = fake.sent_to(team.carla)[carla_before:]
    assert any("Non hai ancora risposto" in (m.text or "") for m in carla_msgs)
    # Answering from the reminder counts the same, and one tap marks the answer on it.
    assert (await _vote(bot, u["ac"], reminder, dec17, "y")).startswith("Registrato: ✅ Sì")
    await bot.settle()
    assert "✅ Sì ✓" in reminder.button_texts
    assert "gio 17 dic, 17:00 — ✅ Sì" in (reminder.text or "")
    await bot.tick()  # nothing new: the reminder went once
    assert len(fake.sent_to(u["ac"])) == before["ac"] + 1

    # Vote changes until the deadline; after it, refused.
    bot.clock.set(deadline - timedelta(minutes=1))
    await _vote(bot, u["sc"], poll_msg, dec17, "m")
    bot.clock.set(deadline + timedelta(seconds=1))
    late = await _alert(u["sc"], poll_msg, f"vote:y:{dec10}")
    assert late.startswith("Il tempo per rispondere è scaduto (dom 6 dic, 09:00)")

    # The tick closes the poll on the rule's slot (most Comuni), not the most popular one.
    await bot.tick()
    async with bot.db.transaction() as session:
        poll = (await session.execute(select(MeetingPoll))).scalar_one()
        meeting = (await session.execute(select(Meeting))).scalar_one()
    assert poll.status == PollStatus.CLOSED and poll.chosen_slot_id == dec16
    assert meeting.starts_at == datetime(2026, 12, 16, 16, 30, tzinfo=UTC)
    group_msgs = fake.sent_to(team.group)
    announcements = [m for m in group_msgs if (m.text or "").startswith("📣")]
    assert len(announcements) == 1
    assert "mer 16 dic 2026, 17:30" in (announcements[0].text or "")
    assert announcements[0].pinned
    documents = [m for m in group_msgs if m.document is not None]
    assert len(documents) == 1
    cal = icalendar.Calendar.from_ical(documents[0].document.content)  # type: ignore[union-attr]
    event = next(c for c in cal.walk() if c.name == "VEVENT")
    start = event.decoded("DTSTART")
    assert start.astimezone(ROME).replace(tzinfo=None) == datetime(2026, 12, 16, 17, 30)
    assert "Bando illuminazione" in str(event["DESCRIPTION"])
    assert "Sondaggio chiuso. Data scelta: mer 16 dic, 17:30" in (poll_msg.text or "")
    assert "👉 mer 16 dic, 17:30 — 3 Comuni su 3" in grid(poll_msg)
    assert poll_msg.buttons == []
    # Cora's copy follows: the chosen date, no buttons to press any more.
    assert "✅ Sondaggio chiuso. Data scelta: mer 16 dic, 17:30." in (reminder.text or "")
    assert reminder.buttons == []
    # An old button of the closed poll: a popup that stays, with the date and where to find it.
    stale = await (await u["sb"].press_forged(poll_msg, f"vote:y:{dec10}")).answered()
    assert stale.show_alert and stale.text == (
        "Questo sondaggio è chiuso: la data scelta è mer 16 dic, 17:30 e la trovi in "
        "/calendario. Se c'è un sondaggio più recente, usa i suoi pulsanti."
    )

    # Closed exactly once, across ticks and restarts.
    await bot.tick()
    await bot.restart()
    await bot.tick()
    assert await _count(bot, Meeting) == 1
    assert len([m for m in fake.sent_to(team.group) if (m.text or "").startswith("📣")]) == 1

    # Meeting reminders: the day before and one hour before, in the group.
    bot.clock.set(datetime(2026, 12, 15, 17, 0, tzinfo=UTC))
    await bot.tick()
    # (The update round's summary may be posted in the same group meanwhile.)
    reminders = [m for m in fake.sent_to(team.group) if (m.text or "").startswith("⏰")]
    assert [r.text for r in reminders][-1].startswith("⏰ Domani, mer 16 dic, 17:30")  # type: ignore[union-attr]
    bot.clock.set(datetime(2026, 12, 16, 15, 35, tzinfo=UTC))
    await bot.tick()
    await bot.tick()
    reminders = [m for m in fake.sent_to(team.group) if (m.text or "").startswith("⏰")]
    assert [r.text.split(":")[0] for r in reminders] == [
        "⏰ Domani, mer 16 dic, 17",
        "⏰ Tra un'ora, alle 17",
    ]  # type: ignore[union-attr]

    # /calendario lists it with its invitation; /riunioni, its old name, still answers.
    await u["sb"].send("/calendario")
    await bot.settle()
    listing = fake.last_sent(u["sb"])
    assert (listing.text or "").startswith("📅 Calendario delle riunioni")
    assert "mer 16 dic 2026, 17:30" in (listing.text or "")
    press = await u["sb"].press(listing, listing.buttons[0][0][1] or "")
    assert (await press.answered()).text == "Ecco l'invito."  # pressed in private
    await bot.settle()
    assert fake.last_sent(u["sb"]).document is not None
    await u["sb"].send("/riunioni")
    await bot.settle()
    assert fake.last_sent(u["sb"]).text == listing.text
    fake.write_transcript(".transcripts/test_meeting_poll_story.txt")


async def test_unreachable_member_is_reported_to_the_coordinator(bot: BotUnderTest) -> None:
    fake = bot.fake
    team = await _team(bot)  # Cora never started the bot
    poll_msg = await _create_poll_with_wizard(bot, team)
    slots = _slot_data(poll_msg)
    for key in ("sa", "aa", "sb", "ab", "sc"):
        await _vote(bot, team.users[key], poll_msg, slots[0], "y")
    await _vote(bot, team.carla, poll_msg, slots[1], "m")
    bot.clock.set(datetime(2026, 12, 5, 8, 30, tzinfo=UTC))
    await bot.tick()
    await bot.tick()
    report = fake.last_sent(team.carla).text or ""
    assert "Non sono riuscito a mandare il promemoria" in report and "Cora Castello" in report
    await bot.tick()
    assert len([m for m in fake.sent_to(team.carla) if "Non sono riuscito" in (m.text or "")]) == 1


async def test_burst_of_votes_is_coalesced(any_bot: BotUnderTest) -> None:
    bot = any_bot
    fake = bot.fake
    team = await _team(bot)
    poll_msg = await _create_poll_with_wizard(bot, team)
    slots = _slot_data(poll_msg)
    edits_before = len(fake.calls_of("editMessageText"))
    presses = []
    for round_ in range(3):
        for key in ("sa", "aa", "sb", "ab", "sc", "ac"):
            for slot in slots:
                presses.append(
                    await team.users[key].press(poll_msg, f"vote:{'ymn'[round_]}:{slot}")
                )
    for press in presses:
        assert (await press.answered()).text.startswith("Registrato")  # type: ignore[union-attr]
    await bot.settle()
    await bot.run_jobs()
    await bot.tick()
    edits = [
        c
        for c in fake.calls_of("editMessageText")[edits_before:]
        if c.params.get("chat_id") == team.group.id
    ]
    assert len(presses) == 54
    assert 1 <= len(edits) <= 6, len(edits)
    # The last state wins: everybody ended on "No", so no Comune can come on any date.
    assert list(grid(poll_msg)) == [
        "gio 10 dic, 17:00 — nessun Comune per ora",
        "mer 16 dic, 17:30 — nessun Comune per ora",
        "gio 17 dic, 17:00 — nessun Comune per ora",
    ]
    assert "Hanno risposto 6 persone su 7." in (poll_msg.text or "")
    assert await _count(bot, Vote, Vote.answer == Answer.NO) == 18


async def test_monthly_poll_created_once_across_restarts(any_bot: BotUnderTest) -> None:
    bot = any_bot
    fake = bot.fake
    team = await _team(bot)
    # 1 December 2026, 09:00 in Rome (the conftest clock): the monthly poll is due.
    await bot.tick()
    await bot.tick()
    await bot.restart()
    await bot.tick()
    bot.clock.advance(hours=3)
    await bot.tick()
    async with bot.db.transaction() as session:
        polls = list((await session.execute(select(MeetingPoll))).scalars())
    assert len(polls) == 1 and polls[0].period == "2026-12"
    posts = [m for m in fake.sent_to(team.group) if (m.text or "").startswith("🗓")]
    assert len(posts) == 1
    text = posts[0].text or ""
    assert "Riunione del Team energia — dicembre 2026" in text
    # Four slots in the 2nd and 3rd week, the Immacolata (Tue 8 Dec) skipped.
    labels = [row[0][0] for row in posts[0].buttons if (row[0][1] or "").startswith("mtg:answers:")]
    assert labels == [
        "gio 10 dic, 17:00",
        "mar 15 dic, 17:00",
        "gio 17 dic, 17:00",
        "mar 22 dic, 17:00",
    ]
    assert "Rispondete entro dom 6 dic, 09:00" in text


async def test_deadline_passed_while_down_closes_at_start(bot: BotUnderTest) -> None:
    fake = bot.fake
    team = await _team(bot)
    poll_msg = await _create_poll_with_wizard(bot, team)
    slots = _slot_data(poll_msg)
    await _vote(bot, team.users["sa"], poll_msg, slots[1], "y")
    fake.set_bot_admin(team.group, admin=False)  # no right to pin: announced all the same
    await bot.stop()
    bot.clock.set(datetime(2026, 12, 7, 10, tzinfo=UTC))
    await bot.start()
    await bot.tick()  # the first tick after start
    async with bot.db.transaction() as session:
        poll = (await session.execute(select(MeetingPoll))).scalar_one()
    assert poll.status == PollStatus.CLOSED and poll.chosen_slot_id == slots[1]
    announcement = next(m for m in fake.sent_to(team.group) if (m.text or "").startswith("📣"))
    assert not announcement.pinned
    assert any(m.document is not None for m in fake.sent_to(team.group))
    await bot.tick()
    assert len([m for m in fake.sent_to(team.group) if (m.text or "").startswith("📣")]) == 1


async def _panel(bot: BotUnderTest, user: FakeUser, poll_msg: FakeMessage) -> FakeMessage:
    """«⚙️ Gestisci» under the poll: the panel, in the presser's private chat."""
    press = await user.press(poll_msg, "⚙️ Gestisci")
    assert (
        await press.answered()
    ).text == "Ti ho scritto in privato: lì trovi i pulsanti per gestire il sondaggio."
    await bot.settle()
    panel = bot.fake.last_sent(user)
    assert (panel.text or "").startswith("⚙️ ")
    return panel


async def test_coordinator_panel_extend_add_close_cancel(bot: BotUnderTest) -> None:
    """The coordinator's controls live in a private panel, opened by «⚙️ Gestisci» under the
    poll: extending, adding a date, closing (3 taps: ⚙️, «Chiudi ora», «Sì, chiudi»),
    cancelling."""
    fake = bot.fake
    team = await _team(bot, cass_started=True)
    carla, u = team.carla, team.users
    poll_msg = await _create_poll_with_wizard(bot, team)

    # Proroga: options below the panel, the group message follows.
    panel = await _panel(bot, carla, poll_msg)
    assert (await (await carla.press(panel, "⏳ Proroga")).answered()).text is None
    await bot.settle()
    options = fake.last_sent(carla)
    assert options.button_texts == [
        "+1 giorno (lun 7 dic, 09:00)",
        "+2 giorni (mar 8 dic, 09:00)",
        "+3 giorni (mer 9 dic, 09:00)",
    ]
    press = await carla.press(options, "+1 giorno (lun 7 dic, 09:00)")
    assert (await press.answered()).text == "Nuova scadenza: lun 7 dic, 09:00."
    await bot.settle()
    await bot.run_jobs()
    assert "Rispondete entro lun 7 dic, 09:00" in (poll_msg.text or "")

    # Aggiungi data: written in private; too early refused, then added.
    await (await carla.press(panel, "➕ Aggiungi data")).answered()
    await bot.settle()
    await carla.send("7/12 18:00")
    await bot.settle()
    assert "almeno 24 ore dopo la scadenza" in (fake.last_sent(carla).text or "")
    await carla.send("venerdì 18 dicembre ore 10")
    await bot.settle()
    assert fake.last_sent(carla).text == "Aggiunta al sondaggio: ven 18 dic 2026, 10:00."
    await bot.run_jobs()
    assert len(_slot_data(poll_msg)) == 4
    assert "ven 18 dic, 10:00" in (poll_msg.text or "")

    # Chiudi ora with nobody covering a Comune: no date, the coordinator is asked for new dates.
    first_slot = _slot_data(poll_msg)[0]
    await _vote(bot, u["sa"], poll_msg, first_slot, "n")
    taps_before = len(fake.presses_by(carla))
    panel = await _panel(bot, carla, poll_msg)
    await (await carla.press(panel, "🔒 Chiudi ora")).answered()
    await bot.settle()
    confirm = fake.last_sent(carla)
    assert "Per ora nessuna data va bene a nessun Comune." in (confirm.text or "")
    press = await carla.press(confirm, "Sì, chiudi")
    assert "senza data" in ((await press.answered()).text or "")
    assert len(fake.presses_by(carla)) - taps_before == 3  # ⚙️, Chiudi ora, Sì, chiudi
    await bot.settle()
    assert any("Proponi altre date con /riunione" in (m.text or "") for m in fake.sent_to(carla))
    assert "nessuna data va bene a nessun Comune" in (poll_msg.text or "")
    assert poll_msg.buttons == []
    # An old vote button (a stale client) is refused in a popup and stores nothing; so is the
    # old panel's.
    votes = await _count(bot, Vote)
    stale = await (await u["sb"].press_forged(poll_msg, f"vote:y:{first_slot}")).answered()
    assert stale.show_alert and "chiuso senza una data" in (stale.text or "")
    assert await _count(bot, Vote) == votes
    assert await _count(bot, Meeting) == 0
    old = await (await carla.press(panel, "⏳ Proroga")).answered()
    assert old.show_alert and (old.text or "").startswith("Questo sondaggio è già chiuso")

    # A second poll, cancelled.
    poll2 = await _create_poll_with_wizard(bot, team)
    panel = await _panel(bot, carla, poll2)
    await (await carla.press(panel, "🗑 Annulla sondaggio")).answered()
    await bot.settle()
    confirm = fake.last_sent(carla)
    press = await carla.press(confirm, "Sì, annulla il sondaggio")
    assert (await press.answered()).text == "Sondaggio annullato."
    await bot.settle()
    await bot.run_jobs()
    assert "Sondaggio annullato" in (poll2.text or "")
    async with bot.db.transaction() as session:
        statuses = [p.status for p in (await session.execute(select(MeetingPoll))).scalars()]
    assert statuses == [PollStatus.NO_DATE, PollStatus.CANCELLED]
    fake.write_transcript(".transcripts/test_coordinator_panel.txt")


async def test_who_may_propose_and_riunione_from_the_group(bot: BotUnderTest) -> None:
    fake = bot.fake
    team = await _team(bot)
    u = team.users
    # A technician may not propose.
    await u["tec"].send("/riunione")
    await bot.settle()
    assert "le propone chi coordina l'Unione" in (fake.last_sent(u["tec"]).text or "")
    # A Sindaco in the political group: the wizard goes to private, political table only.
    await u["sa"].send("/riunione", chat=team.group)
    await bot.settle()
    assert fake.last_sent(team.group).text == "Ti ho scritto in privato per preparare il sondaggio."
    assert "Scrivi il titolo della riunione" in (fake.last_sent(u["sa"]).text or "")
    # Someone who never started the bot is told how, with a button that opens the chat.
    u["sc"].has_started = False
    await u["sc"].send("/riunione", chat=team.group)
    await bot.settle()
    told = fake.last_sent(team.group)
    assert "premi Avvia" in (told.text or "")
    assert told.buttons == [[("💬 Apri la chat con me", f"https://t.me/{fake.bot.username}")]]


async def test_poll_message_of_an_uncertain_send_is_adopted(bot: BotUnderTest) -> None:
    """The poll reached the group but its message id was never recorded (a send that ended
    `uncertain`): the first vote on it adopts the message, and the tally follows."""
    from sqlalchemy import delete

    from storage.models import PollMessage

    team = await _team(bot)
    poll_msg = await _create_poll_with_wizard(bot, team)
    async with bot.db.transaction() as session:
        await session.execute(delete(PollMessage))
    slots = _slot_data(poll_msg)
    toast = await _vote(bot, team.users["sa"], poll_msg, slots[0], "y")
    assert toast.startswith("Registrato: ✅ Sì")
    await bot.settle()
    await bot.run_jobs()
    assert grid(poll_msg)["gio 10 dic, 17:00 — 1 Comune su 3"] == [
        "✅ Argelato",
        "Mancano: Bentivoglio, Castello",
    ]
    # Another bot message in the group does not become a poll by forged data.
    other = bot.fake.sent_to(team.group)[-1]
    await team.carla.send("/riunioni", chat=team.group)
    await bot.settle()
    listing = bot.fake.last_sent(team.group)
    assert listing is not other
    forged = await team.users["sb"].press_forged(listing, f"vote:y:{slots[1]}")
    assert "non è più valido" in ((await forged.answered()).text or "")
    assert await _count(bot, PollMessage) == 1
    # The label button shows who answered what.
    details = await team.users["sa"].press(poll_msg, f"mtg:answers:{slots[0]}")
    text = (await details.answered()).text or ""
    assert "La tua risposta: Sì" in text and "✅ Sara Argelato" in text


async def test_burst_with_the_rate_limiter_stays_within_group_limits(
    fake_telegram: FakeTelegram,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    """With PTB's AIORateLimiter (20 messages a minute per group) and the fake enforcing
    Telegram's limits: every press is answered at once, the edits coalesce, no 429."""
    fake_telegram.clock = clock
    harness = BotUnderTest(
        fake_telegram,
        clock,
        normalize_database_url(f"sqlite:///{tmp_path / 'bot.db'}"),
        rate_limiter=True,
    )
    await harness.start()
    try:
        team = await _team(harness)
        poll_msg = await _create_poll_with_wizard(harness, team)
        slots = _slot_data(poll_msg)
        fake_telegram.enforce_rate_limits = True
        edits_before = len(fake_telegram.calls_of("editMessageText"))
        presses = [
            await team.users[key].press(poll_msg, f"vote:{code}:{slot}")
            for code in "ymn"
            for key in ("sa", "aa", "sb", "ab", "sc", "ac")
            for slot in slots
        ]
        for press in presses:
            assert ((await press.answered()).text or "").startswith("Registrato")
        await harness.settle()
        await harness.run_jobs()
        await harness.tick()
        edits = len(fake_telegram.calls_of("editMessageText")) - edits_before
        assert 1 <= edits <= 6, edits
        assert fake_telegram.count_429 == 0
        assert "Hanno risposto 6 persone su 7." in (poll_msg.text or "")
        assert all(heading.endswith("nessun Comune per ora") for heading in grid(poll_msg))
    finally:
        await harness.stop()
