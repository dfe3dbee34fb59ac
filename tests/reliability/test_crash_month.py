"""kill -9 at random moments through a scripted month of every feature, restart each time:
every confirmed vote and answer stored, no scheduled post twice, none lost silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.crash_month import run_month_scenario
from tests.reliability.test_crash import crash_database_url


# Three seeds on SQLite, one on PostgreSQL.
@pytest.mark.parametrize(
    ("backend", "seed"), [("sqlite", 11), ("sqlite", 12), ("sqlite", 13), ("postgres", 11)]
)
async def test_sigkill_through_a_month_keeps_every_promise(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, seed: int
) -> None:
    url = await crash_database_url(request, backend)
    report = await run_month_scenario(tmp_path, seed=seed, kills=6, database_url=url)
    print(report.line())
    assert report.problems == []
    assert report.kills == 6
    assert report.votes_confirmed > 0
    assert report.answers_confirmed > 0
    assert report.sent > 0
