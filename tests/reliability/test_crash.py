"""kill -9 at random moments, restart: nothing sent twice, nothing lost silently."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import pg_server
from tests.reliability.crash import fresh_postgres_database, run_crash_scenario

REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"


async def crash_database_url(request: pytest.FixtureRequest, backend: str) -> str | None:
    """None for SQLite (the scenario makes its file); a fresh database on the suite's
    PostgreSQL server; like the `database_url` fixture, a missing server is a skip, or a
    failure under REQUIRE_POSTGRES=1."""
    if backend == "sqlite":
        return None
    pg: pg_server.PgServer | None = request.getfixturevalue("pg")
    if pg is None:
        message = f"PostgreSQL not available: {pg_server.unavailable_reason()}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    return await fresh_postgres_database(pg.admin_url)


# Three seeds on SQLite, one on PostgreSQL (its own paths: the update id marked in the
# transaction's first query, the fixed pool, transactions the server aborts when a bot dies).
@pytest.mark.parametrize(
    ("backend", "seed"), [("sqlite", 1), ("sqlite", 2), ("sqlite", 3), ("postgres", 1)]
)
async def test_sigkill_at_random_moments_keeps_the_outbox_promises(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, seed: int
) -> None:
    url = await crash_database_url(request, backend)
    report = await run_crash_scenario(tmp_path, seed=seed, kills=4, database_url=url)
    print(report.line())
    assert report.problems == []
    assert report.sent + report.uncertain == report.messages
    assert report.sent > 0
