"""The registration story, end to end, as people live it.

A coordinator creates a Union, adds three Comuni and makes an invite; four people join through
it with different Comuni and roles; one is rejected; /team shows the right roster; both groups
are linked; a stranger can see nothing and change nothing. Then the bad inputs.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.config import normalize_database_url
from storage.models import Invite, LinkedChat, Member, MemberStatus, Municipality, Person, TableKind
from tests.e2e.harness import BotUnderTest
from tests.fakes.fake_world import FakeMessage, FakeUser
from tests.fakes.telegram_server import FakeTelegram

LINK_RE = re.compile(r"https://t\.me/(\w+)\?start=([A-Za-z0-9_-]+)")


async def say(bot: BotUnderTest, user: FakeUser, text: str, chat: object = None) -> FakeMessage:
    await user.send(text, chat=chat)  # type: ignore[arg-type]
    await bot.settle()
    return bot.fake.last_sent(chat if chat is not None else user)  # type: ignore[arg-type]


async def press(bot: BotUnderTest, user: FakeUser, message: FakeMessage, label: str) -> str | None:
    pressed = await user.press(message, label)
    answer = await pressed.answered()
    await bot.settle()
    return answer.text


def invite_token(message: FakeMessage) -> str:
    match = LINK_RE.search(message.text or "")
    assert match, message.text
    return match.group(2)


async def join(
    bot: BotUnderTest,
    user: FakeUser,
    token: str,
    comune: str | None,
    role: str | None,
    name: str | None,
) -> FakeMessage:
    """Open the invite, type another name if given, answer the questions (the role's button
    sends the request; `role` None: the invite fixes it, its masculine form is pressed);
    returns the bot's last message."""
    fake = bot.fake
    await say(bot, user, f"/start {token}")
    sent = fake.sent_to(user)
    assert "Privacy" in sent[-2].text  # the notice comes before the questions
    assert "Nel team ti vedranno come" in sent[-2].text
    prompt = sent[-1]
    if name is not None:
        await say(bot, user, name)
        assert "nel team ti vedranno come" in fake.sent_to(user)[-2].text
        prompt = fake.last_sent(user)
    if comune is not None:
        await press(bot, user, prompt, comune)
        prompt = fake.last_sent(user)
    if role is None:
        role = prompt.button_texts[1]  # «Funzionaria tecnica | Funzionario tecnico»
    await press(bot, user, prompt, role)
    return fake.last_sent(user)


def request_for(fake: FakeTelegram, coordinator: FakeUser, name: str) -> FakeMessage:
    for message in reversed(fake.sent_to(coordinator)):
        if "Nuova richiesta" in (message.text or "") and name in (message.text or ""):
            return message
    raise AssertionError(f"no request for {name}")


async def member_id(bot: BotUnderTest, name: str) -> int:
    async with bot.db.transaction() as session:
        row = await session.execute(
            select(Member.id)
            .join(Person, Person.id == Member.person_id)
            .where(Person.display_name == name)
        )
        return int(row.scalar_one())


async def status_of(bot: BotUnderTest, name: str) -> MemberStatus:
    async with bot.db.transaction() as session:
        row = await session.execute(
            select(Member.status)
            .join(Person, Person.id == Member.person_id)
            .where(Person.display_name == name)
        )
        return MemberStatus(row.scalar_one())


async def snapshot(bot: BotUnderTest) -> tuple[object, ...]:
    """Everything a stranger might try to change."""
    async with bot.db.transaction() as session:
        members = sorted(
            (m.id, m.status.value, m.role.value, m.is_coordinator)
            for m in (await session.execute(select(Member))).scalars()
        )
        muns = sorted(
            (m.id, m.name, m.archived_at is None)
            for m in (await session.execute(select(Municipality))).scalars()
        )
        invites = sorted(
            (i.id, i.revoked_at is None, i.uses)
            for i in (await session.execute(select(Invite))).scalars()
        )
        links = sorted(
            (li.union_id, li.table_kind.value, li.chat_id)
            for li in (await session.execute(select(LinkedChat))).scalars()
        )
        people = (
            await session.execute(
                select(func.count()).select_from(Person).where(Person.erased_at.is_not(None))
            )
        ).scalar_one()
    return (members, muns, invites, links, people)


async def test_registration_story(bot: BotUnderTest) -> None:
    fake = bot.fake
    giulia = fake.add_user("Giulia", "Neri", username="giulia_unione")
    mario = fake.add_user("Mario", "Rossi")
    anna = fake.add_user("Anna", "Bianchi")
    luca = fake.add_user("Luca", "Verdi")
    paolo = fake.add_user("Paolo", "Gialli")
    eve = fake.add_user("Eve", "Estranea")

    # The coordinator creates the Union and adds three Comuni in one message.
    created = await say(bot, giulia, "/crea_unione Unione Reno Galliera")
    assert "Hai creato <b>Unione Reno Galliera</b>" in (created.raw_text or "")
    prompt = await say(bot, giulia, "/comuni")
    assert "separati da virgola" in prompt.text
    listing = await say(bot, giulia, "Argelato, Bentivoglio, Castel d’Argile")
    assert "Aggiunti: Argelato, Bentivoglio, Castel d’Argile" in listing.text
    again = await say(bot, giulia, "/comuni")
    await press(bot, giulia, again, "➕ Aggiungi Comuni")
    dup = await say(bot, giulia, "castel d'argile, ARGELATO")
    assert (
        "Già presenti: Argelato, Castel d’Argile" in dup.text
        or "Già presenti: Castel d’Argile, Argelato" in dup.text
    )
    assert "Non ho aggiunto nulla" in dup.text
    await press(bot, giulia, dup, "Annulla")

    # An open invite.
    invites = await say(bot, giulia, "/invito")
    await press(bot, giulia, invites, "🔗 Nuovo link per chiunque")
    link_message = fake.last_sent(giulia)
    token = invite_token(link_message)
    assert len(token) == 32

    # Four people join with different Comuni and roles.
    done = await join(bot, mario, token, "Argelato", "Sindaco", None)
    assert "Richiesta inviata" in done.text
    await join(bot, anna, token, "Argelato", "Assessore", "Anna Bianchi (assessora)")
    await join(bot, luca, token, "Bentivoglio", "Funzionario tecnico", None)
    await join(bot, paolo, token, "Castel d’Argile", "Sindaco", None)

    # A stranger forging the approval buttons changes nothing.
    paolo_request = request_for(fake, giulia, "Paolo Gialli")
    paolo_member = await member_id(bot, "Paolo Gialli")
    eve_chat_message = await say(bot, eve, "/start")
    for data in (f"appr:approve:{paolo_member}", f"appr:reject:{paolo_member}"):
        forged = await eve.press_forged(eve_chat_message, data)
        assert "Solo chi coordina l'Unione" in ((await forged.answered()).text or "")
    stolen = await eve.press(paolo_request, "✅ Approva")  # even on the coordinator's own message
    assert "Solo chi coordina l'Unione" in ((await stolen.answered()).text or "")
    await bot.settle()
    assert await status_of(bot, "Paolo Gialli") == MemberStatus.PENDING

    # The coordinator approves three, rejects one.
    for name in ("Mario Rossi", "Anna Bianchi (assessora)", "Luca Verdi"):
        toast = await press(bot, giulia, request_for(fake, giulia, name), "✅ Approva")
        assert toast == "Approvata."
    toast = await press(bot, giulia, request_for(fake, giulia, "Paolo Gialli"), "❌ Rifiuta")
    assert toast == "Rifiutata."
    assert (
        "Ti diamo il benvenuto nel Team energia (Unione Reno Galliera): "
        "Giulia Neri ha approvato la tua richiesta." in fake.last_sent(mario).text
    )
    # Told whom to talk to, by name (no «il coordinatore» to a coordinatrice).
    assert "non è stata accolta. Se pensi che sia un errore, parlane con Giulia Neri." in (
        fake.last_sent(paolo).text
    )

    roster = await say(bot, giulia, "/team")
    text = roster.text
    assert text.index("Argelato") < text.index("Mario Rossi") < text.index("Bentivoglio")
    assert "🛠 Luca Verdi — Funzionario tecnico" in text
    assert "Paolo" not in text
    assert "Personale dell'Unione</b>\n• Giulia Neri ⭐" in (roster.raw_text or "")

    # Both groups linked.
    political = fake.create_group(
        "Sindaci Reno Galliera", giulia, members=[mario, anna, eve], admins=[giulia]
    )
    technical = fake.create_group("Tecnici Reno Galliera", giulia, members=[luca], admins=[giulia])
    await fake.add_bot_to_group(political, giulia)
    await fake.add_bot_to_group(technical, giulia)
    await bot.settle()
    choice = await say(bot, giulia, "/collega", chat=political)
    await press(bot, giulia, choice, "Tavolo politico")
    choice = await say(bot, giulia, "/collega", chat=technical)
    await press(bot, giulia, choice, "Tavolo tecnico")
    async with bot.db.transaction() as session:
        links = {
            li.table_kind: li.chat_id
            for li in (await session.execute(select(LinkedChat))).scalars()
        }
    assert links == {TableKind.POLITICAL: political.id, TableKind.TECHNICAL: technical.id}
    in_group = await say(bot, mario, "/team", chat=political)
    assert "Luca Verdi" in in_group.text and not in_group.buttons

    # A stranger sees nothing and changes nothing.
    nothing = await say(bot, eve, "/team")
    assert "Non fai ancora parte" in nothing.text
    nothing = await say(bot, eve, "/team", chat=political)
    assert "riservato ai membri" in nothing.text
    refused = await say(bot, eve, "/collega", chat=political)
    assert "Solo chi coordina un'Unione" in refused.text

    # ... nor with any forged button, in private or in the group.
    before = await snapshot(bot)
    union_id, mario_id = 1, await member_id(bot, "Mario Rossi")
    async with bot.db.transaction() as session:
        mun_id = (await session.execute(select(Municipality.id).limit(1))).scalar_one()
        invite_id = (await session.execute(select(Invite.id).limit(1))).scalar_one()
    private = fake.last_sent(eve)
    forgeries = [
        (private, f"mbr:remove_yes:{mario_id}"),
        (private, f"mbr:coordinator:{mario_id}:0"),
        (private, f"mbr:set_role:{mario_id}:u"),
        (private, f"mbr:show:{mario_id}"),
        (private, f"team:list:{union_id}"),
        (private, f"com:remove_yes:{mun_id}"),
        (private, f"com:add:{union_id}"),
        (private, f"inv:make:{union_id}:0:x"),
        (private, f"inv:revoke:{invite_id}"),
        (private, f"reg:role:{invite_id}:sf"),
        (private, f"reg:comune:{invite_id}:{mun_id}"),
        (private, "appr:approve:99999"),
        (private, "del:confirm:1"),
        (private, "mbr:remove_yes:abc"),
        (private, "garbage"),
        (private, "x" * 64),
        (in_group, f"link:replace:{union_id}:p"),
        (in_group, f"link:set:{union_id}:t"),
        (in_group, "del:confirm"),
    ]
    for message, data in forgeries:
        forged = await eve.press_forged(message, data)
        answer = await forged.answered()
        assert answer.text, data  # every press gets a short answer
    await bot.settle()
    assert await snapshot(bot) == before
    assert not [m for m in fake.sent_to(eve) if "Mario" in (m.text or "")]


# --- shared set-up for the stories below ------------------------------------------------------


async def union_with_members(bot: BotUnderTest) -> dict[str, FakeUser]:
    """Giulia coordinates Unione Reno Galliera (three Comuni); Mario (Sindaco of Argelato) and
    Luca (technician of Bentivoglio) are approved members. Returns the people and the token."""
    fake = bot.fake
    people = {
        "giulia": fake.add_user("Giulia", "Neri"),
        "mario": fake.add_user("Mario", "Rossi"),
        "luca": fake.add_user("Luca", "Verdi"),
    }
    giulia = people["giulia"]
    await say(bot, giulia, "/crea_unione Unione Reno Galliera")
    await say(bot, giulia, "/comuni")
    await say(bot, giulia, "Argelato, Bentivoglio, Castel d'Argile")
    invites = await say(bot, giulia, "/invito")
    await press(bot, giulia, invites, "🔗 Nuovo link per chiunque")
    bot.token = invite_token(fake.last_sent(giulia))  # type: ignore[attr-defined]
    await join(bot, people["mario"], bot.token, "Argelato", "Sindaco", None)  # type: ignore[attr-defined]
    await join(bot, people["luca"], bot.token, "Bentivoglio", "Funzionario tecnico", None)  # type: ignore[attr-defined]
    for name in ("Mario Rossi", "Luca Verdi"):
        await press(bot, giulia, request_for(fake, giulia, name), "✅ Approva")
    return people


async def test_bad_inputs_get_a_clear_answer_and_change_nothing(bot: BotUnderTest) -> None:
    fake = bot.fake
    people = await union_with_members(bot)
    giulia, mario = people["giulia"], people["mario"]
    john = fake.add_user("John", "Smith", language_code="en")
    stranger = fake.add_user("Sara", "Sconosciuta")
    before = await snapshot(bot)

    answer = await say(bot, giulia, "/crea_unione")
    assert "Scrivi il nome dell'Unione dopo il comando" in answer.text
    answer = await say(bot, giulia, "/crea_unione " + "Unione " * 84)
    assert "troppo lungo: al massimo 80 caratteri" in answer.text
    answer = await say(bot, john, "/crea_unione")
    assert "Type the Union's name after the command" in answer.text
    answer = await say(bot, giulia, "/crea_unione unione reno  GALLIERA")
    assert "Coordini già un'Unione che si chiama" in answer.text

    for payload in ("garbage", "a" * 31 + "!", "A" * 32, "x" * 64):
        answer = await say(bot, stranger, f"/start {payload}")
        assert "Questo link d'invito non è valido" in answer.text
    answer = await say(bot, john, "/start " + "B" * 32)
    assert "This invite link is not valid" in answer.text

    # Commands in the wrong kind of chat.
    group = fake.create_group("Chiacchiere", stranger, members=[mario, giulia], admins=[giulia])
    await fake.add_bot_to_group(group, stranger)  # added by someone who coordinates nothing
    await bot.settle()
    greeting = fake.last_sent(group)
    assert "può collegarlo solo chi coordina" in greeting.text and "Reno" not in greeting.text
    for command in ("/crea_unione Altra", "/comuni", "/invito", "/cancellami"):
        answer = await say(bot, giulia, command, chat=group)
        assert "chat privata" in answer.text, command
    answer = await say(bot, giulia, "/collega")
    assert "dentro il gruppo" in answer.text
    answer = await say(bot, mario, "/collega", chat=group)
    assert "Solo chi coordina un'Unione" in answer.text
    answer = await say(bot, giulia, "/team", chat=group)
    assert "non è collegato" in answer.text

    # /collega by a coordinator who is not an administrator of the group.
    fake.set_admin(group, giulia, admin=False)
    answer = await say(bot, giulia, "/collega", chat=group)
    assert "devi esserne amministratore" in answer.text
    # ... and the buttons re-check it when pressed (she lost admin rights after asking).
    fake.set_admin(group, giulia, admin=True)
    choice = await say(bot, giulia, "/collega", chat=group)
    fake.set_admin(group, giulia, admin=False)
    assert (
        await press(bot, giulia, choice, "Tavolo politico")
        == "Per collegare il gruppo devi esserne amministratore."
    )

    # A member who is not coordinator.
    answer = await say(bot, mario, "/comuni")
    assert "riservato a chi coordina l'Unione" in answer.text
    answer = await say(bot, mario, "/invito")
    assert "riservato a chi coordina l'Unione" in answer.text

    # A rename to a name that exists, then nothing.
    listing = await say(bot, giulia, "/comuni")
    await press(bot, giulia, listing, "✏️ Argelato")
    answer = await say(bot, giulia, "BENTIVOGLIO")
    assert "Bentivoglio è già presente" in answer.text
    answer = await say(bot, giulia, "x" * 81)
    assert "troppo lungo" in answer.text
    await press(bot, giulia, answer, "Annulla")

    # Text typed where a button is expected, during joining.
    await say(bot, stranger, f"/start {bot.token}")  # type: ignore[attr-defined]
    answer = await say(bot, stranger, "Argelato")
    assert "Rispondi con i pulsanti" in fake.sent_to(stranger)[-2].text
    assert "Di quale Comune" in answer.text
    await press(bot, stranger, answer, "Annulla")

    assert await snapshot(bot) == before


async def test_invites_expire_and_can_be_revoked(bot: BotUnderTest) -> None:
    fake = bot.fake
    people = await union_with_members(bot)
    giulia = people["giulia"]
    newcomer = fake.add_user("Nadia", "Nuova")
    old_token = bot.token  # type: ignore[attr-defined]

    # A link bound to Comune and role skips both questions.
    invites = await say(bot, giulia, "/invito")
    await press(bot, giulia, invites, "🏠 Per un Comune")
    await press(bot, giulia, fake.last_sent(giulia), "Castel d'Argile")
    await press(bot, giulia, fake.last_sent(giulia), "Funzionario tecnico")
    bound = invite_token(fake.last_sent(giulia))
    assert "Comune: Castel d'Argile; ruolo: Funzionario tecnico" in fake.sent_to(giulia)[-2].text
    done = await join(bot, newcomer, bound, None, None, None)
    assert "Richiesta inviata" in done.text
    assert (
        "Comune: Castel d'Argile\nRuolo: Funzionario tecnico"
        in request_for(fake, giulia, "Nadia Nuova").text
    )

    # A link bound to a role only: the newcomer still picks the Comune (no "staff" choice).
    invites = await say(bot, giulia, "/invito")
    await press(bot, giulia, invites, "👤 Per un ruolo")
    assert "Per quale ruolo è il link?" in fake.last_sent(giulia).text
    await press(bot, giulia, fake.last_sent(giulia), "Funzionario tecnico")
    role_only = invite_token(fake.last_sent(giulia))
    tecla = fake.add_user("Tecla", "Tecnica")
    await say(bot, tecla, f"/start {role_only}")
    prompt = fake.last_sent(tecla)
    assert "Nessun Comune (personale dell'Unione)" not in prompt.button_texts
    await press(bot, tecla, prompt, "Argelato")
    asked = fake.last_sent(tecla)
    assert "<b>2/2</b> Qual è il tuo ruolo per Argelato?" in (asked.raw_text or "")
    assert asked.button_texts == ["Funzionaria tecnica", "Funzionario tecnico", "Annulla"]

    # A bound Sindaco link for a Comune that has one is refused at creation.
    invites = await say(bot, giulia, "/invito")
    await press(bot, giulia, invites, "🏠 Per un Comune")
    await press(bot, giulia, fake.last_sent(giulia), "Argelato")
    toast = await press(bot, giulia, fake.last_sent(giulia), "Sindaco")
    assert toast and "Argelato ha già un Sindaco" in toast

    # Revoked.
    invites = await say(bot, giulia, "/invito")
    assert "1. per chiunque" in invites.text and "usato 2 volte" in invites.text
    assert "3. Funzionario tecnico" in invites.text
    toast = await press(bot, giulia, invites, "Revoca il n. 1")
    assert toast == "Invito revocato: il link non funziona più."
    late = fake.add_user("Lino", "Tardi")
    answer = await say(bot, late, f"/start {old_token}")
    assert "è stato revocato" in answer.text

    # Expired after 14 days.
    bot.clock.advance(days=15)
    answer = await say(bot, late, f"/start {bound}")
    assert "è scaduto" in answer.text
    invites = await say(bot, giulia, "/invito")
    assert "Nessun invito aperto" in invites.text


async def test_one_sindaco_per_comune_at_request_and_at_approval(bot: BotUnderTest) -> None:
    fake = bot.fake
    people = await union_with_members(bot)
    giulia, mario = people["giulia"], people["mario"]
    token = bot.token  # type: ignore[attr-defined]
    carla = fake.add_user("Carla", "Conti")
    await say(bot, carla, f"/start {token}")
    await press(bot, carla, fake.last_sent(carla), "Argelato")
    toast = await press(bot, carla, fake.last_sent(carla), "Sindaco")
    assert toast and "Argelato ha già un Sindaco" in toast
    assert "Qual è il tuo ruolo per Argelato" in fake.last_sent(carla).text  # still asking
    await press(bot, carla, fake.last_sent(carla), "Assessora")
    assert "Richiesta inviata" in fake.last_sent(carla).text

    # Two people ask to be Sindaco of Bentivoglio: the second approval is refused.
    first, second = fake.add_user("Bruno", "Primo"), fake.add_user("Bice", "Seconda")
    await join(bot, first, token, "Bentivoglio", "Sindaco", None)
    await join(bot, second, token, "Bentivoglio", "Sindaco", None)
    assert (
        await press(bot, giulia, request_for(fake, giulia, "Bruno Primo"), "✅ Approva")
        == "Approvata."
    )
    toast = await press(bot, giulia, request_for(fake, giulia, "Bice Seconda"), "✅ Approva")
    assert toast and "Bentivoglio ha già un Sindaco" in toast
    assert "togli prima il precedente da /team" in toast  # the coordinator is the one to act
    assert await status_of(bot, "Bice Seconda") == MemberStatus.PENDING
    assert (
        await press(bot, giulia, request_for(fake, giulia, "Bice Seconda"), "❌ Rifiuta")
        == "Rifiutata."
    )
    # A decided request cannot be decided again.
    toast = (
        await press(bot, giulia, request_for(fake, giulia, "Bruno Primo"), "✅ Approva")
        if False
        else None
    )
    again = await giulia.press_forged(
        fake.last_sent(giulia), f"appr:approve:{await member_id(bot, 'Bice Seconda')}"
    )
    assert (await again.answered()).text == "Questa richiesta è già stata rifiutata."

    # Already a member, or already waiting: told so, not registered twice.
    answer = await say(bot, mario, f"/start {token}")
    assert "Fai già parte del Team energia (" in answer.text
    answer = await say(bot, carla, f"/start {token}")
    assert "è già arrivata a chi coordina l'Unione" in answer.text


async def test_join_survives_a_restart_and_members_of_two_unions_pick(bot: BotUnderTest) -> None:
    fake = bot.fake
    people = await union_with_members(bot)
    luca = people["luca"]
    token = bot.token  # type: ignore[attr-defined]
    dario = fake.add_user("Dario", "Dopo")
    await say(bot, dario, f"/start {token}")
    await press(bot, dario, fake.last_sent(dario), "Castel d'Argile")
    role_prompt = fake.last_sent(dario)
    await bot.restart()
    await say(bot, dario, "Dario Dopo (ufficio tecnico)")  # the dialogue survived: a new name
    assert "Dario Dopo (ufficio tecnico)" in fake.sent_to(dario)[-2].text
    assert fake.last_sent(dario).button_texts == role_prompt.button_texts  # asked again
    await press(bot, dario, fake.last_sent(dario), "Funzionario tecnico")
    assert "Richiesta inviata" in fake.last_sent(dario).text
    assert "Dario Dopo (ufficio tecnico)" in request_for(fake, people["giulia"], "Dario").text

    # Luca also works for another Union: he joins it too, then /team asks which one.
    bruno = fake.add_user("Bruno", "Bassa")
    await say(bot, bruno, "/crea_unione Unione Terre d'Acqua")
    await say(bot, bruno, "/comuni")
    await say(bot, bruno, "Anzola dell'Emilia, Calderara di Reno")
    invites = await say(bot, bruno, "/invito")
    await press(bot, bruno, invites, "🔗 Nuovo link per chiunque")
    other = invite_token(fake.last_sent(bruno))
    await join(bot, luca, other, "Calderara di Reno", "Funzionario tecnico", None)
    await press(bot, bruno, request_for(fake, bruno, "Luca Verdi"), "✅ Approva")
    picker = await say(bot, luca, "/team")
    assert "Fai parte di più Unioni" in picker.text
    assert picker.button_texts == ["Unione Reno Galliera", "Unione Terre d'Acqua"]
    await luca.press(picker, "Unione Terre d'Acqua")
    await bot.settle()
    roster = fake.last_sent(luca)
    assert "Terre d'Acqua" in roster.text and "Calderara di Reno" in roster.text
    assert roster is not picker and not picker.history  # the answer comes below the picker
    assert "Argelato" not in roster.text  # the other Union stays separate
    # Bruno, coordinator of Terre d'Acqua, cannot manage Reno Galliera's members.
    forged = await bruno.press_forged(
        fake.last_sent(bruno), f"mbr:remove_yes:{await member_id(bot, 'Mario Rossi')}"
    )
    assert (await forged.answered()).text == "Questo pulsante non è per te: non ho cambiato nulla."


async def test_coordinator_manages_members_and_hands_over_before_leaving(bot: BotUnderTest) -> None:
    fake = bot.fake
    people = await union_with_members(bot)
    giulia, mario, luca = people["giulia"], people["mario"], people["luca"]

    # Luca serves a second Comune.
    roster = await say(bot, giulia, "/team")
    await press(bot, giulia, roster, "✏️ Luca Verdi")
    card = fake.last_sent(giulia)
    assert "Ruolo: Funzionario tecnico" in card.text and "Comune: Bentivoglio" in card.text
    await press(bot, giulia, card, "Cambia i Comuni")
    assert await press(bot, giulia, fake.last_sent(giulia), "▫️ Argelato") == "Fatto."
    ticks = fake.last_sent(giulia)
    assert "✅ Argelato" in ticks.button_texts and "✅ Bentivoglio" in ticks.button_texts
    # The last Comune of a technician cannot be untouched away.
    await press(bot, giulia, ticks, "✅ Argelato")
    toast = await press(bot, giulia, fake.last_sent(giulia), "✅ Bentivoglio")
    assert toast == "Un Funzionario tecnico lavora per almeno un Comune: scegline uno."
    await press(bot, giulia, fake.last_sent(giulia), "▫️ Argelato")
    roster = await say(bot, giulia, "/team")
    assert roster.text.count("Luca Verdi") == 2  # under Argelato and under Bentivoglio

    # Giulia sets her own role: Assessore of Castel d'Argile.
    await press(bot, giulia, roster, "✏️ Giulia Neri")
    await press(bot, giulia, fake.last_sent(giulia), "Cambia ruolo")
    await press(bot, giulia, fake.last_sent(giulia), "Assessore")
    await press(bot, giulia, fake.last_sent(giulia), "Castel d'Argile")
    assert "Ruolo: Assessore" in fake.last_sent(giulia).text

    # Giulia is the only coordinator: she can neither drop the permission nor leave.
    toast = await press(bot, giulia, fake.last_sent(giulia), "Togli il ruolo di coordinatore")
    assert toast and "almeno un coordinatore" in toast
    answer = await say(bot, giulia, "/cancellami")
    assert (
        "Nessun altro coordina l'Unione (" in answer.text and "premi il pulsante ⭐" in answer.text
    )

    # She hands over to Mario, who is told; then she leaves.
    roster = await say(bot, giulia, "/team")
    await press(bot, giulia, roster, "✏️ Mario Rossi")
    assert (
        await press(bot, giulia, fake.last_sent(giulia), "⭐ Rendi coordinatore")
        == "Ora è coordinatore."
    )
    assert "Ora sei coordinatore" in fake.last_sent(mario).text
    confirm = await say(bot, giulia, "/cancellami")
    assert await press(bot, giulia, confirm, "Sì, cancella i miei dati") == "Dati cancellati."
    async with bot.db.transaction() as session:
        erased = (
            await session.execute(select(Person).where(Person.erased_at.is_not(None)))
        ).scalar_one()
        assert erased.display_name is None and erased.telegram_user_id is None
    roster = await say(bot, mario, "/team")
    assert "Giulia" not in roster.text and "🏛 Mario Rossi — Sindaco ⭐" in roster.text
    answer = await say(bot, giulia, "/team")
    assert "Non fai ancora parte" in answer.text

    # Mario removes Luca, who is told.
    await press(bot, mario, roster, "✏️ Luca Verdi")
    await press(bot, mario, fake.last_sent(mario), "🚫 Togli dal team")
    assert await press(bot, mario, fake.last_sent(mario), "Sì, toglilo") == "Tolto dal team."
    assert (
        "Non fai più parte del Team energia (Unione Reno Galliera): ti ha tolto Mario Rossi."
        in fake.last_sent(luca).text
    )
    answer = await say(bot, luca, "/team")
    assert "Non fai ancora parte" in answer.text


async def test_groups_follow_migration_and_removal(bot: BotUnderTest) -> None:
    fake = bot.fake
    people = await union_with_members(bot)
    giulia, mario, luca = people["giulia"], people["mario"], people["luca"]
    political = fake.create_group("Sindaci", giulia, members=[mario], admins=[giulia])
    await fake.add_bot_to_group(political, giulia)
    await bot.settle()
    await press(bot, giulia, await say(bot, giulia, "/collega", chat=political), "Tavolo politico")

    # Another group as political table: asks before replacing.
    other = fake.create_group("Sindaci (nuovo)", giulia, members=[mario], admins=[giulia])
    await fake.add_bot_to_group(other, giulia)
    await bot.settle()
    await press(bot, giulia, await say(bot, giulia, "/collega", chat=other), "Tavolo politico")
    ask = fake.last_sent(other)
    assert "è già il gruppo «Sindaci»" in ask.text
    await press(bot, giulia, ask, "No")
    async with bot.db.transaction() as session:
        assert (await session.execute(select(LinkedChat.chat_id))).scalar_one() == political.id

    # Technical table, then it becomes a supergroup: the link follows.
    technical = fake.create_group("Tecnici", giulia, members=[luca], admins=[giulia])
    await fake.add_bot_to_group(technical, giulia)
    await bot.settle()
    await press(bot, giulia, await say(bot, giulia, "/collega", chat=technical), "Tavolo tecnico")
    new_id = await fake.migrate_to_supergroup(technical)
    await bot.settle()
    roster = await say(bot, luca, "/team", chat=fake.chat(new_id))
    assert "Luca Verdi" in roster.text

    # The bot is removed from the political group: link dropped, coordinator told.
    await fake.remove_bot_from_group(political, giulia)
    await bot.settle()
    assert "Mi hanno tolto dal gruppo «Sindaci»" in fake.last_sent(giulia).text
    async with bot.db.transaction() as session:
        links = {
            li.table_kind: li.chat_id
            for li in (await session.execute(select(LinkedChat))).scalars()
        }
    assert links == {TableKind.TECHNICAL: new_id}
    # Now the replacement goes through without a question.
    await press(bot, giulia, await say(bot, giulia, "/collega", chat=other), "Tavolo politico")
    assert "è ora il tavolo politico (Unione Reno Galliera)" in fake.last_sent(other).text
    # A confirmed replacement moves the link.
    third = fake.create_group("Sindaci 2027", giulia, members=[mario], admins=[giulia])
    await fake.add_bot_to_group(third, giulia)
    await bot.settle()
    await press(bot, giulia, await say(bot, giulia, "/collega", chat=third), "Tavolo politico")
    await press(bot, giulia, fake.last_sent(third), "Sì, usa questo gruppo")
    async with bot.db.transaction() as session:
        link = (
            await session.execute(
                select(LinkedChat).where(LinkedChat.table_kind == TableKind.POLITICAL)
            )
        ).scalar_one()
    assert (link.chat_id, link.title) == (third.id, "Sindaci 2027")


async def test_only_admins_listed_in_bot_admin_ids_create_unions(
    fake_telegram: FakeTelegram, clock: FakeClock, tmp_path: Path
) -> None:
    fake = fake_telegram
    fake.clock = clock
    boss = fake.add_user("Capo", "Regione")
    other = fake.add_user("Altro", "Utente")
    bot = BotUnderTest(
        fake,
        clock,
        normalize_database_url(f"sqlite:///{tmp_path / 'admins.db'}"),
        admin_ids=frozenset({boss.id}),
    )
    await bot.start()
    try:
        answer = await say(bot, other, "/crea_unione Unione Bassa Reggiana")
        assert "le crea solo chi lo gestisce" in answer.text
        # Nor do /start and /aiuto offer it to them.
        assert "/crea_unione" not in (await say(bot, other, "/start")).text
        assert "/crea_unione" not in (await say(bot, other, "/aiuto")).text
        assert "/crea_unione" in (await say(bot, boss, "/aiuto")).text
        answer = await say(bot, boss, "/crea_unione Unione Bassa <Reggiana> & Co")
        assert "Hai creato Unione Bassa <Reggiana> & Co" in answer.text  # escaped, then shown
        await say(bot, boss, "/comuni")
        listing = await say(bot, boss, "Brescello, Gualtieri & <Boretto>")
        assert "Aggiunti: Brescello, Gualtieri & <Boretto>" in listing.text
        roster = await say(bot, boss, "/team")
        assert "Team energia · Unione Bassa <Reggiana> & Co" in roster.text
    finally:
        await bot.stop()


def trash_of(listing: FakeMessage, name: str) -> str:
    """The callback data of the 🗑 button on the row of this Comune."""
    for row in listing.buttons:
        if row[0][0] == f"✏️ {name}":
            data = row[1][1]
            assert data is not None
            return data
    raise AssertionError(f"no row for {name}: {listing.buttons}")


async def test_comuni_renamed_removed_archived_and_back(bot: BotUnderTest) -> None:
    fake = bot.fake
    people = await union_with_members(bot)
    giulia, mario = people["giulia"], people["mario"]
    listing = await say(bot, giulia, "/comuni")
    await press(bot, giulia, listing, "✏️ Castel d'Argile")
    renamed = await say(bot, giulia, "Castello d’Argile")
    assert "Castel d'Argile ora si chiama Castello d’Argile" in renamed.text
    # Nobody stands for it: removing deletes it.
    await press(bot, giulia, renamed, trash_of(renamed, "Castello d’Argile"))
    confirm = fake.last_sent(giulia)
    assert "Tolgo Castello d’Argile" in confirm.text
    assert await press(bot, giulia, confirm, "Sì, toglilo") == "Tolto."
    # Mario stands for Argelato: removing archives it, and he stays in the team.
    listing = fake.last_sent(giulia)
    await press(bot, giulia, listing, trash_of(listing, "Argelato"))
    toast = await press(bot, giulia, fake.last_sent(giulia), "Sì, toglilo")
    assert toast and toast.startswith("Archiviato")
    assert "Argelato" not in fake.last_sent(giulia).text
    roster = await say(bot, mario, "/team")
    assert "Argelato (non più nell'Unione)\n🏛 Mario Rossi — Sindaco" in roster.text
    newcomer = fake.add_user("Nina", "Nuova")
    await say(bot, newcomer, f"/start {bot.token}")  # type: ignore[attr-defined]
    assert fake.last_sent(newcomer).button_texts[:1] == ["Bentivoglio"]
    await press(bot, newcomer, fake.last_sent(newcomer), "Annulla")
    # Added again, it comes back with its history.
    listing = await say(bot, giulia, "/comuni")
    await press(bot, giulia, listing, "➕ Aggiungi Comuni")
    back = await say(bot, giulia, "argelato")
    assert "Aggiunto: argelato" in back.text
    roster = await say(bot, mario, "/team")
    assert "argelato\n🏛 Mario Rossi — Sindaco" in roster.text


async def test_english_newcomer_joins_in_english(bot: BotUnderTest) -> None:
    fake = bot.fake
    people = await union_with_members(bot)
    giulia = people["giulia"]
    john = fake.add_user("John", "Smith", language_code="en-GB")
    await say(bot, john, f"/start {bot.token}")  # type: ignore[attr-defined]
    welcome, prompt = fake.sent_to(john)[-2:]
    assert "You are invited to the Energy Team (Unione Reno Galliera)" in welcome.text
    assert "Privacy" in welcome.text and "/cancellami" in welcome.text
    assert "Which municipality are you from?" in prompt.text
    assert "No municipality (Union staff)" in prompt.button_texts
    assert "The team will see you as John Smith" in welcome.text
    await say(bot, john, "J")
    assert "Invalid name. It is too short: at least 2 characters." in fake.sent_to(john)[-2].text
    await press(bot, john, fake.last_sent(john), "No municipality (Union staff)")
    form_prompt = fake.last_sent(john)
    assert "2/2" in form_prompt.text and "feminine or masculine" in form_prompt.text
    await press(bot, john, form_prompt, "Masculine")
    assert "Request sent to the Union's coordinator" in fake.last_sent(john).text
    # The coordinator reads the request in her own language.
    request = request_for(fake, giulia, "John Smith")
    assert "Comune: nessuno (personale dell'Unione)\nRuolo: Personale dell'Unione" in request.text
    await press(bot, giulia, request, "✅ Approva")
    assert (
        "Welcome to the Energy Team (Unione Reno Galliera): Giulia Neri approved"
        in fake.last_sent(john).text
    )
    roster = await say(bot, john, "/team")
    assert "Union staff" in roster.text and "John Smith" in roster.text


async def test_anonymous_group_admin_is_never_trusted(bot: BotUnderTest) -> None:
    fake = bot.fake
    people = await union_with_members(bot)
    giulia = people["giulia"]
    group = fake.create_group("Sindaci", giulia, members=[people["mario"]], admins=[giulia])
    await fake.add_bot_to_group(group, giulia)
    await bot.settle()
    earlier = await giulia.send("/aiuto", chat=group)
    await bot.settle()
    anonymous = earlier.to_api()
    anonymous["message_id"] = earlier.message_id
    anonymous["from"] = {
        "id": 1087968824,
        "is_bot": True,
        "first_name": "Group",
        "username": "GroupAnonymousBot",
    }
    anonymous["sender_chat"] = group.to_api()
    anonymous["text"] = "/collega"
    anonymous["entities"] = [{"type": "bot_command", "offset": 0, "length": 8}]
    await fake.inject_update({"message": anonymous})
    await bot.settle()
    assert "Stai scrivendo come amministratore anonimo" in fake.last_sent(group).text
    async with bot.db.transaction() as session:
        assert (
            await session.execute(select(func.count()).select_from(LinkedChat))
        ).scalar_one() == 0


async def test_a_double_click_on_approve_welcomes_once(bot: BotUnderTest) -> None:
    fake = bot.fake
    people = await union_with_members(bot)
    giulia = people["giulia"]
    zoe = fake.add_user("Zoe", "Zanni")
    await join(bot, zoe, bot.token, "Castel d'Argile", "Sindaco", None)  # type: ignore[attr-defined]
    request = request_for(fake, giulia, "Zoe Zanni")
    first = await giulia.press(request, "✅ Approva")
    second = await giulia.press(request, "✅ Approva")  # the same keyboard, a second update
    assert (await first.answered()).text == "Approvata."
    assert (await second.answered()).text == "Questa richiesta è già stata approvata."
    await bot.settle()
    welcomes = [m for m in fake.sent_to(zoe) if "Ti diamo il benvenuto" in (m.text or "")]
    assert len(welcomes) == 1
    assert await status_of(bot, "Zoe Zanni") == MemberStatus.ACTIVE


async def test_roster_shows_who_cannot_be_reached(bot: BotUnderTest) -> None:
    fake = bot.fake
    people = await union_with_members(bot)
    giulia, luca = people["giulia"], people["luca"]
    await luca.block_bot()
    await bot.settle()
    roster = await say(bot, giulia, "/team")
    assert "🛠 Luca Verdi — Funzionario tecnico ⚠️" in roster.text
    assert "⚠️ non raggiungibile: non ha avviato il bot o l'ha bloccato" in roster.text
    await press(bot, giulia, roster, "✏️ Luca Verdi")
    assert "Non raggiungibile" in fake.last_sent(giulia).text
    # Writing to the bot again makes him reachable.
    luca.unblock_bot()
    await say(bot, luca, "/team")
    roster = await say(bot, giulia, "/team")
    assert "⚠️" not in roster.text
