"""The monthly round in as few taps as what changed (issue 16), through the real bot.

A technician gets the round's invitation (opened by the tick on the fallback day), taps only
the actions that changed — a state saves at once, the percentage row comes back with last
month's value marked —, and ends with «Il resto è invariato». The fake counts the taps
(`presses_by`): 30 actions with 3 changed in ≤ 10, 5 with 2 changed in ≤ 7, a month with
nothing new in 1. Before issue 16 the same rounds took 90 and 16 taps (each action: its state,
its percentage, «💾 Salva»; no «Invariata»).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage.models import (
    Action,
    ActionStatus,
    ProgressUpdate,
    Role,
    RoundResponse,
    TableKind,
    UpdateAttachment,
)
from tests.e2e.harness import BotUnderTest
from tests.fakes.fake_world import FakeMessage, FakeUser
from tests.updates_factories import link_group, make_member, make_union

ROME = ZoneInfo("Europe/Rome")
OPENING = datetime(2026, 12, 20, 10, 0, tzinfo=ROME)  # the fallback day: no meeting fixed
TITLES = (
    "Fotovoltaico sulla scuola media",
    "Relamping LED illuminazione pubblica",
    "Cappotto termico palestra",
    "Sportello energia per i cittadini",
    "Caldaie a condensazione municipio",
    "Pista ciclabile della stazione",
)


async def setup(bot: BotUnderTest, *, actions: int) -> tuple[FakeUser, FakeUser, FakeUser]:
    """Bibbiano with `actions` actions (Tina), Montecchio with 5 (Marco), Carla coordinating.
    The actions are under way at various percentages, as after a few rounds."""
    fake, now = bot.fake, bot.clock.now()
    carla = fake.add_user("Carla", "Coordinatrice")
    tina = fake.add_user("Tina", "Tecnica")
    marco = fake.add_user("Marco", "Ferri")
    group = fake.create_group("Tavolo tecnico Val d'Enza", carla, members=[tina, marco])
    await fake.add_bot_to_group(group, by=carla)
    async with bot.db.transaction() as s:
        union, comuni = await make_union(
            s, "Unione Val d'Enza", ["Bibbiano", "Montecchio Emilia"], now=now
        )
        await make_member(
            s,
            union,
            telegram_user_id=carla.id,
            name="Carla",
            role=Role.STAFF,
            coordinator=True,
            now=now,
        )
        for user, name, comune, count in (
            (tina, "Tina", "Bibbiano", actions),
            (marco, "Marco", "Montecchio Emilia", 5),
        ):
            await make_member(
                s,
                union,
                telegram_user_id=user.id,
                name=name,
                role=Role.TECNICO,
                comuni=[comuni[comune]],
                now=now,
            )
            for n in range(count):
                s.add(
                    Action(
                        union_id=union.id,
                        municipality_id=comuni[comune].id,
                        code=f"{comune[:2].upper()}-{n + 1:02d}",
                        title=TITLES[n % len(TITLES)],
                        status=ActionStatus.ONGOING,
                        progress=(10 * n) % 90 + 10,
                        created_at=now,
                        updated_at=now,
                    )
                )
        await link_group(s, union, chat_id=group.id, kind=TableKind.TECHNICAL, now=now)
    for user in (carla, tina, marco):
        await user.send("/start")
    bot.clock.set(OPENING)
    await bot.tick()
    await bot.settle()
    return carla, tina, marco


def invitation(bot: BotUnderTest, user: FakeUser) -> FakeMessage:
    sent = [m for m in bot.fake.sent_to(user) if "Aggiornamento di dicembre" in (m.text or "")]
    assert len(sent) == 1, [m.text for m in bot.fake.sent_to(user)]
    return sent[0]


async def tap(bot: BotUnderTest, user: FakeUser, message: FakeMessage, button: str) -> str:
    """Press a button whose text starts with `button` (a code, «● 50%»…); the toast."""
    label = next(
        (t for t in message.button_texts if t == button or t.removeprefix("✔️ ") == button),
        None,
    ) or next((t for t in message.button_texts if t.startswith(button)), None)
    assert label is not None, f"no {button!r} in {message.button_texts}"
    press = await user.press(message, label)
    answer = await press.answered()
    await bot.settle()
    return answer.text or ""


async def answer(
    bot: BotUnderTest, user: FakeUser, message: FakeMessage, code: str, status: str, pct: str = ""
) -> None:
    """Tap the action, its state (saved at once), maybe its new percentage: back on the list."""
    await tap(bot, user, message, code)
    assert "Com'è adesso?" in (message.text or "")
    assert await tap(bot, user, message, status) == "Salvato"
    assert "💾 Salvato" in (message.text or "")
    if pct:
        assert await tap(bot, user, message, pct) == pct


async def updates_of(bot: BotUnderTest, code_prefix: str) -> dict[str, list[ProgressUpdate]]:
    async with bot.db.transaction() as s:
        rows = (
            await s.execute(
                select(Action.code, ProgressUpdate)
                .join(Action, Action.id == ProgressUpdate.action_id)
                .where(Action.code.startswith(code_prefix))
                .order_by(ProgressUpdate.id)
            )
        ).all()
    out: dict[str, list[ProgressUpdate]] = {}
    for code, update in rows:
        out.setdefault(code, []).append(update)
    return out


def confirmation(u: ProgressUpdate) -> bool:
    return u.previous_status == u.status and u.previous_progress == u.progress


async def test_thirty_actions_three_changed_in_at_most_ten_taps(any_bot: BotUnderTest) -> None:
    bot = any_bot
    fake = bot.fake
    carla, tina, marco = await setup(bot, actions=30)
    message = invitation(bot, tina)
    # The invitation is the list: one button per action, and «Nessuna novità» for a quiet month.
    assert "BI-01" in message.button_texts and "BI-30" in message.button_texts
    assert "👌 Nessuna novità questo mese" in message.button_texts
    assert "Tocca solo le azioni che sono cambiate" in (message.text or "")

    await answer(bot, tina, message, "BI-03", "✅ Completata")
    # Once something is answered, the rest can be confirmed in one tap.
    assert "✔️ Il resto è invariato" in message.button_texts
    assert "✔️ BI-03" in message.button_texts
    await answer(bot, tina, message, "BI-12", "🔄 In corso")
    # The percentage row starts from last month's value (BI-12 was at 30 %), marked.
    assert "● 30%" in message.button_texts
    assert await tap(bot, tina, message, "75%") == "75%"
    await answer(bot, tina, message, "BI-20", "⏸ Rinviata")
    assert "● 20%" in message.button_texts  # BI-20 was at 20 %: kept, offered, marked
    assert await tap(bot, tina, message, "25%") == "25%"
    assert "● 25%" in message.button_texts
    assert await tap(bot, tina, message, "✔️ Il resto è invariato") == (
        "Registrato: il resto è invariato"
    )
    assert "le 27 azioni che mancavano" in (message.text or "")
    taps = len(fake.presses_by(tina))
    assert taps == 9 and taps <= 10

    updates = await updates_of(bot, "BI-")
    assert len(updates) == 30 and all(len(u) == 1 for u in updates.values())
    changed = {c: u[0] for c, u in updates.items() if not confirmation(u[0])}
    assert set(changed) == {"BI-03", "BI-12", "BI-20"}
    assert (changed["BI-03"].status, changed["BI-03"].progress) == (ActionStatus.COMPLETED, 100)
    assert (changed["BI-12"].previous_progress, changed["BI-12"].progress) == (30, 75)
    assert (changed["BI-20"].status, changed["BI-20"].progress) == (ActionStatus.POSTPONED, 25)
    assert all(u[0].round_id is not None for u in updates.values())

    # The coordinator sees Tina as answered; Marco, who did nothing, not yet.
    await carla.send("/aggiornamento stato")
    await bot.settle()
    status = fake.last_sent(carla).text or ""
    assert "Tina" in status.split("⏳")[0] and "Marco" in status.split("⏳")[1]
    # What moved apart from what was confirmed as it was, not «30 di 30».
    assert "• Tina (Bibbiano) — 3 aggiornate, 27 invariate" in status
    assert "30 di 30" not in status
    assert "• Marco (Montecchio Emilia) — 0 di 5 azioni" in status

    # Three days later the first reminder goes to Marco only: Tina's reminders have stopped.
    await bot.advance(timedelta(days=3, minutes=1))
    reminders = lambda user: [  # noqa: E731
        m for m in fake.sent_to(user) if (m.text or "").startswith("⏰ Promemoria")
    ]
    assert len(reminders(marco)) == 1 and reminders(tina) == []
    await bot.advance(timedelta(days=1, hours=23))  # the day before the deadline
    assert len(reminders(marco)) == 2 and reminders(tina) == []

    # The history shows that the other actions were checked, not forgotten.
    await tina.send("/azioni")
    await bot.settle()


async def test_five_actions_two_changed_in_at_most_seven_taps(bot: BotUnderTest) -> None:
    _carla, tina, _marco = await setup(bot, actions=5)
    message = invitation(bot, tina)
    await answer(bot, tina, message, "BI-02", "🔄 In corso", "50%")
    await answer(bot, tina, message, "BI-05", "⏸ Rinviata", "75%")
    await tap(bot, tina, message, "✔️ Il resto è invariato")
    taps = len(bot.fake.presses_by(tina))
    assert taps == 7
    updates = await updates_of(bot, "BI-")
    assert sorted(c for c, u in updates.items() if not confirmation(u[0])) == ["BI-02", "BI-05"]
    assert sorted(c for c, u in updates.items() if confirmation(u[0])) == [
        "BI-01",
        "BI-03",
        "BI-04",
    ]


async def test_a_month_with_nothing_new_is_one_tap(bot: BotUnderTest) -> None:
    fake = bot.fake
    _carla, tina, marco = await setup(bot, actions=30)
    message = invitation(bot, tina)
    assert await tap(bot, tina, message, "👌 Nessuna novità questo mese") == (
        "Registrato: nessuna novità."
    )
    assert len(fake.presses_by(tina)) == 1
    async with bot.db.transaction() as s:
        assert len((await s.execute(select(RoundResponse))).scalars().all()) == 1
    await bot.advance(timedelta(days=3, minutes=1))
    assert [m for m in fake.sent_to(tina) if (m.text or "").startswith("⏰")] == []
    assert [m for m in fake.sent_to(marco) if (m.text or "").startswith("⏰")] != []


async def test_a_restart_in_the_middle_of_the_round_loses_nothing(any_bot: BotUnderTest) -> None:
    bot = any_bot
    fake = bot.fake
    _carla, tina, marco = await setup(bot, actions=5)
    message = invitation(bot, tina)
    await tap(bot, tina, message, "BI-02")
    await bot.restart()
    # The action's question survives the restart; its state saves at once.
    assert await tap(bot, tina, message, "🔄 In corso") == "Salvato"
    await bot.restart()
    # The percentage row of the answer just saved still completes the same row.
    assert await tap(bot, tina, message, "50%") == "50%"
    await tina.send("Ditta incaricata, lavori ripresi a novembre")
    await bot.settle()
    assert "📝 Nota aggiunta a BI-02" in (fake.last_sent(tina).text or "")
    await tina.send_photo(b"\xff\xd8cantiere", caption=None)
    await bot.settle()
    assert "📎 Allegato aggiunto a BI-02" in (fake.last_sent(tina).text or "")
    await tap(bot, tina, message, "⚖️ Serve una decisione")
    await bot.restart()
    await tina.send("Serve variare il bilancio per il secondo lotto?")
    await bot.settle()
    assert "⚖️ Questione per il tavolo politico aggiunta a BI-02" in (
        fake.last_sent(tina).text or ""
    )
    # «Invariata» for one more, then the rest, all from the same list.
    await tap(bot, tina, message, "BI-04")
    assert await tap(bot, tina, message, "✔️ Invariata") == "Confermata invariata"
    assert "✔️ Confermata invariata: BI-04" in (message.text or "")
    assert not any(t.endswith("%") for t in message.button_texts)  # nothing to change there
    await bot.restart()
    await tap(bot, tina, message, "✔️ Il resto è invariato")
    updates = await updates_of(bot, "BI-")
    assert len(updates) == 5 and all(len(u) == 1 for u in updates.values())
    bi2 = updates["BI-02"][0]
    assert (bi2.status, bi2.previous_progress, bi2.progress) == (ActionStatus.ONGOING, 20, 50)
    assert bi2.note == "Ditta incaricata, lavori ripresi a novembre"
    assert bi2.needs_decision and bi2.decision_question == (
        "Serve variare il bilancio per il secondo lotto?"
    )
    assert confirmation(updates["BI-04"][0])
    async with bot.db.transaction() as s:
        attached = (await s.execute(select(UpdateAttachment))).scalars().all()
        assert [a.update_id for a in attached] == [bi2.id]
        action = (await s.execute(select(Action).where(Action.code == "BI-02"))).scalar_one()
        assert (action.status, action.progress) == (ActionStatus.ONGOING, 50)
    await bot.advance(timedelta(days=3, minutes=1))
    assert [m for m in fake.sent_to(tina) if (m.text or "").startswith("⏰")] == []
    assert [m for m in fake.sent_to(marco) if (m.text or "").startswith("⏰")] != []
