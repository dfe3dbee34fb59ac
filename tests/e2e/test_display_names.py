"""Names made of nothing visible, or that turn the text around them, through the real bot.

Issue 14, item 8: «ㅤ» (U+3164) was accepted as the name of a Union, a Comune and a person, and
the coordinator's Telegram name was stored with a right-to-left override (U+202E).
"""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Municipality, Person, Union
from tests.e2e.harness import BotUnderTest
from tests.e2e.test_registration_story import invite_token, join, press, say

FILLER, RLO, ZWSP = "\u3164", "\u202e", "\u200b"
INVISIBLE = "Non contiene lettere o cifre che si vedono"


async def _names(bot: BotUnderTest) -> tuple[list[str], list[str], dict[int, str | None]]:
    async with bot.db.transaction() as s:
        unions = list((await s.execute(select(Union.name))).scalars())
        comuni = list((await s.execute(select(Municipality.name))).scalars())
        people = dict((await s.execute(select(Person.telegram_user_id, Person.display_name))).all())
    return unions, comuni, {k: v for k, v in people.items() if k is not None}


async def test_invisible_and_reversing_names_are_refused_or_cleaned(bot: BotUnderTest) -> None:
    fake = bot.fake
    carla = fake.add_user(f"Carla{RLO}", f"Rinaldini{ZWSP}", username="carla_r")

    # A Union named with nothing visible is refused, and nothing is created.
    refused = await say(bot, carla, f"/crea_unione {FILLER}{FILLER}")
    assert INVISIBLE in refused.text and "/crea_unione Unione Reno Galliera" in refused.text
    refused = await say(bot, carla, f"/crea_unione {ZWSP}\u0301")
    assert INVISIBLE in refused.text
    assert (await _names(bot))[0] == []

    # A real name is cleaned of the override; the coordinator's Telegram name too.
    created = await say(bot, carla, f"/crea_unione Unione{RLO} Reno{FILLER}Galliera")
    assert "Unione Reno Galliera" in created.text
    unions, _comuni, people = await _names(bot)
    assert unions == ["Unione Reno Galliera"]
    assert people[carla.id] == "Carla Rinaldini"

    # Comuni: the invisible one is refused by name, the others are added.
    await say(bot, carla, "/comuni")
    listing = await say(bot, carla, f"Argelato, {FILLER}, Bentivoglio{RLO}")
    assert "Aggiunti: Argelato, Bentivoglio" in listing.text
    assert INVISIBLE in listing.text
    assert sorted((await _names(bot))[1]) == ["Argelato", "Bentivoglio"]
    again = await say(bot, carla, "/comuni")
    await press(bot, carla, again, "➕ Aggiungi Comuni")
    nothing = await say(bot, carla, FILLER)
    assert INVISIBLE in nothing.text and "Non ho aggiunto nulla" in nothing.text
    await press(bot, carla, nothing, "Annulla")

    invites = await say(bot, carla, "/invito")
    await press(bot, carla, invites, "🔗 Nuovo link per chiunque")
    token = invite_token(fake.last_sent(carla))

    # A person whose Telegram name shows nothing and who has no username is offered
    # «Membro senza nome», and may not pick an invisible name instead.
    ghost = fake.add_user(FILLER, ZWSP)
    await say(bot, ghost, f"/start {token}")
    welcome = fake.sent_to(ghost)[-2]
    assert "Nel team ti vedranno come <b>Membro senza nome</b>" in (welcome.raw_text or "")
    again_refused = await say(bot, ghost, f"{FILLER} {ZWSP}")
    assert INVISIBLE in fake.sent_to(ghost)[-2].text, again_refused.text
    renamed = await say(bot, ghost, f"Gino{RLO} Ghiandi")
    assert "nel team ti vedranno come Gino Ghiandi" in fake.sent_to(ghost)[-2].text
    await press(bot, ghost, renamed, "Argelato")
    await press(bot, ghost, fake.last_sent(ghost), "Funzionario tecnico")
    assert "Richiesta inviata" in fake.last_sent(ghost).text
    assert (await _names(bot))[2][ghost.id] == "Gino Ghiandi"

    # With a username, that is the default; the name is confirmed as it is.
    nameless = fake.add_user(f"{FILLER}{FILLER}", None, username="ugo_b")
    done = await join(bot, nameless, token, "Bentivoglio", "Sindaco", None)
    assert "Richiesta inviata" in done.text
    assert (await _names(bot))[2][nameless.id] == "@ugo_b"
