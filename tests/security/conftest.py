"""Security tests run the real bot against the fake Telegram server, like tests/e2e."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import bot  # noqa: F401
from tests.fakes.fixtures import fake_telegram  # noqa: F401


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/security/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)
