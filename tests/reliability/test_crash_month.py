"""kill -9 at random moments through a scripted month of every feature, restart each time:
every confirmed vote and answer stored, no scheduled post twice, none lost silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.crash_month import run_month_scenario


# Three seeds on SQLite, one on PostgreSQL (the suite's `database_url` fixture).
@pytest.mark.parametrize(
    ("database_url", "seed"),
    [("sqlite", 11), ("sqlite", 12), ("sqlite", 13), ("postgres", 11)],
    indirect=["database_url"],
)
async def test_sigkill_through_a_month_keeps_every_promise(
    tmp_path: Path, database_url: str, seed: int
) -> None:
    report = await run_month_scenario(tmp_path, seed=seed, kills=6, database_url=database_url)
    print(report.line())
    if report.problems:  # what the bot said, for the reader of a failed run (not HTTP lines)
        lines = (tmp_path / "bot.log").read_text(encoding="utf-8", errors="replace").splitlines()
        print("\n".join(line for line in lines if "HTTP Request" not in line)[-12_000:])
    assert report.problems == []
    assert report.kills == 6
    assert report.votes_confirmed > 0
    assert report.answers_confirmed > 0
    assert report.sent > 0
