"""People with Telegram manners (issue 17): joining in few taps with a counter that counts the
questions asked, the role in the person's own form everywhere the bot names it, each person's
own command menu, /aiuto by task, the welcome with buttons."""

from __future__ import annotations

from tests.e2e.harness import BotUnderTest
from tests.e2e.test_registration_story import (
    invite_token,
    press,
    request_for,
    say,
    union_with_members,
)
from tests.fakes.fake_world import FakeUser

# Opening a t.me link and pressing «Avvia» (which sends /start <payload>) are two taps the
# fake cannot see: each story adds them to the presses it counts.
LINK_AND_START = 2


async def _open(bot: BotUnderTest, user: FakeUser, token: str) -> None:
    await say(bot, user, f"/start {token}")


async def test_joining_from_an_open_link_takes_four_taps(bot: BotUnderTest) -> None:
    fake = bot.fake
    people = await union_with_members(bot)
    sara = fake.add_user("Sara", "Sole")
    await _open(bot, sara, bot.token)  # type: ignore[attr-defined]
    welcome, first = fake.sent_to(sara)[-2:]
    assert "Nel team ti vedranno come <b>Sara Sole</b>" in (welcome.raw_text or "")
    assert (first.raw_text or "").startswith("<b>1/2</b> Di quale Comune fai parte?")
    await press(bot, sara, first, "Bentivoglio")
    second = fake.last_sent(sara)
    assert (second.raw_text or "").startswith("<b>2/2</b> Qual è il tuo ruolo per Bentivoglio?")
    assert second.button_texts == [
        "Sindaca",
        "Sindaco",
        "Assessora",
        "Assessore",
        "Funzionaria tecnica",
        "Funzionario tecnico",
        "Annulla",
    ]
    await press(bot, sara, second, "Sindaca")
    assert "Richiesta inviata" in fake.last_sent(sara).text
    assert LINK_AND_START + len(fake.presses_by(sara)) == 4
    # The coordinator reads her role in her form, and so does everyone after approval.
    giulia = people["giulia"]
    request = request_for(fake, giulia, "Sara Sole")
    assert "Ruolo: Sindaca" in request.text
    await press(bot, giulia, request, "✅ Approva")
    roster = await say(bot, people["mario"], "/team")
    assert "🏛 Sara Sole — Sindaca" in roster.text
    assert "🏛 Mario Rossi — Sindaco" in roster.text


async def test_union_staff_choose_their_form_in_the_second_question(bot: BotUnderTest) -> None:
    fake = bot.fake
    people = await union_with_members(bot)
    giulia = people["giulia"]
    paola = fake.add_user("Paola", "Piani")
    await _open(bot, paola, bot.token)  # type: ignore[attr-defined]
    await press(bot, paola, fake.last_sent(paola), "Nessun Comune (personale dell'Unione)")
    asked = fake.last_sent(paola)
    assert (asked.raw_text or "").startswith("<b>2/2</b> Per il tuo ruolo preferisci il femminile")
    await press(bot, paola, asked, "Al femminile")
    assert "Richiesta inviata" in fake.last_sent(paola).text
    assert LINK_AND_START + len(fake.presses_by(paola)) == 4
    await press(bot, giulia, request_for(fake, giulia, "Paola Piani"), "✅ Approva")
    # Made coordinator: she reads «coordinatrice», on her card too.
    roster = await say(bot, giulia, "/team")
    await press(bot, giulia, roster, "✏️ Paola Piani")
    card = fake.last_sent(giulia)
    # Her card's button and its toast name her in her form.
    assert "⭐ Rendi coordinatrice" in card.button_texts
    assert await press(bot, giulia, card, "⭐ Rendi coordinatrice") == "Ora è coordinatrice."
    assert "Togli il ruolo di coordinatrice" in fake.last_sent(giulia).button_texts
    assert "⭐ Ora sei coordinatrice del Team energia" in fake.last_sent(paola).text
    assert "⭐ Coordinatrice" in fake.last_sent(giulia).text


async def test_joining_from_a_link_bound_to_a_comune_takes_three_taps(bot: BotUnderTest) -> None:
    fake = bot.fake
    people = await union_with_members(bot)
    giulia = people["giulia"]
    invites = await say(bot, giulia, "/invito")
    await press(bot, giulia, invites, "🏠 Per un Comune")
    await press(bot, giulia, fake.last_sent(giulia), "Castel d'Argile")
    await press(bot, giulia, fake.last_sent(giulia), "Qualsiasi ruolo")
    bound = invite_token(fake.last_sent(giulia))
    nadia = fake.add_user("Nadia", "Nuova")
    await _open(bot, nadia, bound)
    only = fake.last_sent(nadia)
    # The one question asked: no counter (no «2/2» without a «1/2»).
    assert only.text.startswith("Qual è il tuo ruolo per Castel d'Argile?")
    assert "/2" not in (only.raw_text or "") and "/3" not in (only.raw_text or "")
    await press(bot, nadia, only, "Funzionaria tecnica")
    assert "Richiesta inviata" in fake.last_sent(nadia).text
    assert LINK_AND_START + len(fake.presses_by(nadia)) == 3
    assert "Ruolo: Funzionaria tecnica" in request_for(fake, giulia, "Nadia Nuova").text

    # Bound to the role as well: the role's two forms only, still three taps.
    invites = await say(bot, giulia, "/invito")
    await press(bot, giulia, invites, "🏠 Per un Comune")
    await press(bot, giulia, fake.last_sent(giulia), "Castel d'Argile")
    await press(bot, giulia, fake.last_sent(giulia), "Assessore")
    both = invite_token(fake.last_sent(giulia))
    aldo = fake.add_user("Aldo", "Alti")
    await _open(bot, aldo, both)
    only = fake.last_sent(aldo)
    assert only.button_texts == ["Assessora", "Assessore", "Annulla"]
    await press(bot, aldo, only, "Assessore")
    assert "Richiesta inviata" in fake.last_sent(aldo).text
    assert LINK_AND_START + len(fake.presses_by(aldo)) == 3


def menu_of(bot: BotUnderTest, user: FakeUser) -> list[str]:
    """The commands of the user's own menu (BotCommandScopeChat); [] when none is set."""
    return [name for name, _d in bot.fake.commands("chat", chat_id=user.id)]


async def test_each_person_has_the_menu_of_what_they_do(bot: BotUnderTest) -> None:
    fake = bot.fake
    newcomer_menu = [name for name, _d in fake.commands("all_private_chats")]
    assert newcomer_menu == ["start", "aiuto"]  # everyone's, until they are in a team
    people = await union_with_members(bot)
    giulia, mario, luca = people["giulia"], people["mario"], people["luca"]
    await bot.settle()
    technician = menu_of(bot, luca)
    assert technician[0] == "aggiornamento"  # the round first: what he does
    assert {"team", "calendario", "azioni", "aiuto", "cancellami", "profilo"} <= set(technician)
    assert "riunioni" not in technician  # the calendar's old name works, unlisted
    assert not {"riunione", "esporta", "invito", "decisione", "start", "crea_unione"} & set(
        technician
    )
    sindaco = menu_of(bot, mario)
    assert {"riunione", "esporta", "riepilogo"} <= set(sindaco)
    assert "aggiornamento" not in sindaco and "invito" not in sindaco
    coordinator = menu_of(bot, giulia)
    assert {"invito", "comuni", "decisione", "annuncio", "impostazioni"} <= set(coordinator)
    # A personal menu says no «(coordinatore)»: it lists only what its reader may use.
    assert all("(coordinatore" not in d for _n, d in fake.commands("chat", chat_id=giulia.id))

    # Made coordinator: Luca's menu follows.
    roster = await say(bot, giulia, "/team")
    await press(bot, giulia, roster, "✏️ Luca Verdi")
    await press(bot, giulia, fake.last_sent(giulia), "⭐ Rendi coordinatore")
    await bot.settle()
    assert {"aggiornamento", "invito", "decisione"} <= set(menu_of(bot, luca))
    # A new role: Mario, now a technician, gets the round instead of the mayor's commands.
    roster = await say(bot, giulia, "/team")
    await press(bot, giulia, roster, "✏️ Mario Rossi")
    await press(bot, giulia, fake.last_sent(giulia), "Cambia ruolo")
    await press(bot, giulia, fake.last_sent(giulia), "Funzionario tecnico")
    await bot.settle()
    assert "aggiornamento" in menu_of(bot, mario) and "esporta" not in menu_of(bot, mario)

    # Removed from the team: his own menu goes, everyone's (/start, /aiuto) applies again.
    roster = await say(bot, giulia, "/team")
    await press(bot, giulia, roster, "✏️ Mario Rossi")
    await press(bot, giulia, fake.last_sent(giulia), "🚫 Togli dal team")
    await press(bot, giulia, fake.last_sent(giulia), "Sì, toglilo")
    await bot.settle()
    assert menu_of(bot, mario) == []
    # /cancellami: the same, although the person row no longer knows the chat.
    confirm = await say(bot, luca, "/cancellami")
    await press(bot, luca, confirm, "Sì, cancella i miei dati")
    await bot.settle()
    assert menu_of(bot, luca) == []
    assert len(fake.calls_of("setMyCommands")) + len(fake.calls_of("deleteMyCommands")) <= 3 * 2 + 8


async def test_a_menu_owed_survives_telegram_and_a_restart(bot: BotUnderTest) -> None:
    fake = bot.fake
    people = await union_with_members(bot)
    giulia = people["giulia"]
    await bot.settle()
    sara = fake.add_user("Sara", "Sole")
    await _open(bot, sara, bot.token)  # type: ignore[attr-defined]
    await press(bot, sara, fake.last_sent(sara), "Argelato")
    await press(bot, sara, fake.last_sent(sara), "Assessora")
    # Telegram refuses the menu at the approval (flood control): it stays owed…
    fake.fail_next("setMyCommands", 429, "Too Many Requests: retry after 1", retry_after=1, count=9)
    await press(bot, giulia, request_for(fake, giulia, "Sara Sole"), "✅ Approva")
    await bot.settle()
    assert menu_of(bot, sara) == []
    # …across a restart, and the tick sets it.
    await bot.restart()
    fake.clear_faults()  # the outage is over
    bot.clock.advance(seconds=30)
    await bot.tick()
    assert {"riepilogo", "calendario"} <= set(menu_of(bot, sara))
    assert "riunione" not in menu_of(bot, sara)  # an Assessora proposes no meeting
    calls = len(fake.calls_of("setMyCommands"))
    await bot.tick()  # nothing owed: no call at all
    assert len(fake.calls_of("setMyCommands")) == calls


async def test_the_welcome_and_aiuto_offer_tasks_that_start_with_a_tap(bot: BotUnderTest) -> None:
    fake = bot.fake
    people = await union_with_members(bot)
    giulia, luca = people["giulia"], people["luca"]
    sara = fake.add_user("Sara", "Sole")
    await _open(bot, sara, bot.token)  # type: ignore[attr-defined]
    await press(bot, sara, fake.last_sent(sara), "Bentivoglio")
    await press(bot, sara, fake.last_sent(sara), "Sindaca")
    await press(bot, giulia, request_for(fake, giulia, "Sara Sole"), "✅ Approva")
    welcome = fake.last_sent(sara)
    assert "Ecco che cosa farai qui, come Sindaca:" in welcome.text
    assert "📅 proporre le date delle riunioni del tavolo politico" in welcome.text
    assert welcome.button_texts == ["📅 Proponi le date", "🗓 Calendario", "📋 Le azioni"]
    await press(bot, sara, welcome, "🗓 Calendario")
    assert "Nessuna riunione fissata per ora." in fake.last_sent(sara).text
    await press(bot, sara, welcome, "📅 Proponi le date")
    # The wizard of /riunione answers as if she had typed it (no group is linked yet).
    assert "Prima va collegato il gruppo del tavolo" in fake.last_sent(sara).text

    # /aiuto by task: the technician's first task is the round, with its button.
    await say(bot, luca, "/aiuto")
    page = fake.last_sent(luca)
    assert page.text.startswith("Sei Funzionario tecnico, al tavolo tecnico:")
    assert "✏️ Vuoi aggiornare lo stato delle tue azioni del PAES? /aggiornamento" in page.text
    assert "Vuoi proporre le date" not in page.text
    assert page.button_texts[0] == "✏️ Aggiorna le azioni"
    # Someone in no team is told how to join.
    stranger = fake.add_user("Eva", "Esterna")
    page = await say(bot, stranger, "/aiuto")
    assert "Vuoi entrare nel Team energia della tua Unione?" in page.text
    assert not page.buttons

    # Every press is checked again: a button of another role, forged, starts nothing.
    before = len(fake.sent_to(luca))
    for data in ("help:go:riunione", "help:go:invito", "help:go:nope", "help:go:"):
        forged = await luca.press_forged(page_of(fake, luca), data)
        answer = await forged.answered()
        assert answer.show_alert and "Scrivi /aiuto" in (answer.text or ""), data
    forged = await stranger.press_forged(fake.last_sent(stranger), "help:go:team")
    assert (await forged.answered()).show_alert
    await bot.settle()
    assert len(fake.sent_to(luca)) == before
    assert "Nuova riunione" not in fake.last_sent(luca).text


def page_of(fake: object, user: FakeUser) -> object:
    return fake.last_sent(user)  # type: ignore[attr-defined]


async def test_profilo_changes_the_name_and_the_form_later(bot: BotUnderTest) -> None:
    fake = bot.fake
    people = await union_with_members(bot)
    giulia, mario = people["giulia"], people["mario"]
    # Giulia created the Union: she was never asked her form.
    shown = await say(bot, giulia, "/profilo")
    assert "Nel team ti vedono come <b>Giulia Neri</b>" in (shown.raw_text or "")
    assert "Unione Reno Galliera: Personale dell'Unione, coordinatore" in shown.text
    assert "Per il tuo ruolo preferisci il femminile o il maschile?" in shown.text
    await press(bot, giulia, shown, "Al femminile")
    shown = fake.last_sent(giulia)
    assert "Personale dell'Unione, coordinatrice" in shown.text
    assert "Il tuo ruolo è scritto al femminile (per esempio «Coordinatrice»)." in shown.text
    assert "✅ Al femminile" in shown.button_texts
    page = await say(bot, giulia, "/aiuto")
    assert page.text.startswith("Sei coordinatrice:")

    # The name chosen at joining is changed afterwards, and the team sees the new one.
    shown = await say(bot, mario, "/profilo")
    assert "Unione Reno Galliera: Sindaco" in shown.text
    await press(bot, mario, shown, "✏️ Cambia nome")
    assert "Ora è <b>Mario Rossi</b>" in (fake.last_sent(mario).raw_text or "")
    refused = await say(bot, mario, "M")
    assert "Nome non valido" in refused.text
    renamed = await say(bot, mario, "Mario Rossi (Argelato)")
    assert "Nel team ti vedono come <b>Mario Rossi (Argelato)</b>" in (renamed.raw_text or "")
    roster = await say(bot, giulia, "/team")
    assert "🏛 Mario Rossi (Argelato) — Sindaco" in roster.text

    # Someone in no team has no profile; a forged press changes nothing.
    eva = fake.add_user("Eva", "Esterna")
    answer = await say(bot, eva, "/profilo")
    assert "Non fai ancora parte di un Team energia" in answer.text
    forged = await eva.press_forged(answer, "me:form:f")
    assert (await forged.answered()).text
    forged = await eva.press_forged(answer, "me:form:zz")
    assert (await forged.answered()).text
