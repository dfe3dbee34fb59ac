"""Several instances on one PostgreSQL: any number serve webhooks, exactly one runs the
scheduled work, and when it dies another takes over within two ticks with every scheduled
post still sent exactly once (tests/reliability/instances.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.instances import run_two_instances

TICK = 1.0


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_the_scheduler_holder_dies_mid_month_and_another_takes_over(
    tmp_path: Path, database_url: str
) -> None:
    report = await run_two_instances(tmp_path, database_url=database_url, tick=TICK)
    print(report.month.line(), f"takeover {report.takeover_seconds} s", report.served)
    assert report.problems == []
    assert report.month.problems == []
    assert report.month.kills == 1
    assert report.takeover_seconds is not None
    assert report.takeover_seconds <= 2 * TICK + 0.5  # two ticks, and the log's own latency
    assert report.month.sent > 0 and report.month.votes_confirmed > 0
    assert len(report.served) == 2 and all(n > 0 for n in report.served.values())
