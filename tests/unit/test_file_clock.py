"""The test-only clock of `python -m bot` (TEAM_ENERGIA_TEST_CLOCK_FILE): "now" from a file."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import FileClock


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def test_now_follows_the_file_and_keeps_the_last_good_instant(tmp_path: Path) -> None:
    path = tmp_path / "clock.txt"
    clock = FileClock(str(path))
    before = datetime.now(UTC)
    assert clock.now() - before < timedelta(minutes=1)  # no file yet: the system clock
    _write(path, "2026-12-01T09:00:30+01:00")
    assert clock.now() == datetime(2026, 12, 1, 8, 0, 30, tzinfo=UTC)
    _write(path, "2026-12-06T09:00:30+01:00")
    assert clock.now() == datetime(2026, 12, 6, 8, 0, 30, tzinfo=UTC)
    _write(path, "not a date")
    assert clock.now() == datetime(2026, 12, 6, 8, 0, 30, tzinfo=UTC)
    _write(path, "2026-12-07T09:00:00")  # no zone: ignored, never guessed
    assert clock.now() == datetime(2026, 12, 6, 8, 0, 30, tzinfo=UTC)
    path.unlink()
    assert clock.now() == datetime(2026, 12, 6, 8, 0, 30, tzinfo=UTC)
