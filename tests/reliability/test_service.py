"""`python -m bot` as a service: start-up, a rejected token, outages and a second poller.

Each test runs the real bot as a child process against the fake Telegram of this process,
reads ALL it printed (stdout and stderr) and checks what an operator would read: one line per
condition, no traceback for an expected one, the token nowhere.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from bot.config import normalize_database_url
from storage import migrate
from storage.db import Database
from tests.factories import make_union
from tests.fakes.telegram_server import FakeTelegram
from tests.reliability.service import (
    CLOCK_ENV,
    STARTED,
    TOKEN,
    BotService,
    FileClock,
    stopped_at_end,
    token_leaks,
    wait_until,
)

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _sqlite(tmp_path: Path) -> str:
    return normalize_database_url(f"sqlite:///{tmp_path / 'data' / 'bot.db'}")


async def _seed_union(url: str) -> None:
    db = Database(url)
    try:
        await migrate.upgrade(db)
        async with db.transaction() as session:
            await make_union(session, now=START)
    finally:
        await db.dispose()


def _assert_clean(service: BotService) -> None:
    text = service.output()
    assert token_leaks(text) == [], text
    assert "Traceback" not in text, text


async def _welcome(fake: FakeTelegram) -> None:
    """The bot answers a person's /start."""
    mario = fake.add_user("Mario", "Rossi")
    await mario.send("/start")
    await wait_until(lambda: fake.sent_to(mario), timeout=20)


async def test_rejected_token_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    """Telegram answers 401 (InvalidToken, whose message holds the token): one line, exit 2,
    the token nowhere in stdout or stderr."""
    async with FakeTelegram() as fake:  # its token is not ours: every call is 401
        bot = BotService.for_fake(tmp_path, fake, _sqlite(tmp_path))
        await bot.start()
        status = await bot.wait_exit(timeout=60)
    assert status == 2, bot.output()
    errors = bot.lines("Errore di configurazione")
    assert errors == [
        "Errore di configurazione: Telegram rifiuta TELEGRAM_BOT_TOKEN (401 Unauthorized): "
        "controlla il token con @BotFather"
    ], bot.output()
    _assert_clean(bot)


async def test_no_telegram_at_start_retries_one_line_each_then_serves(tmp_path: Path) -> None:
    """Telegram unreachable at start (a closed port): one WARNING per attempt with a growing
    wait, no traceback; when it comes up the bot starts, says who and how it runs, answers."""
    url = _sqlite(tmp_path)
    await _seed_union(url)
    async with FakeTelegram(token=TOKEN) as fake:
        await fake.go_offline()
        bot = BotService.for_fake(tmp_path, fake, url)
        async with stopped_at_end(bot):
            await bot.start()
            attempts = await bot.wait_log("Telegram not reachable at start", count=3)
            assert "attempt 1:" in attempts[0] and "next attempt in 1 s" in attempts[0]
            assert "attempt 2:" in attempts[1] and "next attempt in 2 s" in attempts[1]
            assert "attempt 3:" in attempts[2] and "next attempt in 4 s" in attempts[2]
            await fake.go_online()
            [started] = await bot.wait_log(STARTED, timeout=30)
            assert "@TeamEnergiaTestBot started: polling;" in started
            assert f"database {url};" in started
            assert "time zone Europe/Rome; Unions: 1" in started
            assert bot.lines("Command menus set")
            await _welcome(fake)
            assert await bot.stop() == 0
    _assert_clean(bot)
    # While it waited, the attempts' lines were all it printed.
    lines = bot.output().splitlines()
    first = next(n for n, line in enumerate(lines) if "not reachable at start" in line)
    waiting = lines[first : next(n for n, line in enumerate(lines) if "Command menus set" in line)]
    assert all("Telegram not reachable at start" in line for line in waiting), waiting


async def test_database_password_is_not_in_the_start_line(tmp_path: Path) -> None:
    from bot.runner import database_for_log

    shown = database_for_log("postgresql+asyncpg://team:s3cret-pw@db.example:5432/te")
    assert shown == "postgresql+asyncpg://team:***@db.example:5432/te"


async def test_outage_while_running_is_three_lines(tmp_path: Path) -> None:
    """Telegram goes away while the bot runs: one warning, a reminder only after five minutes
    (of the bot's clock), one line when it is back — no traceback, no «Error outside an
    update» every few seconds (1,187 lines in 2.5 minutes before)."""
    url = _sqlite(tmp_path)
    clock = FileClock(tmp_path / "clock.txt", START)
    async with FakeTelegram(token=TOKEN) as fake:
        # A tick a second: at 0.2 s a loaded machine makes APScheduler skip (and say so).
        env = {CLOCK_ENV: str(clock.path), "TICK_SECONDS": "1"}
        bot = BotService.for_fake(tmp_path, fake, url, env=env)
        async with stopped_at_end(bot):
            await bot.start()
            await bot.wait_log(STARTED)
            await _welcome(fake)
            await fake.go_offline()
            [down] = await bot.wait_log("Telegram unreachable (", timeout=30)
            assert "WARNING" in down and "retrying" in down
            polls = len(fake.calls_of("getUpdates"))
            # Several failed polls later, still one line (PTB retries every 1-30 s).
            await asyncio.sleep(4)
            assert len(bot.lines("Telegram unreachable (")) == 1
            assert bot.lines("still unreachable") == []
            clock.advance(minutes=3)  # the health check's stall (2 min) is this same outage
            await asyncio.sleep(2)
            clock.advance(minutes=3)  # now past the reminder's 5 minutes
            [reminder] = await bot.wait_log("Telegram still unreachable after", timeout=40)
            assert "6 min" in reminder
            await fake.go_online()
            [back] = await bot.wait_log("Telegram reachable again after", timeout=40)
            assert "INFO" in back
            await _welcome(fake)
            assert len(fake.calls_of("getUpdates")) > polls
            assert await bot.stop() == 0
    _assert_clean(bot)
    assert bot.lines("Error outside an update") == []
    assert bot.lines("Polling has not succeeded") == []  # the link said it already
    outage = bot.output().split("Telegram unreachable (", 1)[1].split("reachable again", 1)[0]
    outage_lines = [line for line in outage.splitlines() if "apscheduler" not in line]
    assert len(outage_lines) <= 3, outage


async def test_a_second_poller_gives_way_and_the_first_keeps_serving(tmp_path: Path) -> None:
    """Two copies polling with one token: Telegram answers 409 Conflict to each in turn.
    The copy just started stops after 15 s of conflicts with one line and exit 3; the one
    already running warns once and keeps answering."""
    clock = FileClock(tmp_path / "clock.txt", START)
    async with FakeTelegram(token=TOKEN) as fake:
        first = BotService.for_fake(
            tmp_path / "first", fake, _sqlite(tmp_path / "first"), env={CLOCK_ENV: str(clock.path)}
        )
        second = BotService.for_fake(
            tmp_path / "second",
            fake,
            _sqlite(tmp_path / "second"),
            env={CLOCK_ENV: str(clock.path)},
        )
        async with stopped_at_end(first, second):
            await first.start()
            await first.wait_log(STARTED)
            clock.advance(minutes=2)
            await second.start()
            await second.wait_log("409 Conflict", timeout=60)
            clock.advance(seconds=20)
            status = await second.wait_exit(timeout=90)
            assert status == 3, second.output()
            [line] = second.lines("Another copy of this bot is already receiving updates")
            assert "ERROR" in line and "409" in line
            assert first.running
            assert len(first.lines("409 Conflict")) <= 1
            await _welcome(fake)
            assert await first.stop() == 0
    for bot in (first, second):
        _assert_clean(bot)


def test_an_unexpected_crash_is_logged_redacted_and_exits_1(tmp_path: Path) -> None:
    """A bug that escapes everything: its traceback goes through the redacting log, never
    Python's own printing (which would show the token carried by a request URL)."""
    import os
    import subprocess
    import sys

    from tests.reliability.service import REPO

    code = (
        "import bot.__main__ as m\n"
        "def boom(settings):\n"
        "    raise RuntimeError('POST https://api.telegram.org/bot' + settings.token + '/getMe')\n"
        "m._run = boom\n"
        "m.main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(REPO),
            "TELEGRAM_BOT_TOKEN": TOKEN,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    text = result.stdout + result.stderr
    assert "CRITICAL bot: Unexpected error: the bot stops" in text
    assert "RuntimeError: POST https://api.telegram.org/bot<token>/getMe" in text
    assert token_leaks(text) == [], text
