"""kill -9 at random moments through a scripted month of every feature, restart each time:
every confirmed vote and answer stored, no scheduled post twice, none lost silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.crash_month import run_month_scenario


@pytest.mark.parametrize("seed", [11, 12, 13])
async def test_sigkill_through_a_month_keeps_every_promise(tmp_path: Path, seed: int) -> None:
    report = await run_month_scenario(tmp_path, seed=seed, kills=6)
    print(report.line())
    assert report.problems == []
    assert report.kills == 6
    assert report.votes_confirmed > 0
    assert report.answers_confirmed > 0
    assert report.sent > 0
