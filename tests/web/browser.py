"""Headless Chromium for the dashboard's tests: the system's browser (Debian's `chromium`),
driven by Playwright for Python — never a browser Playwright downloads itself.

Without Chromium (or Playwright) the browser tests are skipped with the reason; with
REQUIRE_BROWSER=1 (set by .ci/run, which installs Chromium) they fail instead, like
REQUIRE_POSTGRES for the PostgreSQL tests. Screenshots go to `.transcripts/screens/`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
SCREENS = Path(__file__).resolve().parents[2] / ".transcripts" / "screens"
PHONE = {"width": 360, "height": 740}
# What Chromium needs on a machine without a display or network (docs/HACKING.md, "Tests").
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
# A Telegram theme (dark), as the apps pass it in the address's fragment.
DARK_THEME = {
    "bg_color": "#212d3b",
    "text_color": "#ffffff",
    "hint_color": "#aaaaaa",
    "link_color": "#5eb5f7",
    "button_color": "#5288c1",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#1a2433",
}


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def unavailable_reason() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed (pip install -e '.[dev]')"
    if chromium_path() is None:
        return "Chromium is not installed (apt-get install -y chromium)"
    return None


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    reason = unavailable_reason()
    if reason is not None:
        if REQUIRE_BROWSER:
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


def telegram_launch_url(
    base: str, init_data: str, *, theme: dict[str, str] | None = None, path: str = "/app/"
) -> str:
    """The address a Telegram app opens: the Mini App's URL with its launch parameters in
    the fragment (initData in tgWebAppData, percent-encoded)."""
    fragment = (
        f"tgWebAppData={quote(init_data, safe='')}&tgWebAppVersion=8.0&tgWebAppPlatform=android"
    )
    if theme:
        fragment += "&tgWebAppThemeParams=" + quote(json.dumps(theme), safe="")
    return f"{base}{path}#{fragment}"


# Stands in for the Telegram app's side of the Mini App protocol: records what the page posts.
TELEGRAM_PROXY = """
window.__events = [];
window.TelegramWebviewProxy = {
  postEvent: function (type, data) { window.__events.push([type, data]); }
};
"""


async def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """The page (whole, scrolled) as a PNG; an SVG document needs full_page=False (Chromium
    never finishes measuring one)."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    print(f"screenshot: {path}")
    return path


async def fits_the_phone(page: Any) -> bool:
    """Nothing wider than the 360 px viewport (no sideways scrolling)."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    return bool(width <= PHONE["width"])
