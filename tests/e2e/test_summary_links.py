"""Everything that sends someone to the private chat gives them a button to get there (issue 16).

Where the summaries' side of the bot says «in privato» — /esporta written in a group, the
spreadsheet under a summary pressed by someone the bot may not write to, /decisione written in
the technical group — the answer carries «💬 Apri la chat con me», a t.me/<bot>?start=<payload>
link (the fake server checks its shape); «Avvia» sends /start <payload>, which opens the same
dialogue. Whoever arrives is checked again: a link forwarded to someone else gives them nothing
they could not have had by typing the command.
"""

from __future__ import annotations

from tests.e2e.harness import BotUnderTest
from tests.e2e.test_summaries_story import seed


def _link(message: object) -> str:
    (row,) = message.buttons  # type: ignore[attr-defined]
    ((text, url),) = row
    assert text == "💬 Apri la chat con me"
    assert isinstance(url, str)
    return url


async def test_esporta_in_a_group_opens_the_formats_in_private(any_bot: BotUnderTest) -> None:
    bot = any_bot
    fake = bot.fake
    team = await seed(bot, comuni=2)
    sindaco, tecnico = team.users["sindaco:0"], team.users["tecnico:0"]
    await sindaco.send("/esporta", chat=team.political)
    await bot.settle()
    said = fake.last_sent(team.political)
    assert said.text == (
        "L'esportazione si chiede in privato: apri la chat con me con il pulsante qui sotto."
    )
    url = _link(said)
    payload = f"exp-{team.union_id}"
    assert url == f"https://t.me/{fake.bot.username}?start={payload}"

    await sindaco.send(f"/start {payload}")
    await bot.settle()
    offer = fake.last_sent(sindaco)
    assert (offer.text or "").startswith(
        "Esporto i dati dell'Unione (Unione Reno Galliera). In che formato?"
    )
    assert offer.button_texts == ["📤 Excel", "📤 CSV"]
    await (await sindaco.press(offer, "📤 Excel")).answered()
    await bot.settle()
    assert fake.last_sent(sindaco).document is not None

    # The same link, forwarded: a technician is told who may export, a stranger nothing more.
    await tecnico.send(f"/start {payload}")
    await bot.settle()
    assert fake.last_sent(tecnico).text == (
        "L'esportazione è riservata a chi coordina l'Unione e ai Sindaci."
    )
    stranger = fake.add_user("Estraneo", "Qualunque")
    await stranger.send(f"/start {payload}")
    await stranger.send(f"/start exp-{team.union_id + 1000}")
    await bot.settle()
    answers = [m.text for m in fake.sent_to(stranger)]
    assert answers == ["Riservato ai membri del Team energia dell'Unione."] * 2
    fake.write_transcript(".transcripts/test_summary_links_export.txt")


async def test_the_spreadsheet_reaches_who_never_started_the_bot(any_bot: BotUnderTest) -> None:
    bot = any_bot
    fake = bot.fake
    team = await seed(bot, comuni=2)
    assessore = team.users["assessore:1"]
    assessore.has_started = False
    await team.users["sindaco:0"].send("/riepilogo", chat=team.political)
    await bot.settle()
    under = next(
        m for m in fake.sent_to(team.political) if "📤 Foglio di calcolo" in m.button_texts
    )
    answer = await (await assessore.press(under, "📤 Foglio di calcolo")).answered()
    assert answer.text == "Preparo il file…"
    await bot.settle()
    said = fake.last_sent(team.political)
    assert said.text == (
        "Non riesco a scriverti in privato: apri la chat con me con il pulsante qui sotto e "
        "premi Avvia, ti mando subito il file."
    )
    payload = f"sheet-{team.union_id}"
    assert _link(said) == f"https://t.me/{fake.bot.username}?start={payload}"
    assert fake.sent_to(assessore) == []

    await assessore.send(f"/start {payload}")  # «Avvia»
    await bot.settle()
    sheet = fake.last_sent(assessore).document
    assert sheet is not None and sheet.file_name.endswith(".xlsx")


async def test_decisione_in_the_technical_group_opens_the_desk_in_private(
    any_bot: BotUnderTest,
) -> None:
    bot = any_bot
    fake = bot.fake
    team = await seed(bot, comuni=2)
    await team.coordinator.send("/decisione", chat=team.technical)
    await bot.settle()
    said = fake.last_sent(team.technical)
    assert (said.text or "").startswith(
        "Le decisioni si registrano nel gruppo del tavolo politico o in privato"
    )
    payload = f"dec-{team.union_id}"
    assert _link(said) == f"https://t.me/{fake.bot.username}?start={payload}"
    await team.coordinator.send(f"/start {payload}")
    await bot.settle()
    desk = fake.last_sent(team.coordinator)
    assert (desk.text or "").startswith("Scrivi la decisione dopo il comando, ad esempio:")
    # A technician with the same link: only the coordinator records decisions.
    tecnico = team.users["tecnico:0"]
    await tecnico.send(f"/start {payload}")
    await bot.settle()
    assert fake.last_sent(tecnico).text == (
        "Solo chi coordina l'Unione registra le decisioni del tavolo politico."
    )


async def test_annuncio_in_a_group_opens_the_private_chat(any_bot: BotUnderTest) -> None:
    """/annuncio (and /annuncio stato) are prepared in private: written in a group, the answer
    says so with a button to the chat (no payload: there the coordinator writes the command)."""
    bot = any_bot
    fake = bot.fake
    team = await seed(bot, comuni=2)
    for command in ("/annuncio Riunione spostata a venerdì", "/annuncio stato"):
        await team.coordinator.send(command, chat=team.political)
        await bot.settle()
        said = fake.last_sent(team.political)
        assert said.text == (
            "Gli avvisi si preparano in chat privata con me: aprila con il pulsante qui sotto."
        ), command
        assert _link(said) == f"https://t.me/{fake.bot.username}"
    assert fake.sent_to(team.coordinator) == []
