"""Handler modules in the order they are registered (order matters in PTB: the first match
within a group wins). Each module exposes `register(application, services)`; `common` also
registers the fallbacks, which must come after every feature."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from telegram.ext import Application

from bot.context import Services
from bot.handlers import (
    actions,
    announcements,
    common,
    meetings,
    public_page,
    registration,
    settings,
    summaries,
    updates,
)


def handler_modules() -> list[ModuleType]:
    return [
        common,
        registration,
        meetings,
        actions,
        updates,
        summaries,
        announcements,
        settings,
        public_page,  # the dashboard's public page (issue 20)
    ]


def register_all(
    application: Application[Any, Any, Any, Any, Any, Any], services: Services
) -> None:
    for module in handler_modules():
        module.register(application, services)
    common.register_fallbacks(application)
