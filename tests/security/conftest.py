"""Security tests run the real bot against the fake Telegram server, like tests/e2e."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import bot  # noqa: F401
from tests.fakes.fixtures import fake_telegram  # noqa: F401
from tests.fakes.telegram_server import DEFAULT_TOKEN


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/security/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def no_token_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """No log line, at any level, in any of these runs, contains the bot token."""
    caplog.set_level(logging.DEBUG)
    yield
    for record in caplog.records:
        text = f"{record.getMessage()} {record.args!r} {record.exc_text or ''}"
        assert DEFAULT_TOKEN not in text, f"{record.name} logged the token"
        assert DEFAULT_TOKEN.split(":", 1)[1] not in text, f"{record.name} logged the token"
