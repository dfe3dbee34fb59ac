"""A polling stall is noticed: one WARNING, a health file that says so, and recovery."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import health
from tests.e2e.harness import BotUnderTest


def _read(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "Polling has not succeeded" in r.getMessage()
    ]


async def test_polling_stall_is_logged_once_and_written(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    path = Path(bot.settings.health_file or "")
    await bot.fake.wait_for(lambda: bot.services.last_poll_ok_at is not None)
    await bot.tick()
    state = _read(path)
    assert state["status"] == "ok" and state["last_poll_ok_at"]
    assert health.verdict(state, bot.clock.now())[0]

    updater = bot.application.updater
    assert updater is not None
    await updater.stop()  # getUpdates no longer succeeds
    await bot.advance(seconds=119)
    assert _warnings(caplog) == []
    await bot.advance(seconds=2)
    assert len(_warnings(caplog)) == 1
    state = _read(path)
    assert state["status"] == "polling_stalled"
    healthy, line = health.verdict(state, bot.clock.now())
    assert not healthy and "polling_stalled" in line
    await bot.advance(minutes=10)
    assert len(_warnings(caplog)) == 1  # once per stall, not at every tick

    await updater.start_polling(poll_interval=0, timeout=1)
    await bot.fake.wait_for(lambda: bot.services.last_poll_ok_at == bot.clock.now())
    await bot.tick()
    assert _read(path)["status"] == "ok"
    assert any(r.getMessage() == "Polling works again" for r in caplog.records)


async def test_failing_getupdates_is_a_stall_too(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await bot.fake.wait_for(lambda: bot.services.last_poll_ok_at is not None)
    bot.fake.fail_next("getUpdates", 502, "Bad Gateway", count=10**6)
    # Wait for a failed poll: a long poll already in flight could still succeed before it.
    await bot.fake.wait_for(lambda: any(not c.ok for c in bot.fake.calls_of("getUpdates")))
    bot.clock.advance(minutes=3)
    await bot.settle()
    from bot.jobs import run_tick

    await run_tick(bot.application)
    # Said once, by the link's watch when the first poll failed (bot.telegram_link); the
    # health check does not say it again, and its file tells the supervisor.
    outage = [r for r in caplog.records if "Telegram unreachable" in r.getMessage()]
    assert len(outage) == 1 and outage[0].levelno == logging.WARNING
    assert _warnings(caplog) == []
    assert _read(Path(bot.settings.health_file or ""))["status"] == "polling_stalled"
    bot.fake.clear_faults()


def test_verdict_of_a_stale_or_missing_file() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert health.verdict(None, now) == (False, "no health file: is the bot running?")
    old = {"status": "ok", "checked_at": (now - timedelta(minutes=6)).isoformat()}
    assert not health.verdict(old, now)[0]
    assert not health.verdict({"checked_at": "yesterday"}, now)[0]
    # Not the bot's file: an answer, not a traceback.
    for odd in ([1], "ok", {"checked_at": "2026-12-01T08:00:00"}):  # the last: no time zone
        assert health.verdict(odd, now) == (False, "unreadable health file")  # type: ignore[arg-type]


def test_health_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import UTC, datetime

    path = tmp_path / "health.json"
    assert health.main([str(path)]) == 1
    health.write_state(
        path, {"status": "ok", "checked_at": datetime.now(UTC).isoformat(), "last_poll_ok_at": "x"}
    )
    assert health.main([str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("ok")


def test_rhythm_and_health_settings() -> None:
    from bot.config import ConfigError, load_settings

    base = {"TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35}
    settings = load_settings(base)
    assert settings.tick_seconds == 30 and settings.health_file == "data/health.json"
    assert settings.concurrent_updates == 4
    settings = load_settings(
        base | {"TICK_SECONDS": "0.5", "HEALTH_FILE": "/run/te.json", "CONCURRENT_UPDATES": "1"}
    )
    assert (settings.tick_seconds, settings.health_file, settings.concurrent_updates) == (
        0.5,
        "/run/te.json",
        1,
    )
    for key, bad in [
        ("TICK_SECONDS", "abc"),
        ("TICK_SECONDS", "0"),
        ("TICK_SECONDS", "nan"),
        ("CONCURRENT_UPDATES", "0"),
        ("CONCURRENT_UPDATES", "x"),
    ]:
        with pytest.raises(ConfigError, match=key):
            load_settings(base | {key: bad})
