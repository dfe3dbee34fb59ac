"""kill -9 at random moments, restart: nothing sent twice, nothing lost silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.crash import run_crash_scenario


# Three seeds on SQLite, one on PostgreSQL (its own paths: the update id marked in the
# transaction's first query, the fixed pool, transactions the server aborts when a bot dies).
# `database_url` is the suite's fixture (tests/conftest.py), given its backend per case.
@pytest.mark.parametrize(
    ("database_url", "seed"),
    [("sqlite", 1), ("sqlite", 2), ("sqlite", 3), ("postgres", 1)],
    indirect=["database_url"],
)
async def test_sigkill_at_random_moments_keeps_the_outbox_promises(
    tmp_path: Path, database_url: str, seed: int
) -> None:
    report = await run_crash_scenario(tmp_path, seed=seed, kills=4, database_url=database_url)
    print(report.line())
    assert report.problems == []
    assert report.sent + report.uncertain == report.messages
    assert report.sent > 0
