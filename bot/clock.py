"""The one source of "now": real in production, moved by hand in tests."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock for tests: starts where you say and moves only when told."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._now += delta if delta is not None else timedelta(**kwargs)
        return self._now


class FileClock:
    """Test-only: "now" is the ISO 8601 instant written in a file, read when the file changes.

    `python -m bot` uses it when the environment names a file in `TEAM_ENERGIA_TEST_CLOCK_FILE`,
    so that a test can move the time of a bot running as a child process (the crash month,
    tests/reliability/crash_month.py). Not a setting for operators: a missing or unreadable
    file keeps the last instant read (the system clock before the first one).
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._stamp: tuple[int, int] | None = None
        self._now: datetime | None = None

    def now(self) -> datetime:
        try:
            info = os.stat(self._path)
            stamp = (info.st_ino, info.st_mtime_ns)  # a file replaced as a whole is new
            if stamp != self._stamp:
                with open(self._path, encoding="utf-8") as f:
                    when = datetime.fromisoformat(f.read().strip())
                if when.tzinfo is not None:
                    self._now, self._stamp = when.astimezone(UTC), stamp
        except (OSError, ValueError):
            pass
        return self._now if self._now is not None else datetime.now(UTC)
