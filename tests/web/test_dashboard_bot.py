"""The dashboard from the chat's side, through the real bot and the fake Bot API (which refuses
a web_app button outside a private chat, as Telegram does): the menu button, the button under
each summary, and the public page's switch and press note in /impostazioni."""

from __future__ import annotations

from datetime import timedelta

from storage.models import LinkedChat, RoundStatus, TableKind, UpdateRound
from storage.repositories import dashboard as dashboard_repo
from tests.e2e.harness import BotUnderTest
from tests.web.conftest import WEBAPP_URL, Dash

APP_URL = WEBAPP_URL + "app/"


def _buttons(message: object) -> list[tuple[str, str | None]]:
    return [b for row in message.buttons for b in row]  # type: ignore[attr-defined]


async def test_the_menu_button_opens_the_mini_app(dash: Dash) -> None:
    button = dash.fake.bot_settings["menu_button"]
    assert button == {"type": "web_app", "text": "Cruscotto", "web_app": {"url": APP_URL}}


async def test_without_the_dashboard_nothing_changes_in_the_chat(bot: BotUnderTest) -> None:
    assert "menu_button" not in bot.fake.bot_settings
    assert not bot.fake.calls_of("setChatMenuButton")


async def _political_group(dash: Dash) -> object:
    w = dash.world
    carla, marco = w.users["coordinator"], w.users["sindaco"]
    group = dash.fake.create_group("Tavolo politico", carla, members=[marco], admins=[carla])
    await dash.fake.add_bot_to_group(group, by=carla)
    await dash.bot.settle()
    async with dash.bot.db.transaction() as s:
        s.add(
            LinkedChat(
                union_id=w.a,
                table_kind=TableKind.POLITICAL,
                chat_id=group.id,
                title="Tavolo politico",
                linked_at=dash.bot.clock.now(),
            )
        )
    return group


async def test_under_a_summary_a_link_in_groups_and_the_mini_app_in_private(dash: Dash) -> None:
    w, fake = dash.world, dash.fake
    carla = w.users["coordinator"]
    group = await _political_group(dash)
    await carla.send("/riepilogo", chat=group)
    await dash.bot.settle()
    texts = [m for m in fake.sent_to(group) if m.buttons]
    link = ("📊 Apri il cruscotto", f"https://t.me/{fake.bot.username}?startapp=u{w.a}")
    assert link in _buttons(texts[-1])
    await carla.send("/riepilogo")
    await dash.bot.settle()
    texts = [m for m in fake.sent_to(carla) if m.buttons]
    assert ("📊 Apri il cruscotto", APP_URL) in _buttons(texts[-1])
    assert texts[-1].reply_markup["inline_keyboard"][-1][0]["web_app"] == {"url": APP_URL}
    # The scheduled summary, queued in the outbox and sent by the tick: the link too.
    now = dash.bot.clock.now()
    async with dash.bot.db.transaction() as s:
        s.add(
            UpdateRound(
                union_id=w.a,
                period=f"{now.year}-{now.month:02d}",
                opened_at=now - timedelta(days=6),
                deadline_at=now - timedelta(minutes=5),
                status=RoundStatus.OPEN,
            )
        )
    before = len(fake.sent_to(group))
    await dash.bot.tick()
    posted = [m for m in fake.sent_to(group)[before:] if m.buttons]
    assert posted and link in _buttons(posted[0])


async def test_the_coordinator_switches_the_public_page_and_gets_the_press_note(
    dash: Dash,
) -> None:
    w, fake = dash.world, dash.fake
    carla, marco = w.users["coordinator"], w.users["sindaco"]
    await carla.send("/impostazioni")
    await dash.bot.settle()
    menu = fake.last_sent(carla)
    assert "🌐 Pagina pubblica" in menu.button_texts
    await carla.press(menu, "🌐 Pagina pubblica")
    await dash.bot.settle()
    view = fake.last_sent(carla)
    assert "spenta" in view.text and "▶️ Accendi" in view.button_texts
    press = await carla.press(view, "▶️ Accendi")
    await dash.bot.settle()
    assert (await press.answered()).text == "Pagina pubblica accesa."
    view = fake.last_sent(carla)
    assert "accesa" in view.text and "https://dashboard.test/p/" in view.text
    assert "/badge.svg" in view.text and "⏹ Spegni" in view.button_texts
    await carla.press(view, "📰 Bozza di comunicato stampa")
    await dash.bot.settle()
    note = fake.last_sent(carla)
    assert "BOZZA DI COMUNICATO STAMPA" in note.text
    assert "3 azioni del PAES completate" in note.text
    assert "https://dashboard.test/p/" in note.text
    for name in ("Carla", "Marco", "Luca"):
        assert name not in note.text.split("\n", 1)[1]
    # Anyone else pressing the same buttons (a forged press): refused, nothing changes.
    for data in (f"pub:off:{w.a}", f"pub:press:{w.a}", f"pub:show:{w.a}"):
        forged = await marco.press_forged(menu, data)
        await dash.bot.settle()
        assert (await forged.answered()).text.startswith("Solo chi coordina l'Unione"), data
    async with dash.bot.db.transaction() as s:
        page = await dashboard_repo.public_page(s, union_id=w.a)
    assert page is not None and page.enabled


async def test_the_public_page_buttons_work_only_in_private(dash: Dash) -> None:
    w, fake = dash.world, dash.fake
    carla = w.users["coordinator"]
    group = await _political_group(dash)
    await carla.send("/aiuto", chat=group)
    await dash.bot.settle()
    anchor = fake.last_sent(group)
    for data in (f"pub:on:{w.a}", f"pub:press:{w.a}", f"pub:show:{w.a}"):
        before = len(fake.sent_to(group))
        press = await carla.press_forged(anchor, data)
        await dash.bot.settle()
        answer = await press.answered()
        assert answer.text == "Le impostazioni si cambiano in chat privata con me.", data
        assert len(fake.sent_to(group)) == before  # nothing posted in the group
    async with dash.bot.db.transaction() as s:
        assert await dashboard_repo.public_page(s, union_id=w.a) is None
    # Garbage, or another Union's page: refused politely, in private too.
    await carla.send("/aiuto")
    await dash.bot.settle()
    private = fake.last_sent(carla)
    for data in ("pub:on:abc", "pub:zap:1", f"pub:on:{w.b}"):
        press = await carla.press_forged(private, data)
        await dash.bot.settle()
        assert (await press.answered()).text, data
    async with dash.bot.db.transaction() as s:
        assert await dashboard_repo.public_page(s, union_id=w.b) is None
