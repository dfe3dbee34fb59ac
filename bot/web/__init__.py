"""The dashboard's web server (issue 20): an entry point beside the handlers and the tick.

`start(application)` and `stop(application)` are called from bot.app's start-up and shutdown;
both do nothing unless WEBAPP_PORT and WEBAPP_URL are set. The server (bot/web/server.py) runs
in the bot's event loop, on WEBAPP_HOST:WEBAPP_PORT, behind an HTTPS reverse proxy
(README, "The dashboard"). Nothing heavy is imported until it starts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from telegram import MenuButtonWebApp, WebAppInfo
from telegram.error import TelegramError
from telegram.ext import Application

from bot.context import services_of
from bot.i18n import translator
from bot.views.dashboard.links import mini_app_url
from bot.views.dashboard.telegram import menu_button_text

logger = logging.getLogger(__name__)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
EXTRA = "bot.web"  # services.extras key of the running server


@dataclass
class Running:
    runner: Any  # aiohttp.web.AppRunner
    port: int
    app_url: str  # the Mini App's address (WEBAPP_URL + app/)


def running(application: AnyApplication) -> Running | None:
    value = services_of(application).extras.get(EXTRA)
    return value if isinstance(value, Running) else None


async def start(application: AnyApplication) -> None:
    services = services_of(application)
    settings = services.settings
    if settings.webapp_port is None or not settings.webapp_url or running(application):
        return
    from aiohttp import web

    from bot.web.server import make_app

    runner = web.AppRunner(
        make_app(services, application.bot), access_log=None, handle_signals=False
    )
    await runner.setup()
    site = web.TCPSite(runner, settings.webapp_host, settings.webapp_port)
    await site.start()
    port = int(runner.addresses[0][1])
    url = mini_app_url(settings.webapp_url)
    services.extras[EXTRA] = Running(runner, port, url)
    logger.info("Dashboard listening on %s:%s for %s", settings.webapp_host, port, url)
    await _menu_button(application, url)


async def _menu_button(application: AnyApplication, url: str) -> None:
    """The menu button of every private chat opens the Mini App (a nicety: never fatal)."""
    bot = application.bot
    text = menu_button_text(translator(services_of(application).settings.default_language))
    try:
        await bot.set_chat_menu_button(menu_button=MenuButtonWebApp(text, WebAppInfo(url)))
    except TelegramError:
        logger.warning("Could not set the dashboard's menu button", exc_info=True)
    try:
        has_main_app = bool(getattr(bot.bot, "has_main_web_app", False))
    except RuntimeError:  # not initialized: nothing to say
        return
    if not has_main_app:
        logger.info(
            "The bot has no main Mini App in @BotFather: the dashboard button under a group's "
            "summary opens the chat with the bot until one is set to %s",
            url,
        )


async def stop(application: AnyApplication) -> None:
    state = running(application)
    if state is None:
        return
    services_of(application).extras.pop(EXTRA, None)
    await state.runner.cleanup()


__all__ = ["running", "start", "stop"]
