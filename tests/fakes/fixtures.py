"""Pytest fixtures and helpers for tests that run the real PTB against ``FakeTelegram``.

Import the fixture from a ``conftest.py``::

    from tests.fakes.fixtures import fake_telegram  # noqa: F401
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from telegram import Update
from telegram.ext import Application, ApplicationBuilder

from tests.fakes.telegram_server import FakeTelegram

__all__ = ["application_builder", "fake_telegram", "running_application"]


@pytest_asyncio.fixture
async def fake_telegram(request: pytest.FixtureRequest) -> AsyncIterator[FakeTelegram]:
    """A started ``FakeTelegram``; its transcript goes to ``.transcripts/<test name>.txt``."""
    fake = FakeTelegram()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
        if fake.transcript():
            name = re.sub(r"[^\w.\-\[\]]+", "_", request.node.name)
            fake.write_transcript(request.config.rootpath / ".transcripts" / f"{name}.txt")


def application_builder(fake: FakeTelegram) -> ApplicationBuilder[Any, Any, Any, Any, Any, Any]:
    """An ``ApplicationBuilder`` pointed at the fake (add handlers/persistence, then build)."""
    return (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
    )


@contextlib.asynccontextmanager
async def running_application(
    fake: FakeTelegram, app: Application[Any, Any, Any, Any, Any, Any], poll_timeout: int = 1
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """Initialize, start and poll; stop and shut down cleanly on exit.

    ``fake.settle()`` then also waits until PTB has no update queued or in progress.
    """

    def ptb_has_no_update_in_progress() -> bool:  # named in settle()'s timeout
        return app.update_queue.empty() and app.update_processor.current_concurrent_updates == 0

    idle = fake.add_idle_check(ptb_has_no_update_in_progress)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(
        poll_interval=0, timeout=poll_timeout, allowed_updates=Update.ALL_TYPES
    )
    try:
        yield app
    finally:
        if app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        fake.remove_idle_check(idle)
