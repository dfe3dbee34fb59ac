"""The registration story, end to end, as people live it.

A coordinator creates a Union, adds three Comuni and makes an invite; four people join through
it with different Comuni and roles; one is rejected; /team shows the right roster; both groups
are linked; a stranger can see nothing and change nothing. Then the bad inputs.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

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
    """Open the invite and answer the three questions; returns the bot's last message."""
    fake = bot.fake
    await say(bot, user, f"/start {token}")
    sent = fake.sent_to(user)
    assert "Privacy" in sent[-2].text  # the notice comes before the questions
    prompt = sent[-1]
    if comune is not None:
        await press(bot, user, prompt, comune)
        prompt = fake.last_sent(user)
    if role is not None:
        await press(bot, user, prompt, role)
        prompt = fake.last_sent(user)
    assert "Nel team ti vedranno come" in prompt.text
    if name is None:
        await press(bot, user, prompt, "✅ Va bene")
    else:
        await say(bot, user, name)
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
        "Già presente: Argelato, Castel d’Argile" in dup.text
        or "Già presente: Castel d’Argile, Argelato" in dup.text
    )
    assert "Non ho aggiunto nulla" in dup.text
    await press(bot, giulia, dup, "Annulla")

    # An open invite.
    invites = await say(bot, giulia, "/invito")
    await press(bot, giulia, invites, "🔗 Nuovo link: Comune e ruolo li sceglie chi entra")
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
    for data in (f"appr:ok:{paolo_member}", f"appr:no:{paolo_member}"):
        forged = await eve.press_forged(eve_chat_message, data)
        assert "Solo il coordinatore" in ((await forged.answered()).text or "")
    stolen = await eve.press(paolo_request, "✅ Approva")  # even on the coordinator's own message
    assert "Solo il coordinatore" in ((await stolen.answered()).text or "")
    await bot.settle()
    assert await status_of(bot, "Paolo Gialli") == MemberStatus.PENDING

    # The coordinator approves three, rejects one.
    for name in ("Mario Rossi", "Anna Bianchi (assessora)", "Luca Verdi"):
        toast = await press(bot, giulia, request_for(fake, giulia, name), "✅ Approva")
        assert toast == "Approvata."
    toast = await press(bot, giulia, request_for(fake, giulia, "Paolo Gialli"), "❌ Rifiuta")
    assert toast == "Rifiutata."
    assert "Ti diamo il benvenuto nel Team energia" in fake.last_sent(mario).text
    assert "non è stata accolta" in fake.last_sent(paolo).text

    roster = await say(bot, giulia, "/team")
    text = roster.text
    assert text.index("Argelato") < text.index("Mario Rossi") < text.index("Bentivoglio")
    assert "🔧 Luca Verdi — Funzionario tecnico" in text
    assert "Paolo" not in text
    assert "Staff dell'Unione</b>\n• Giulia Neri ⭐" in (roster.raw_text or "")

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
    assert "Solo il coordinatore" in refused.text

    # ... nor with any forged button, in private or in the group.
    before = await snapshot(bot)
    union_id, mario_id = 1, await member_id(bot, "Mario Rossi")
    async with bot.db.transaction() as session:
        mun_id = (await session.execute(select(Municipality.id).limit(1))).scalar_one()
        invite_id = (await session.execute(select(Invite.id).limit(1))).scalar_one()
    private = fake.last_sent(eve)
    forgeries = [
        (private, f"mbr:rmok:{mario_id}"),
        (private, f"mbr:co:{mario_id}:0"),
        (private, f"mbr:sr:{mario_id}:u"),
        (private, f"mbr:show:{mario_id}"),
        (private, f"team:ls:{union_id}"),
        (private, f"com:rmok:{mun_id}"),
        (private, f"com:add:{union_id}"),
        (private, f"inv:mk:{union_id}:0:x"),
        (private, f"inv:rv:{invite_id}"),
        (private, f"reg:ok:{invite_id}"),
        (private, f"reg:m:{invite_id}:{mun_id}"),
        (private, "appr:ok:99999"),
        (private, "del:ok:1"),
        (private, "mbr:rmok:abc"),
        (private, "garbage"),
        (private, "x" * 64),
        (in_group, f"link:rep:{union_id}:p"),
        (in_group, f"link:set:{union_id}:t"),
        (in_group, "del:ok"),
    ]
    for message, data in forgeries:
        forged = await eve.press_forged(message, data)
        answer = await forged.answered()
        assert answer.text, data  # every press gets a short answer
    await bot.settle()
    assert await snapshot(bot) == before
    assert not [m for m in fake.sent_to(eve) if "Mario" in (m.text or "")]
