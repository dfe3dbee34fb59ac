"""kill -9 at random moments, restart: nothing sent twice, nothing lost silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.crash import run_crash_scenario


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_sigkill_at_random_moments_keeps_the_outbox_promises(
    tmp_path: Path, seed: int
) -> None:
    report = await run_crash_scenario(tmp_path, seed=seed, kills=4)
    print(report.line())
    assert report.problems == []
    assert report.sent + report.uncertain == report.messages
    assert report.sent > 0
