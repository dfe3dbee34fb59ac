"""The dashboard in a real headless Chromium at phone width, against the real bot (its web
server and the fake Bot API) and a seeded pair of Unions: opened the way Telegram opens a Mini
App (initData in the address's fragment), then used by clicking. Screenshots of every page go
to `.transcripts/screens/` (their paths are printed)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from tests.web.browser import (
    DARK_THEME,
    PHONE,
    TELEGRAM_PROXY,
    browser,  # noqa: F401
    fits_the_phone,
    screenshot,
    telegram_launch_url,
)
from tests.web.conftest import Dash
from tests.web.world import PRIVATE_WORDS, sign_init_data

pytestmark = pytest.mark.browser


async def _phone(browser: Any) -> Any:  # noqa: F811
    context = await browser.new_context(viewport=PHONE, device_scale_factor=2, locale="it-IT")
    await context.add_init_script(TELEGRAM_PROXY)
    return context


async def _open(context: Any, dash: Dash, init_data: str, **kwargs: Any) -> Any:
    """A new tab of the phone, opened the way Telegram opens the Mini App."""
    page = await context.new_page()
    await page.goto(telegram_launch_url(dash.base, init_data, **kwargs))
    return page


async def _boot_says(page: Any, words: str) -> None:
    """Wait until the sign-in page tells the visitor something with these words. (A locator's
    wait, not `wait_for_function`: that one polls its string with `eval` inside the page once
    a first check fails, which the dashboard's CSP, rightly, refuses: a slow machine failed.)"""
    await page.locator("#boot-status", has_text=words).wait_for()


async def _events(page: Any) -> list[list[Any]]:
    return list(await page.evaluate("window.__events"))


async def test_a_member_opens_the_mini_app_and_finds_their_way(
    dash: Dash,
    browser: Any,  # noqa: F811
) -> None:
    w = dash.world
    context = await _phone(browser)
    page = await _open(context, dash, dash.init_data(w.people.coordinator))
    await page.wait_for_url(re.compile(rf"/app/u/{w.a}$"))
    assert await page.inner_text("h1") == "A che punto è il PAES"
    assert "Unione Val d'Enza" in await page.inner_text("header")
    # Landmarks a screen reader lists: banner, navigation, main.
    for role in ("banner", "navigation", "main"):
        assert await page.get_by_role(role).count() == 1, role
    assert await page.locator("svg.chart title").text_content()
    assert "Terre di Pianura" not in await page.content()
    assert await fits_the_phone(page)
    events = [e[0] for e in await _events(page)]
    assert "web_app_ready" in events and "web_app_expand" in events
    await screenshot(page, "01-overview-coordinator")

    # The actions of one Comune, filtered with the form (works without script).
    await page.get_by_role("link", name="Azioni", exact=True).click()
    await page.wait_for_url(re.compile(r"/actions$"))
    await page.get_by_label("Comune").select_option(label="Montecchio Emilia")
    await page.get_by_label("Stato").select_option(label="In corso")
    await page.get_by_role("button", name="Mostra").click()
    await page.wait_for_url(re.compile(r"comune=\d+&status=o"))
    items = await page.locator("ul.list > li").all_inner_texts()
    assert len(items) == 1 and "Illuminazione pubblica a LED di Montecchio Emilia" in items[0]
    assert await fits_the_phone(page)
    await screenshot(page, "02-actions-filtered")
    # Telegram's back button is shown here and leads back to the overview.
    assert ["web_app_setup_back_button", '{"is_visible":true}'] in await _events(page)

    await page.locator("ul.list > li a").first.click()
    await page.wait_for_url(re.compile(rf"/actions/{w.actions['A2.2']}$"))
    photo = page.locator("img.photo")
    await photo.wait_for()
    # Loaded and decoded (read through Playwright's own script, which the page's CSP allows).
    await expect(photo).to_have_js_property("complete", True)
    await expect(photo).not_to_have_js_property("naturalWidth", 0)
    assert "La ditta ha montato" in await page.inner_text("main")
    assert "Sopralluogo fatto in via Roma" in await page.inner_text("main")
    assert await fits_the_phone(page)
    await screenshot(page, "03-action-history-with-photo")

    await page.evaluate("window.Telegram.WebView.receiveEvent('back_button_pressed')")
    await page.wait_for_url(re.compile(r"/actions$"))

    for name, path, shot in (
        ("Riunioni", "meetings", "04-meetings"),
        ("Decisioni", "decisions", "05-decisions"),
        ("Comunicato", "press", "06-press-note"),
    ):
        await page.get_by_role("link", name=name, exact=True).click()
        await page.wait_for_url(re.compile(rf"/{path}$"))
        assert await fits_the_phone(page), path
        await screenshot(page, shot)
    assert "BOZZA DI COMUNICATO STAMPA" in await page.inner_text("main")
    await context.close()


async def test_inside_telegram_the_theme_is_telegrams(
    dash: Dash,
    browser: Any,  # noqa: F811
) -> None:
    w = dash.world
    context = await _phone(browser)
    page = await _open(context, dash, dash.init_data(w.people.sindaco), theme=DARK_THEME)
    await page.wait_for_url(re.compile(rf"/app/u/{w.a}$"))
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(33, 45, 59)"  # #212d3b, carried from page to page
    await page.get_by_role("link", name="Decisioni", exact=True).click()
    await page.wait_for_url(re.compile(r"/decisions$"))
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == background
    await screenshot(page, "07-decisions-dark-theme")
    await context.close()


async def test_forged_expired_and_other_union_init_data_are_refused(
    dash: Dash,
    browser: Any,  # noqa: F811
) -> None:
    w = dash.world
    context = await _phone(browser)
    valid = dash.init_data(w.people.sindaco)
    forged = valid.replace(f"%22id%22%3A{w.people.sindaco}", f"%22id%22%3A{w.people.coordinator}")
    assert forged != valid
    page = await _open(context, dash, forged)
    await _boot_says(page, "riconoscerti")
    assert "/app/u/" not in page.url
    await screenshot(page, "08-refused-forged")

    expired = sign_init_data(
        dash.fake.token,
        user_id=w.people.sindaco,
        auth_date=dash.bot.clock.now() - timedelta(hours=2),
    )
    page = await _open(context, dash, expired)
    await _boot_says(page, "scaduto")
    assert "scaduto" in await page.locator("#boot-status").inner_text()

    page = await _open(context, dash, dash.init_data(w.people.outsider))
    await _boot_says(page, "Non fai ancora parte")

    # A real member of A, at B's addresses: refused, and nothing of B on the page.
    page = await _open(context, dash, valid)
    await page.wait_for_url(re.compile(rf"/app/u/{w.a}$"))
    response = await page.goto(f"{dash.base}/app/u/{w.b}")
    assert response is not None and response.status == 403
    text = await page.inner_text("body")
    assert "riservata ai membri del Team energia" in text
    assert "Terre di Pianura" not in text and "Argelato" not in text
    await screenshot(page, "09-refused-other-union")
    response = await page.goto(f"{dash.base}/app/u/{w.b}/actions/{w.actions['B1.1']}")
    assert response is not None and response.status == 403
    assert "Biciclette" not in await page.content()
    await context.close()


async def test_a_member_of_two_unions_sees_only_what_each_allows(
    dash: Dash,
    browser: Any,  # noqa: F811
) -> None:
    """Luca: Funzionario tecnico of Montecchio Emilia in A, coordinator in B; English client."""
    w = dash.world
    context = await _phone(browser)
    page = await _open(context, dash, dash.init_data(w.people.tecnico, language="en"))
    await page.wait_for_url(re.compile(r"/app/unions$"))
    assert await page.get_by_role("link").count() >= 2
    await screenshot(page, "10-union-picker-english")

    await page.get_by_role("link", name="Unione Terre di Pianura").click()
    await page.wait_for_url(re.compile(rf"/app/u/{w.b}$"))
    assert await page.get_by_role("link", name="Press note").count() == 1
    assert "Bibbiano" not in await page.content()

    await page.get_by_role("link", name="Other Unions").click()
    await page.get_by_role("link", name="Unione Val d'Enza").click()
    await page.wait_for_url(re.compile(rf"/app/u/{w.a}$"))
    assert await page.get_by_role("link", name="Press note").count() == 0
    response = await page.goto(f"{dash.base}/app/u/{w.a}/press")
    assert response is not None and response.status == 403
    await page.goto(f"{dash.base}/app/u/{w.a}/actions/{w.actions['A1.1']}")
    main = await page.inner_text("main")
    assert "members of its municipality and the Union's coordinator" in main
    assert await page.locator("img.photo").count() == 0
    await screenshot(page, "11-history-of-another-comune-refused")
    await page.goto(f"{dash.base}/app/u/{w.a}/actions/{w.actions['A2.2']}")
    assert "La ditta ha montato" in await page.inner_text("main")
    await context.close()


async def test_the_public_page_is_404_until_the_coordinator_switches_it_on(
    dash: Dash,
    browser: Any,  # noqa: F811
) -> None:
    w = dash.world
    fake = dash.fake
    context = await browser.new_context(viewport=PHONE, device_scale_factor=2)
    page = await context.new_page()
    response = await page.goto(f"{dash.base}/p/AAAAAAAAAAAAAAAAAAAA")
    assert response is not None and response.status == 404
    await screenshot(page, "12-public-404")

    # The coordinator, in the chat with the bot: /impostazioni → Pagina pubblica → Accendi.
    carla = w.users["coordinator"]
    await carla.send("/impostazioni")
    await dash.bot.settle()
    await carla.press(fake.last_sent(carla), "🌐 Pagina pubblica")
    await dash.bot.settle()
    shown = fake.last_sent(carla).text
    assert "spenta" in shown
    await carla.press(fake.last_sent(carla), "▶️ Accendi")
    await dash.bot.settle()
    shown = fake.last_sent(carla).text
    match = re.search(r"https://dashboard\.test(/p/[A-Za-z0-9_-]+)", shown)
    assert match is not None, shown
    path = match.group(1)

    response = await page.goto(dash.base + path)
    assert response is not None and response.status == 200
    text = await page.inner_text("body")
    assert "Unione Val d'Enza" in text and "Fotovoltaico sul tetto della scuola di Bibbiano" in text
    for word in PRIVATE_WORDS:
        assert word not in text, word
    assert await page.locator("script").count() == 0
    assert await fits_the_phone(page)
    await screenshot(page, "13-public-page")
    response = await page.goto(dash.base + path + "/badge.svg")
    assert response is not None and response.status == 200
    await screenshot(page, "14-public-badge", full_page=False)

    await carla.press(fake.last_sent(carla), "⏹ Spegni")
    await dash.bot.settle()
    # A browser that saw the page may show its copy for Cache-Control's 5 minutes; a new
    # visitor gets 404 at once.
    await context.close()
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    response = await page.goto(dash.base + path)
    assert response is not None and response.status == 404
    await context.close()
