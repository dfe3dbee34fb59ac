"""Around the round: editing actions by hand, #aggiornamento, changing an answer, refusals."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from storage.models import (
    Action,
    ActionStatus,
    Conversation,
    ProgressUpdate,
    Role,
    TableKind,
    UpdateNote,
    UpdateRound,
    UpdateSource,
)
from tests.e2e.harness import BotUnderTest
from tests.fakes.fake_world import FakeMessage, FakePress, FakeUser
from tests.updates_factories import link_group, make_member, make_union

ROME = ZoneInfo("Europe/Rome")


async def press(bot: BotUnderTest, user: FakeUser, message: FakeMessage, button: str) -> str | None:
    p = await user.press(message, button)
    answer = await p.answered()
    await bot.settle()
    return answer.text


async def forge(bot: BotUnderTest, user: FakeUser, message: FakeMessage, data: str) -> str | None:
    """A press with callback data the client made up (any client can send any data)."""
    fake = bot.fake
    press = FakePress(id=str(secrets.randbits(62)), user=user, message=message, data=data)
    fake._presses[press.id] = press
    await fake.inject_update(
        {
            "callback_query": {
                "id": press.id,
                "from": user.to_api(),
                "message": message.to_api(),
                "chat_instance": "1",
                "data": data,
            }
        }
    )
    answer = await press.answered()
    await bot.settle()
    return answer.text


async def setup(
    bot: BotUnderTest, *, hashtag: bool = False, actions: tuple[str, ...] = ()
) -> dict[str, FakeUser]:
    """The Union Colline; `actions` names the Comuni that get one action each ("" = intercommunal)."""
    fake, now = bot.fake, bot.clock.now()
    carla = fake.add_user("Carla")
    tina = fake.add_user("Tina")
    sara = fake.add_user("Sara")
    ugo = fake.add_user("Ugo")  # not a member
    group = fake.create_group("Tecnici", carla, members=[tina, sara, ugo])
    await fake.add_bot_to_group(group, by=carla)
    async with bot.db.transaction() as s:
        union, comuni = await make_union(s, "Unione Colline", ["Canossa", "Vezzano"], now=now)
        await make_member(
            s,
            union,
            telegram_user_id=carla.id,
            name="Carla",
            role=Role.STAFF,
            coordinator=True,
            now=now,
        )
        await make_member(
            s,
            union,
            telegram_user_id=tina.id,
            name="Tina",
            role=Role.TECNICO,
            comuni=[comuni["Canossa"]],
            now=now,
        )
        await make_member(
            s,
            union,
            telegram_user_id=sara.id,
            name="Sara",
            role=Role.SINDACO,
            comuni=[comuni["Vezzano"]],
            now=now,
        )
        await link_group(
            s, union, chat_id=group.id, kind=TableKind.TECHNICAL, now=now, hashtag_capture=hashtag
        )
        for i, comune in enumerate(actions, start=1):
            s.add(
                Action(
                    union_id=union.id,
                    code=f"A-{i}",
                    title=f"Azione {i}",
                    municipality_id=comuni[comune].id if comune else None,
                    status=ActionStatus.NOT_STARTED,
                    progress=0,
                    created_at=now,
                    updated_at=now,
                )
            )
    for user in (carla, tina, sara):
        await user.send("/start")
    await bot.settle()
    return {"carla": carla, "tina": tina, "sara": sara, "ugo": ugo, "group": group}  # type: ignore[dict-item]


async def test_coordinator_adds_edits_and_archives_an_action(bot: BotUnderTest) -> None:
    fake = bot.fake
    people = await setup(bot)
    carla, sara = people["carla"], people["sara"]
    await carla.send("/azioni")
    await bot.settle()
    listing = fake.last_sent(carla)
    assert "Nessuna azione" in (listing.text or "")
    await press(bot, carla, listing, "➕ Nuova azione")
    await carla.send("CA-1")
    await bot.settle()
    await carla.send("Fotovoltaico <sul> municipio & scuola")
    await bot.settle()
    assert await press(bot, carla, fake.last_sent(carla), "Canossa") == "Azione creata."
    detail = fake.last_sent(carla)
    assert "CA-1" in (detail.text or "") and "Fotovoltaico <sul> municipio & scuola" in (
        detail.text or ""
    )
    await press(bot, carla, detail, "✏️ Modifica")
    await press(bot, carla, fake.last_sent(carla), "Fine")
    await carla.send("31/02/2027")
    await bot.settle()
    assert "Data non valida «31/02/2027». Riprova" in (fake.last_sent(carla).text or "")
    await carla.send("30/06/2027")
    await bot.settle()
    assert "Fine: 30/06/2027" in (fake.last_sent(carla).text or "")
    await press(bot, carla, fake.last_sent(carla), "✏️ Modifica")
    await press(bot, carla, fake.last_sent(carla), "Costo €")
    await carla.send("1.250.000,50")
    await bot.settle()
    assert "Costo: 1.250.000,50 €" in (fake.last_sent(carla).text or "")
    await press(bot, carla, fake.last_sent(carla), "✏️ Modifica")
    await press(bot, carla, fake.last_sent(carla), "Comune")
    assert await press(bot, carla, fake.last_sent(carla), "Vezzano") == "Salvato."
    assert "Comune: Vezzano" in (fake.last_sent(carla).text or "")
    # A mayor can read but not edit; a forged edit button is refused.
    await sara.send("/azioni")
    await bot.settle()
    assert "➕ Nuova azione" not in fake.last_sent(sara).button_texts
    async with bot.db.transaction() as s:
        action = (await s.execute(select(Action))).scalar_one()
        action_id = action.id
    assert await forge(bot, sara, fake.last_sent(sara), f"act:confirm_archive:{action_id}") == (
        "Solo chi coordina l'Unione può farlo."
    )
    assert await forge(bot, sara, fake.last_sent(sara), f"upd:status:{action_id}:completed") == (
        "Questo pulsante non è per te."
    )
    await press(bot, carla, fake.last_sent(carla), "🗄 Archivia")
    assert await press(bot, carla, fake.last_sent(carla), "🗄 Sì, archivia") == "Archiviata."
    async with bot.db.transaction() as s:
        action = (await s.execute(select(Action))).scalar_one()
        assert action.archived_at is not None and str(action.cost_eur) == "1250000.50"
    await carla.send("/azioni")
    await bot.settle()
    assert "Nessuna azione" in (fake.last_sent(carla).text or "")


async def test_hashtag_is_recorded_only_where_switched_on(bot: BotUnderTest) -> None:
    fake = bot.fake
    fake.privacy_mode = False  # #aggiornamento needs group privacy off (or the bot as admin)
    people = await setup(bot, hashtag=True)
    tina, ugo, group = people["tina"], people["ugo"], people["group"]
    await tina.send("#aggiornamento caldaia municipio sostituita", chat=group)  # type: ignore[arg-type]
    await ugo.send("#aggiornamento io non sono nel team", chat=group)  # type: ignore[arg-type]
    await tina.send("buongiorno a tutti", chat=group)  # type: ignore[arg-type]
    await bot.settle()
    async with bot.db.transaction() as s:
        notes = list((await s.execute(select(UpdateNote))).scalars())
    assert [(n.source, n.text) for n in notes] == [
        (UpdateSource.HASHTAG, "#aggiornamento caldaia municipio sostituita")
    ]
    assert [m.text for m in fake.sent_to(group)] == [
        "📝 Nota registrata per Canossa: i Sindaci la leggeranno nel prossimo riepilogo. Grazie!"
    ]


async def test_hashtag_ignored_when_off_and_non_technicians_refused(bot: BotUnderTest) -> None:
    fake = bot.fake
    fake.privacy_mode = False
    people = await setup(bot, hashtag=False)
    tina, sara, group = people["tina"], people["sara"], people["group"]
    await tina.send("#aggiornamento caldaia", chat=group)  # type: ignore[arg-type]
    await bot.settle()
    async with bot.db.transaction() as s:
        assert list((await s.execute(select(UpdateNote))).scalars()) == []
    await sara.send("/aggiornamento")
    await bot.settle()
    assert "funzionari tecnici" in (fake.last_sent(sara).text or "")
    await tina.send("/aggiornamento", chat=group)  # type: ignore[arg-type]
    await bot.settle()
    told = fake.last_sent(group)
    assert told.text == (
        "Gli aggiornamenti si danno in privato: apri la chat con me con il pulsante qui sotto e "
        "scrivi /aggiornamento."
    )
    assert told.buttons == [[("💬 Apri la chat con me", f"https://t.me/{fake.bot.username}")]]


async def test_technician_changes_an_answer_outside_the_round(bot: BotUnderTest) -> None:
    fake = bot.fake
    people = await setup(bot)
    carla, tina = people["carla"], people["tina"]
    csv_data = b"codice,titolo,comune\nCA-1,Caldaia,Canossa\nUN-1,Ufficio energia,Unione\n"
    await carla.send_document("azioni.csv", csv_data)
    await bot.settle()
    await press(bot, carla, fake.last_sent(carla), "✅ Conferma")
    bot.clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=ROME))
    await tina.send("/aggiornamento")
    await bot.settle()
    q = fake.last_sent(tina)
    # No round open: the list, to update whatever changed.
    assert "CA-1" in (q.text or "") and "Aggiornamento delle azioni" in (q.text or "")
    assert "👌 Nessuna novità questo mese" not in q.button_texts
    await press(bot, tina, q, "CA-1")
    assert "Azione 1 di 2: CA-1" in (q.text or "")
    assert await press(bot, tina, q, "🔄 In corso") == "Salvato"
    # A typed number is the percentage of the answer just saved.
    await tina.send("40 %")
    await bot.settle()
    assert "CA-1: avanzamento 40%" in (fake.last_sent(tina).text or "")
    # Back to CA-1 from the list, and the answer changes: a new row of the history.
    await press(bot, tina, q, "CA-1")
    assert await press(bot, tina, q, "✅ Completata") == "Salvato"
    async with bot.db.transaction() as s:
        action = (await s.execute(select(Action).where(Action.code == "CA-1"))).scalar_one()
        updates = list(
            (await s.execute(select(ProgressUpdate).order_by(ProgressUpdate.id))).scalars()
        )
    assert (action.status, action.progress) == (ActionStatus.COMPLETED, 100)
    assert [(u.status, u.progress, u.round_id) for u in updates] == [
        (ActionStatus.ONGOING, 40, None),
        (ActionStatus.COMPLETED, 100, None),
    ]
    assert updates[1].previous_progress == 40
    # Garbage and someone else's ids are refused; nothing changes.
    sara = people["sara"]
    await sara.send("/start")
    await bot.settle()
    own = fake.last_sent(sara)
    assert await forge(bot, sara, own, "upd:same:999999") == "Questa azione non esiste più."
    assert await forge(bot, sara, own, "upd:progress:abc:50") is None
    async with bot.db.transaction() as s:
        assert len(list((await s.execute(select(ProgressUpdate))).scalars())) == 2


async def test_round_reaches_a_technician_who_joins_while_it_is_open(bot: BotUnderTest) -> None:
    fake, clock = bot.fake, bot.clock
    people = await setup(bot, actions=("Canossa", "Vezzano"))
    tina = people["tina"]
    clock.set(datetime(2026, 12, 20, 10, 0, tzinfo=ROME))  # no meeting: the fallback day
    await bot.tick()
    assert sum("Aggiornamento di dicembre 2026" in (m.text or "") for m in fake.sent_to(tina)) == 1
    lea = fake.add_user("Lea")
    await lea.send("/start")
    async with bot.db.transaction() as s:
        from storage.models import Municipality
        from storage.models import Union as UnionModel

        union = (await s.execute(select(UnionModel))).scalar_one()
        vezzano = (
            await s.execute(select(Municipality).where(Municipality.name == "Vezzano"))
        ).scalar_one()
        await make_member(
            s,
            union,
            telegram_user_id=lea.id,
            name="Lea",
            role=Role.TECNICO,
            comuni=[vezzano],
            now=clock.now(),
        )
    await bot.advance(minutes=1)
    await bot.advance(minutes=1)
    invites = [m for m in fake.sent_to(lea) if "Aggiornamento di dicembre 2026" in (m.text or "")]
    assert len(invites) == 1 and "entro ven 25 dic, 10:00" in (invites[0].text or "")
    assert sum("Aggiornamento di dicembre 2026" in (m.text or "") for m in fake.sent_to(tina)) == 1


async def test_list_pages_filters_template_and_csv_export(bot: BotUnderTest) -> None:
    fake = bot.fake
    people = await setup(bot)
    carla, tina = people["carla"], people["tina"]
    lines = ["codice;titolo;comune"] + [
        f"A{i:02d};Azione {i};{'Canossa' if i % 2 else 'Vezzano'}" for i in range(1, 21)
    ]
    await carla.send_document("tante.csv", "\n".join(lines).encode("utf-8-sig"))
    await bot.settle()
    await press(bot, carla, fake.last_sent(carla), "✅ Conferma")
    await tina.send("/azioni")
    await bot.settle()
    listing = fake.last_sent(tina)
    assert "20 azioni — pagina 1 di 2" in (listing.text or "")
    await press(bot, tina, listing, "▶️")
    assert "pagina 2 di 2" in (fake.last_sent(tina).text or "")
    await press(bot, tina, fake.last_sent(tina), "🏘 Comune")
    await press(bot, tina, fake.last_sent(tina), "Canossa")
    filtered = fake.last_sent(tina).text or ""
    assert "Filtro: Canossa" in filtered and "10 azioni" in filtered
    assert "A01" in filtered and "A02" not in filtered
    await press(bot, tina, fake.last_sent(tina), "📊 Stato")
    await press(bot, tina, fake.last_sent(tina), "✅ Completata")
    assert "Nessuna azione" in (fake.last_sent(tina).text or "")
    # The coordinator downloads the template and a CSV export.
    await carla.send("/azioni")
    await bot.settle()
    await press(bot, carla, fake.last_sent(carla), "📥 Modello")
    template = fake.last_sent(carla)
    assert (
        template.document is not None and template.document.file_name == "modello_azioni_paes.xlsx"
    )
    await press(bot, carla, fake.sent_to(carla)[-2], "📤 CSV")
    exported = fake.last_sent(carla)
    assert exported.document is not None
    content = exported.document.content.decode("utf-8-sig")
    assert content.splitlines()[0].startswith("codice;titolo;settore;comune;")
    assert len(content.splitlines()) == 21
    # A technician cannot download the coordinator's files even with a forged button.
    async with bot.db.transaction() as s:
        from storage.models import Union as UnionModel

        union_id = (await s.execute(select(UnionModel))).scalar_one().id
    assert await forge(bot, tina, fake.last_sent(tina), f"act:export:{union_id}:csv") == (
        "Solo chi coordina l'Unione può farlo."
    )


async def test_catch_up_opens_a_round_only_while_its_deadline_is_ahead(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    fake, clock = bot.fake, bot.clock
    people = await setup(bot, actions=("Canossa",))
    tina = people["tina"]
    # The bot was down on the 20th; back on the 23rd, the fallback round still has time.
    clock.set(datetime(2026, 12, 23, 8, 0, tzinfo=ROME))
    await bot.tick()
    async with bot.db.transaction() as s:
        rounds = list((await s.execute(select(UpdateRound))).scalars())
    assert [(r.period, r.deadline_at) for r in rounds] == [
        ("2026-12", datetime(2026, 12, 25, 10, 0, tzinfo=ROME).astimezone(UTC))
    ]
    assert any("Aggiornamento di dicembre 2026" in (m.text or "") for m in fake.sent_to(tina))
    # Down again from the 19th of January to the 26th: that round's deadline has passed.
    clock.set(datetime(2027, 1, 26, 9, 0, tzinfo=ROME))
    with caplog.at_level(logging.WARNING):
        await bot.tick()
        await bot.tick()
    async with bot.db.transaction() as s:
        periods = [r.period for r in (await s.execute(select(UpdateRound))).scalars()]
    assert periods == ["2026-12"]
    skipped = [
        r for r in caplog.records if "2027-01" in r.getMessage() and "skipped" in r.getMessage()
    ]
    assert len(skipped) == 1
    assert not any("gennaio 2027" in (m.text or "") for m in fake.sent_to(tina))


async def test_an_english_speaking_technician_reads_english(bot: BotUnderTest) -> None:
    fake, clock = bot.fake, bot.clock
    people = await setup(bot)
    john = fake.add_user("John", language_code="en")
    await john.send("/start")
    async with bot.db.transaction() as s:
        from storage.models import Municipality
        from storage.models import Union as UnionModel

        union = (await s.execute(select(UnionModel))).scalar_one()
        vezzano = (
            await s.execute(select(Municipality).where(Municipality.name == "Vezzano"))
        ).scalar_one()
        await make_member(
            s,
            union,
            telegram_user_id=john.id,
            name="John",
            role=Role.TECNICO,
            comuni=[vezzano],
            now=clock.now(),
            telegram_language="en",
        )
    carla = people["carla"]
    await carla.send_document("a.csv", b"codice;titolo;comune\nVE-1;Caldaia;Vezzano\n")
    await bot.settle()
    await press(bot, carla, fake.last_sent(carla), "✅ Conferma")
    clock.set(datetime(2026, 12, 20, 10, 0, tzinfo=ROME))
    await bot.tick()
    invite = fake.last_sent(john)
    assert "December 2026 update" in (invite.text or "")
    assert invite.button_texts == ["VE-1", "👌 Nothing new this month"]
    await press(bot, john, invite, "VE-1")
    assert "Action 1 of 1: VE-1" in (invite.text or "")
    assert "✔️ Unchanged" in invite.button_texts and "✅ Completed" in invite.button_texts


async def test_technician_without_actions_is_not_asked_until_actions_are_loaded(
    bot: BotUnderTest,
) -> None:
    """A round message with nothing to update would only puzzle a technician: the coordinator is
    told instead, and loading the actions during the round reaches the technician at once."""
    fake, clock = bot.fake, bot.clock
    people = await setup(bot)
    carla, tina, group = people["carla"], people["tina"], people["group"]
    lea = fake.add_user("Lea")
    await lea.send("/start")
    async with bot.db.transaction() as s:
        from storage.models import Municipality
        from storage.models import Union as UnionModel

        union = (await s.execute(select(UnionModel))).scalar_one()
        vezzano = (
            await s.execute(select(Municipality).where(Municipality.name == "Vezzano"))
        ).scalar_one()
        await make_member(
            s,
            union,
            telegram_user_id=lea.id,
            name="Lea",
            role=Role.TECNICO,
            comuni=[vezzano],
            now=clock.now(),
        )
    await bot.settle()
    clock.set(datetime(2026, 12, 20, 10, 0, tzinfo=ROME))
    await bot.tick()
    for person in (tina, lea, group):
        assert not any("Aggiornamento di dicembre" in (m.text or "") for m in fake.sent_to(person))  # type: ignore[arg-type]
    opened = fake.last_sent(carla).text or ""
    assert "non l'ho chiesto a Lea (Vezzano), Tina (Canossa)" in opened
    assert "Caricale con /azioni" in opened
    await carla.send("/aggiornamento stato")
    await bot.settle()
    status = fake.last_sent(carla).text or ""
    assert "📭 Senza azioni da aggiornare (2)" in status
    assert "✅ Hanno risposto (0)" in status
    # The coordinator loads an action for Canossa: Tina is asked at the next tick, Lea still not.
    await carla.send_document("a.csv", b"codice;titolo;comune\nCA-1;Caldaia;Canossa\n")
    await bot.settle()
    await press(bot, carla, fake.last_sent(carla), "✅ Conferma")
    await bot.advance(minutes=1)
    invites = [m for m in fake.sent_to(tina) if "Aggiornamento di dicembre 2026" in (m.text or "")]
    assert len(invites) == 1 and "CA-1 Caldaia: ⚪ Non avviata" in (invites[0].text or "")
    assert not any("Aggiornamento di dicembre" in (m.text or "") for m in fake.sent_to(lea))


# --- buttons of private dialogues pressed in a group: the answer opens the private chat ------


async def group_anchor(bot: BotUnderTest) -> tuple[dict[str, FakeUser], Action, FakeMessage]:
    """The Union with one action in Canossa (Tina's), and a bot message in the technical group
    to press forged buttons on."""
    people = await setup(bot, actions=("Canossa",))
    async with bot.db.transaction() as s:
        action = (await s.execute(select(Action))).scalar_one()
    await people["tina"].send("/aggiornamento", chat=people["group"])  # type: ignore[arg-type]
    await bot.settle()
    return people, action, bot.fake.last_sent(people["group"])  # type: ignore[arg-type]


async def test_an_update_button_in_a_group_opens_the_dialogue_in_private(
    any_bot: BotUnderTest,
) -> None:
    """answerCallbackQuery's url (t.me/<bot>?start=upd-<union>): the client opens the private
    chat, whose «Avvia» sends /start upd-<union>, which opens the update dialogue for whoever
    may give updates, and refuses anyone else."""
    bot = any_bot
    fake = bot.fake
    people, action, anchor = await group_anchor(bot)
    tina, sara, ugo = people["tina"], people["sara"], people["ugo"]
    union_id = action.union_id
    link = f"https://t.me/{fake.bot.username}?start=upd-{union_id}"
    for data in (f"upd:pick:{action.id}", f"upd:list:{union_id}"):
        answer = await (await tina.press_forged(anchor, data)).answered()
        assert (answer.text, answer.url) == (
            "Gli aggiornamenti si danno in privato: ti apro la chat con me, premi Avvia.",
            link,
        )
    # A button that names nothing opens nothing: the toast says where to go.
    answer = await (await tina.press_forged(anchor, "upd:pick:999999")).answered()
    assert answer.url is None
    assert answer.text == (
        "Gli aggiornamenti si danno in privato: scrivimi /aggiornamento in chat con me."
    )
    await bot.settle()

    # «Avvia» in the chat the link opened: the technician's list, as /aggiornamento shows it.
    await tina.send(f"/start upd-{union_id}")
    await bot.settle()
    shown = fake.last_sent(tina)
    assert "A-1" in shown.button_texts
    await press(bot, tina, shown, "A-1")
    assert "✔️ Invariata" in fake.last_sent(tina).button_texts  # the dialogue goes on

    # Not for everyone who has the link: a Sindaco gives no updates, a stranger is not in the
    # team; neither gets a dialogue.
    await sara.send(f"/start upd-{union_id}")
    await ugo.send(f"/start upd-{union_id}")
    await bot.settle()
    assert fake.last_sent(sara).text == (
        "Gli aggiornamenti sulle azioni li danno i funzionari tecnici dei Comuni."
    )
    assert fake.last_sent(ugo).text == (
        "Gli aggiornamenti di questa Unione li danno i funzionari tecnici del suo Team energia."
    )
    async with bot.db.transaction() as s:
        open_dialogues = (await s.execute(select(Conversation.telegram_user_id))).scalars()
        assert set(open_dialogues) == {tina.id}


async def test_history_in_a_group_opens_the_private_chat_when_the_bot_cannot_write(
    any_bot: BotUnderTest,
) -> None:
    """«Storico» pressed in a group by someone who blocked the bot: the answer opens the
    private chat (t.me/<bot>?start=hist-<action>), whose «Avvia» brings the history; the
    link shows it to no one the button would not show it to."""
    bot = any_bot
    fake = bot.fake
    people, action, anchor = await group_anchor(bot)
    tina, sara, ugo = people["tina"], people["sara"], people["ugo"]
    answer = await (await tina.press_forged(anchor, f"act:history:{action.id}")).answered()
    assert (answer.text, answer.url) == ("Ti ho mandato lo storico in privato.", None)
    assert "Storico di A-1" in (fake.last_sent(tina).text or "")

    await tina.block_bot()
    await bot.settle()
    answer = await (await tina.press_forged(anchor, f"act:history:{action.id}")).answered()
    assert answer.text == (
        "Lo storico te lo mando in privato: ti apro la chat con me, premi Avvia."
    )
    assert answer.url == f"https://t.me/{fake.bot.username}?start=hist-{action.id}"
    await bot.settle()
    await tina.send(f"/start hist-{action.id}")  # writing again unblocks the bot
    await bot.settle()
    assert "Storico di A-1" in (fake.last_sent(tina).text or "")

    # The Sindaco of another Comune and a stranger are refused, as the button refuses them.
    for someone in (sara, ugo):
        await someone.send(f"/start hist-{action.id}")
        await bot.settle()
        assert fake.last_sent(someone).text == (
            "Lo storico di questa azione lo vedono i membri del suo Comune."
        )
